// System health: each monitored host (CPU, memory, disk, network, last seen, stale marked) and Vigil itself
// (events per second per stage, queue depth, drops, errors, store size, rules and models).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api.js';
import { ago, bytes, num, pct, show } from '../lib/format.js';
import { useLive, useLoad } from '../lib/hooks.js';
import { live } from '../lib/stream.js';
import type { HealthMessage, HostSummary } from '../lib/types.js';
import type { ProcessEntry } from '../../../src/bus/process.js';
import { Chart } from '../components/chart.js';
import { Empty, Failure, Loading, Panel, Stat } from '../components/ui.js';

function sum(values: Record<string, number> | undefined): number {
  return Object.values(values ?? {}).reduce((s, v) => s + v, 0);
}

function Meter(props: { value: number | undefined; label: string; detail?: string }) {
  if (props.value === undefined) return <span class="muted">–</span>;
  const v = props.value;
  const tone = v > 0.9 ? 'bad' : v > 0.75 ? 'warn' : 'ok';
  return (
    <span class="meter" title={`${props.label} ${pct(v)}${props.detail ? ` (${props.detail})` : ''}`} data-testid={`meter-${props.label}`}>
      <span class="meter-track">
        <span class={`meter-fill meter-${tone}`} style={{ width: `${Math.min(100, v * 100)}%` }} />
      </span>
      <span class="meter-num">{pct(v)}</span>
    </span>
  );
}

/** The fullest filesystem: what runs out first. */
function fullest(host: HostSummary): { mount: string; used: number } | undefined {
  let best: { mount: string; used: number } | undefined;
  for (const [mount, fs] of Object.entries(host.filesystems)) if (!best || fs.used_pct > best.used) best = { mount, used: fs.used_pct };
  return best;
}

function Hosts() {
  const hosts = useLoad((signal) => api<{ total: number; stale: number; hosts: HostSummary[] }>('/api/v1/hosts', { signal }), []);
  // Collectors report every few seconds: keep the figures and "last seen" current without a reload.
  useEffect(() => {
    const timer = window.setInterval(() => hosts.reload(), 5000);
    return () => window.clearInterval(timer);
  }, []);
  if (hosts.error) return <Failure error={hosts.error} what="Per-host health" />;
  if (!hosts.data) return <Loading what="hosts" />;
  if (hosts.data.hosts.length === 0) return <Empty>No host has sent anything yet.</Empty>;
  return (
    <table class="table" data-testid="host-table">
      <thead>
        <tr>
          <th>Host</th>
          <th>CPU</th>
          <th>Memory</th>
          <th>Disk (fullest)</th>
          <th class="num">Network in</th>
          <th class="num">Network out</th>
          <th class="num">Events</th>
          <th>Last seen</th>
        </tr>
      </thead>
      <tbody>
        {hosts.data.hosts.map((h) => {
          const disk = fullest(h);
          const logsOnly = !h.collector;
          return (
            <tr key={h.name} class={h.stale ? 'stale' : ''} data-testid="host-row" data-host={h.name}>
              <td>
                {h.name} {h.stale ? <span class="pill pill-warn" data-testid="stale">stale</span> : null}
                {logsOnly ? <div class="muted small">logs only, no collector</div> : h.agent ? <div class="muted small">remote agent</div> : null}
              </td>
              <td>
                <Meter label="cpu" value={h.metrics?.cpu_usage} detail={h.metrics?.load?.['1'] !== undefined ? `load ${h.metrics.load['1']}` : undefined} />
              </td>
              <td>
                <Meter label="memory" value={h.metrics?.memory_used_pct} detail={h.metrics?.memory_total_bytes !== undefined ? `of ${bytes(h.metrics.memory_total_bytes)}` : undefined} />
              </td>
              <td>
                <Meter label="disk" value={disk?.used} detail={disk?.mount} />
              </td>
              <td class="num">{h.network ? `${bytes(h.network.in_bytes_per_sec)}/s` : '–'}</td>
              <td class="num">{h.network ? `${bytes(h.network.out_bytes_per_sec)}/s` : '–'}</td>
              <td class="num">{num(h.events)}</td>
              <td title={h.last_collected ? `collector data ${ago(h.last_collected)}` : undefined}>{ago(h.last_seen)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The api role's `components.roles` in GET /api/v1/health (src/pipeline/roles.ts). */
interface DeploymentHealth {
  ok: boolean;
  store: number;
  analyze: number;
  ingest: number;
  api: number;
  processes: ProcessEntry[];
  error?: string;
}

/** The processes of a deployment over the bus (`vigil start --role …`): only the api role reports them. */
function Deployment(props: { roles: DeploymentHealth }) {
  const { roles } = props;
  const missing = roles.store === 0 ? 'no store role answers: alerts, incidents, rules and models are unavailable' : roles.analyze === 0 ? 'no analyze worker: nothing is being detected' : undefined;
  return (
    <Panel title={`Deployment: ${roles.ingest} ingest, ${roles.analyze} analyze, ${roles.store} store, ${roles.api} api`} class="panel-table">
      {missing || roles.error ? <div class="state-error">{roles.error ?? missing}</div> : null}
      <table class="table" data-testid="process-table">
        <thead>
          <tr>
            <th>Roles</th>
            <th>Host</th>
            <th>Process</th>
            <th>Version</th>
            <th>Work</th>
            <th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          {roles.processes.map((p) => (
            <tr key={p.id} data-testid="process-row">
              <td>{p.roles.join(', ')}</td>
              <td>{p.host}</td>
              <td class="mono small">
                {p.pid}
                {p.url ? <div class="muted small">{p.url}</div> : null}
              </td>
              <td>{p.version}</td>
              <td class="muted small">
                {Object.entries(p.details ?? {})
                  .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
                  .join(' · ')}
              </td>
              <td>{ago(p.seen_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

/** Per-stage rates from successive counter snapshots. */
function useStageRates() {
  const prev = useRef<HealthMessage | undefined>(live.health);
  const [history, setHistory] = useState<{ at: number; received: number; parsed: number; stored: number }[]>([]);
  const [health, setHealth] = useState<HealthMessage | undefined>(live.health);
  useLive('health', (h) => {
    const before = prev.current;
    prev.current = h;
    setHealth(h);
    if (!before) return;
    const dt = (Date.parse(h.at) - Date.parse(before.at)) / 1000;
    if (!(dt > 0)) return;
    const rate = (name: string) => Math.max(0, (sum(h.counters[name]) - sum(before.counters[name])) / dt);
    setHistory((list) => [...list.slice(-149), { at: Date.parse(h.at) / 1000, received: rate('events_received_total'), parsed: rate('events_parsed_total'), stored: rate('events_stored_total') }]);
  });
  return { health, history };
}

export function HealthPage() {
  const { health, history } = useStageRates();
  const rules = useLoad((signal) => api<{ rules?: unknown[]; total?: number }>('/api/v1/rules', { signal }), []);
  const models = useLoad((signal) => api<{ models?: unknown[]; total?: number }>('/api/v1/models', { signal }), []);
  const status = useLoad((signal) => api<{ status: string; version: string; uptime_s: number; components?: { roles?: DeploymentHealth } }>('/api/v1/health', { signal }), []);
  const roles = status.data?.components?.roles;
  const last = history[history.length - 1];
  const chart = useMemo(
    () => [history.map((h) => h.at), history.map((h) => h.received), history.map((h) => h.parsed), history.map((h) => h.stored)],
    [history],
  );
  const c = health?.counters;
  const count = (x: { data?: { rules?: unknown[]; models?: unknown[]; total?: number } | undefined; error?: ApiError | undefined }, key: 'rules' | 'models') =>
    x.error ? (x.error.status === 404 ? 'n/a' : '–') : x.data ? num(x.data.total ?? x.data[key]?.length ?? 0) : '…';
  return (
    <div class="page" data-testid="page-health">
      <header class="page-head">
        <h1>System health</h1>
        {status.data ? (
          <span class={`pill ${status.data.status === 'ok' ? 'pill-ok' : 'pill-warn'}`}>
            {status.data.status} · v{status.data.version} · up {Math.round(status.data.uptime_s / 60)} min
          </span>
        ) : null}
      </header>
      <Panel title="Monitored hosts" class="panel-table">
        <Hosts />
      </Panel>
      {roles ? <Deployment roles={roles} /> : null}
      <h2 class="section">Vigil</h2>
      <div class="stats">
        <Stat label="Received / s" value={last ? num(last.received) : '…'} />
        <Stat label="Stored / s" value={last ? num(last.stored) : '…'} />
        <Stat label="Queue depth" value={health ? num(health.queue_depth) : '…'} tone={health?.congested ? 'bad' : undefined} hint={health?.congested ? 'congested: inputs are told to back off' : 'events waiting for the store'} />
        <Stat label="Dropped" value={c ? num(sum(c.events_dropped_total)) : '…'} tone={c && sum(c.events_dropped_total) > 0 ? 'warn' : undefined} hint="since start" />
        <Stat label="Errors" value={c ? num(sum(c.store_errors_total) + sum(c.detector_errors_total)) : '…'} hint="store writes, detectors" />
        <Stat label="Stored events" value={health?.store ? num(health.store.events) : '…'} hint={health?.store ? bytes(health.store.bytes) : undefined} />
        <Stat label="Rules" value={count(rules, 'rules')} />
        <Stat label="Models" value={count(models, 'models')} />
      </div>
      <div class="grid grid-2-1">
        <Panel title="Events per second by stage">
          {history.length < 2 ? <Empty>Measuring… (rates appear after two health reports, about 4 s)</Empty> : (
            <Chart
              data={chart}
              series={[
                { label: 'received', color: '#38bdf8' },
                { label: 'parsed', color: '#a78bfa' },
                { label: 'stored', color: '#34d399' },
              ]}
              height={200}
            />
          )}
        </Panel>
        <Panel title="Counters">
          {!c ? (
            <Loading />
          ) : (
            <div class="table-wrap">
            <table class="table table-compact" data-testid="counters">
              <tbody>
                {Object.entries(c).flatMap(([name, values]) =>
                  Object.entries(values).map(([labels, v]) => (
                    <tr key={name + labels}>
                      <td class="mono small nowrap">{name}</td>
                      <td class="muted small nowrap">{labels === 'total' ? '' : labels}</td>
                      <td class="num">{num(v)}</td>
                    </tr>
                  )),
                )}
                <tr>
                  <td class="mono small">stream clients</td>
                  <td class="muted small">{show(health?.stream.dropped_clients)} dropped as slow</td>
                  <td class="num">{num(health?.stream.clients)}</td>
                </tr>
              </tbody>
            </table>
            </div>
          )}
        </Panel>
      </div>
    </div>
  );
}
