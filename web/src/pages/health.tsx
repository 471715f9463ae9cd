// System health: each monitored host (CPU, memory, disk, network, last seen, stale marked) and Vigil itself
// (events per second per stage, queue depth, drops, errors, store size, rules and models).
import { useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, qs } from '../lib/api.js';
import { ago, bytes, num, pct, show } from '../lib/format.js';
import { useLive, useLoad } from '../lib/hooks.js';
import { live } from '../lib/stream.js';
import type { HealthMessage, SearchResult, Top } from '../lib/types.js';
import { Chart } from '../components/chart.js';
import { Empty, Failure, Loading, Panel, Stat } from '../components/ui.js';

interface HostHealth {
  name: string;
  last_seen?: string;
  stale?: boolean;
  [key: string]: unknown;
}

function sum(values: Record<string, number> | undefined): number {
  return Object.values(values ?? {}).reduce((s, v) => s + v, 0);
}

/** A number found under any of a few likely names, for the per-host metrics whose exact shape is still settling. */
function metric(host: Record<string, unknown>, ...paths: string[]): number | undefined {
  for (const p of paths) {
    let cur: unknown = host;
    for (const part of p.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
    if (typeof cur === 'number' && Number.isFinite(cur)) return cur;
  }
  return undefined;
}

function Meter(props: { value: number | undefined; label: string }) {
  if (props.value === undefined) return <span class="muted">–</span>;
  const v = props.value > 1 ? props.value / 100 : props.value;
  const tone = v > 0.9 ? 'bad' : v > 0.75 ? 'warn' : 'ok';
  return (
    <span class="meter" title={`${props.label} ${pct(v)}`}>
      <span class="meter-track">
        <span class={`meter-fill meter-${tone}`} style={{ width: `${Math.min(100, v * 100)}%` }} />
      </span>
      <span class="meter-num">{pct(v)}</span>
    </span>
  );
}

function Hosts() {
  const hosts = useLoad((signal) => api<{ hosts: HostHealth[] }>('/api/v1/hosts', { signal }), []);
  const fallback = useLoad(
    async (signal) => {
      if (!hosts.error) return undefined;
      const top = await api<Top>(`/api/v1/events/top${qs({ field: 'host.name', size: 20, from: 'now-7d' })}`, { signal });
      return Promise.all(
        top.values.map(async (v) => {
          const last = await api<SearchResult>(`/api/v1/events${qs({ q: `host.name:"${v.value.replace(/[\\"]/g, (c) => `\\${c}`)}"`, limit: 1, from: 'now-7d' })}`, { signal });
          return { name: v.value, count: v.count, last: last.events[0]?.['@timestamp'] };
        }),
      );
    },
    [hosts.error],
  );
  if (hosts.error) {
    return (
      <>
        <Failure error={hosts.error} what="Per-host metrics" />
        {hosts.error.status === 404 ? (
          <>
            <h3 class="subhead">Hosts seen in events (last 7 days)</h3>
            {!fallback.data ? (
              <Loading />
            ) : fallback.data.length === 0 ? (
              <Empty>No events name a host yet.</Empty>
            ) : (
              <table class="table table-compact">
                <thead>
                  <tr>
                    <th>Host</th>
                    <th class="num">Events</th>
                    <th>Last event</th>
                  </tr>
                </thead>
                <tbody>
                  {fallback.data.map((h) => {
                    const stale = !h.last || Date.now() - Date.parse(h.last) > 10 * 60_000;
                    return (
                      <tr key={h.name} class={stale ? 'stale' : ''}>
                        <td>
                          {h.name} {stale ? <span class="pill pill-warn">stale</span> : null}
                        </td>
                        <td class="num">{num(h.count)}</td>
                        <td>{ago(h.last)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
          </>
        ) : null}
      </>
    );
  }
  if (!hosts.data) return <Loading what="hosts" />;
  if (hosts.data.hosts.length === 0) return <Empty>No monitored hosts have reported yet.</Empty>;
  return (
    <table class="table" data-testid="host-table">
      <thead>
        <tr>
          <th>Host</th>
          <th>CPU</th>
          <th>Memory</th>
          <th>Disk</th>
          <th class="num">Network in</th>
          <th class="num">Network out</th>
          <th>Last seen</th>
        </tr>
      </thead>
      <tbody>
        {hosts.data.hosts.map((h) => (
          <tr key={h.name} class={h.stale ? 'stale' : ''}>
            <td>
              {h.name} {h.stale ? <span class="pill pill-warn">stale</span> : null}
            </td>
            <td>
              <Meter label="CPU" value={metric(h, 'cpu.pct', 'cpu.usage', 'metrics.cpu.pct', 'metrics.cpu', 'cpu')} />
            </td>
            <td>
              <Meter label="memory" value={metric(h, 'memory.pct', 'memory.used.pct', 'metrics.memory.pct', 'metrics.memory', 'memory')} />
            </td>
            <td>
              <Meter label="disk" value={metric(h, 'disk.pct', 'disk.used.pct', 'filesystem.used.pct', 'metrics.disk.pct', 'metrics.disk', 'disk')} />
            </td>
            <td class="num">{bytes(metric(h, 'network.in.bytes_per_s', 'network.in.bytes', 'metrics.network.in', 'network.rx'))}</td>
            <td class="num">{bytes(metric(h, 'network.out.bytes_per_s', 'network.out.bytes', 'metrics.network.out', 'network.tx'))}</td>
            <td>{h.last_seen ? ago(h.last_seen) : '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
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
  const status = useLoad((signal) => api<{ status: string; version: string; uptime_s: number }>('/api/v1/health', { signal }), []);
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
            <table class="table table-compact">
              <tbody>
                {Object.entries(c).flatMap(([name, values]) =>
                  Object.entries(values).map(([labels, v]) => (
                    <tr key={name + labels}>
                      <td class="mono small">{name}</td>
                      <td class="muted small">{labels === 'total' ? '' : labels}</td>
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
          )}
        </Panel>
      </div>
    </div>
  );
}
