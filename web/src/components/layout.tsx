// The frame around every page: navigation, who is logged in, the live status and the stream-down banner.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { num } from '../lib/format.js';
import { useLive } from '../lib/hooks.js';
import { withFilters } from '../lib/router.js';
import { live, POLL_MS, type LiveStatus } from '../lib/stream.js';
import type { Me } from '../lib/types.js';
import { Link } from './ui.js';

const NAV = [
  { path: '/overview', label: 'Overview', icon: '◧' },
  { path: '/logs', label: 'Logs', icon: '≣' },
  { path: '/alerts', label: 'Alerts', icon: '⚑' },
  { path: '/incidents', label: 'Incidents', icon: '▣' },
  { path: '/map', label: 'Threat map', icon: '◍' },
  { path: '/health', label: 'System health', icon: '♥' },
  { path: '/rules', label: 'Rules', icon: '⚙' },
  { path: '/models', label: 'Models', icon: '∿' },
];

export function LiveBadge() {
  const [status, setStatus] = useState<LiveStatus>(live.status);
  const [rate, setRate] = useState<number | undefined>(undefined);
  useLive('status', setStatus);
  useLive('rates', (r) => setRate(r.total));
  return (
    <span class={`live live-${status}`} data-testid="live-status" title={status === 'live' ? 'Connected to the live stream' : status === 'polling' ? 'Live stream down: polling' : 'Connecting…'}>
      <span class="live-dot" />
      {status === 'live' ? `Live · ${num(rate ?? 0)} ev/s` : status === 'polling' ? 'Polling' : 'Connecting'}
    </span>
  );
}

export function Layout(props: { me: Me; path: string; children: ComponentChildren; onLogout: () => void }) {
  const [status, setStatus] = useState<LiveStatus>(live.status);
  const [openAlerts, setOpenAlerts] = useState(0);
  useLive('status', setStatus);
  useLive('alert', (m) => {
    if (m.change === 'created') setOpenAlerts((n) => n + 1);
  });
  useEffect(() => setOpenAlerts(0), [props.path.startsWith('/alerts')]);
  const section = '/' + (props.path.split('/')[1] || 'overview');
  return (
    <div class="shell">
      <nav class="sidebar" aria-label="Pages">
        <div class="brand">
          <img src="/assets/favicon.svg" alt="" width={26} height={26} />
          <span>Vigil</span>
        </div>
        <ul>
          {NAV.map((n) => (
            <li key={n.path}>
              <Link href={n.path === '/logs' || n.path === '/overview' || n.path === '/map' ? withFilters(n.path) : n.path} class={section === n.path ? 'active' : ''}>
                <span class="nav-icon" aria-hidden="true">
                  {n.icon}
                </span>
                {n.label}
                {n.path === '/alerts' && openAlerts > 0 && section !== '/alerts' ? <span class="nav-count">{openAlerts}</span> : null}
              </Link>
            </li>
          ))}
        </ul>
        <div class="sidebar-foot">
          <LiveBadge />
          <div class="me">
            <span class="me-name">{props.me.user}</span>
            <span class="me-role">{props.me.role}</span>
          </div>
          <button type="button" class="btn btn-ghost btn-sm" onClick={props.onLogout}>
            Sign out
          </button>
        </div>
      </nav>
      <main class="main">
        {status === 'polling' ? (
          <div class="banner banner-warn" role="status" data-testid="stream-down">
            The live stream is down. Vigil refreshes every {POLL_MS / 1000} s and keeps trying to reconnect.
          </div>
        ) : null}
        {props.children}
      </main>
    </div>
  );
}
