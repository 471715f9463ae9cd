// Which hosts report to Vigil and how each is doing: last seen, latest CPU, memory, disk and network figures, and
// whether it went quiet. Kept in memory, updated from every stored batch, seeded from the store at start so that
// a restart does not forget hosts.
import type { Clock } from '../../core/clock.js';
import { getField, type EcsEvent } from '../../core/event.js';
import { errorMessage } from '../../core/errors.js';
import { parseQuery } from '../../store/query/parse.js';
import type { EventStore } from '../../store/types.js';
import type { HostMetrics, HostSummary } from '../../core/host.js';

export type { HostMetrics, HostSummary };

interface HostState {
  name: string;
  lastSeen: number;
  events: number;
  lastCollected: number | undefined;
  periodMs: number | undefined;
  os?: Record<string, unknown>;
  agent?: Record<string, unknown>;
  agentStatus?: Record<string, unknown>;
  metrics: HostMetrics | null;
  metricsAt: number;
  filesystems: Map<string, { used_pct: number; total_bytes?: number; updated: string; at: number }>;
  network: HostSummary['network'];
  networkAt: number;
}

export interface HostRegistryOptions {
  clock: Clock;
  /** A collector host is stale after this many of its intervals without collector data (default 3). */
  staleAfterIntervals?: number;
  /** The interval assumed for hosts whose events carry none (default 10 s). */
  defaultIntervalMs?: number;
  /** Hosts remembered at most; the longest silent is forgotten first (default 10000). */
  maxHosts?: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function timeOf(text: unknown, fallback: number): number {
  if (typeof text !== 'string') return fallback;
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : fallback;
}

export class HostRegistry {
  private readonly hosts = new Map<string, HostState>();
  private readonly clock: Clock;
  private readonly staleAfter: number;
  private readonly defaultIntervalMs: number;
  private readonly maxHosts: number;
  /** Set once seeding from the store finished (or failed, with why). */
  seeded: { ok: boolean; hosts: number; error?: string } | undefined;

  constructor(options: HostRegistryOptions) {
    this.clock = options.clock;
    this.staleAfter = options.staleAfterIntervals ?? 3;
    this.defaultIntervalMs = options.defaultIntervalMs ?? 10_000;
    this.maxHosts = options.maxHosts ?? 10_000;
  }

  /** Updates the registry from stored events (the pipeline's `onStored`). Cheap per event: one map lookup. */
  observe(events: readonly EcsEvent[], counted = true): void {
    const now = this.clock.now();
    for (const event of events) {
      const name = event.host?.name;
      if (typeof name !== 'string' || name.length === 0) continue;
      const state = this.state(name);
      const seen = timeOf(event.event.ingested, now);
      if (seen > state.lastSeen) state.lastSeen = seen;
      if (counted) state.events++;
      const agent = (event as Record<string, unknown>).agent;
      if (agent && typeof agent === 'object') state.agent = agent as Record<string, unknown>;
      const dataset = event.event.dataset;
      if (dataset === 'host.agent') {
        // A remote agent's own report (collectors, buffer, sender): shown as it is, not counted as collector data.
        const status = getField(event as Record<string, unknown>, 'vigil.agent');
        if (status && typeof status === 'object') state.agentStatus = { ...(status as Record<string, unknown>), updated: event['@timestamp'] };
      } else if (dataset.startsWith('host.')) {
        this.collected(state, event, seen);
      }
    }
    if (this.hosts.size > this.maxHosts) this.evict();
  }

  private state(name: string): HostState {
    let state = this.hosts.get(name);
    if (!state) {
      state = { name, lastSeen: 0, events: 0, lastCollected: undefined, periodMs: undefined, metrics: null, metricsAt: 0, filesystems: new Map(), network: null, networkAt: 0 };
      this.hosts.set(name, state);
    }
    return state;
  }

  private collected(state: HostState, event: EcsEvent, seen: number): void {
    if (state.lastCollected === undefined || seen > state.lastCollected) state.lastCollected = seen;
    const doc = event as Record<string, unknown>;
    const metricset = getField(doc, 'metricset.name');
    if (metricset === undefined) return;
    const at = timeOf(event['@timestamp'], seen);
    const period = num(getField(doc, 'metricset.period'));
    if (period !== undefined && period > 0 && (metricset === 'system' || state.periodMs === undefined)) state.periodMs = period;
    const updated = new Date(at).toISOString();
    if (metricset === 'system' && at >= state.metricsAt) {
      state.metricsAt = at;
      const os = getField(doc, 'host.os');
      if (os && typeof os === 'object') state.os = os as Record<string, unknown>;
      const metrics: HostMetrics = { updated };
      const cpu = num(getField(doc, 'host.cpu.usage'));
      if (cpu !== undefined) metrics.cpu_usage = cpu;
      const load = getField(doc, 'system.load') as Record<string, unknown> | undefined;
      if (load && typeof load === 'object') metrics.load = { '1': num(load['1']), '5': num(load['5']), '15': num(load['15']) } as HostMetrics['load'];
      const memory = num(getField(doc, 'system.memory.actual.used.pct'));
      if (memory !== undefined) metrics.memory_used_pct = memory;
      const total = num(getField(doc, 'system.memory.total'));
      if (total !== undefined) metrics.memory_total_bytes = total;
      const swap = num(getField(doc, 'system.memory.swap.used.pct'));
      if (swap !== undefined) metrics.swap_used_pct = swap;
      state.metrics = metrics;
    } else if (metricset === 'filesystem') {
      const mount = getField(doc, 'system.filesystem.mount_point');
      const used = num(getField(doc, 'system.filesystem.used.pct'));
      if (typeof mount === 'string' && used !== undefined && at >= (state.filesystems.get(mount)?.at ?? 0)) {
        const total = num(getField(doc, 'system.filesystem.total'));
        state.filesystems.set(mount, { used_pct: used, ...(total !== undefined ? { total_bytes: total } : {}), updated, at });
      }
    } else if (metricset === 'network' && at >= state.networkAt) {
      const inRate = num(getField(doc, 'system.network.in.bytes_per_sec'));
      const outRate = num(getField(doc, 'system.network.out.bytes_per_sec'));
      if (inRate !== undefined && outRate !== undefined) {
        state.networkAt = at;
        state.network = { in_bytes_per_sec: inRate, out_bytes_per_sec: outRate, updated };
      }
    }
  }

  /** The least recently seen hosts go, a twentieth more than needed, so a flood of names sorts once per many batches. */
  private evict(): void {
    const byAge = [...this.hosts.values()].sort((a, b) => a.lastSeen - b.lastSeen);
    for (const state of byAge.slice(0, this.hosts.size - (this.maxHosts - Math.floor(this.maxHosts / 20)))) this.hosts.delete(state.name);
  }

  private summary(state: HostState, now: number): HostSummary {
    const collector = state.lastCollected !== undefined;
    const periodMs = state.periodMs ?? (collector ? this.defaultIntervalMs : undefined);
    const filesystems: HostSummary['filesystems'] = {};
    for (const [mount, f] of state.filesystems) filesystems[mount] = { used_pct: f.used_pct, ...(f.total_bytes !== undefined ? { total_bytes: f.total_bytes } : {}), updated: f.updated };
    return {
      name: state.name,
      last_seen: new Date(state.lastSeen).toISOString(),
      events: state.events,
      collector,
      interval_seconds: periodMs === undefined ? null : periodMs / 1000,
      stale: collector && periodMs !== undefined ? now - state.lastCollected! > this.staleAfter * periodMs : null,
      last_collected: state.lastCollected === undefined ? null : new Date(state.lastCollected).toISOString(),
      ...(state.os ? { os: state.os } : {}),
      ...(state.agent ? { agent: state.agent } : {}),
      ...(state.agentStatus ? { agent_status: state.agentStatus } : {}),
      metrics: state.metrics,
      filesystems,
      network: state.network,
    };
  }

  list(): HostSummary[] {
    const now = this.clock.now();
    return [...this.hosts.values()].sort((a, b) => a.name.localeCompare(b.name)).map((s) => this.summary(s, now));
  }

  get(name: string): HostSummary | undefined {
    const state = this.hosts.get(name);
    return state ? this.summary(state, this.clock.now()) : undefined;
  }

  /**
   * Learns the hosts of the last `lookbackMs` from the store: each host's newest event, and its newest collector
   * samples. Runs in the background at start; events observed meanwhile are newer and win.
   */
  async seed(store: EventStore, options: { lookbackMs?: number; maxHosts?: number } = {}): Promise<void> {
    const now = this.clock.now();
    const from = now - (options.lookbackMs ?? 24 * 3600_000);
    try {
      const top = await store.top({ query: parseQuery(''), field: 'host.name', size: options.maxHosts ?? 500, from });
      for (const { value } of top.values) {
        const host = `host.name:"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
        const newest = await store.search({ query: parseQuery(host), limit: 1, from });
        this.observe(newest.events, false);
        for (const q of ['metricset.name:system AND event.dataset:host.metrics', 'metricset.name:network AND event.dataset:host.network', 'event.dataset:host.agent']) {
          const sample = await store.search({ query: parseQuery(`${host} AND ${q}`), limit: 1, from });
          this.observe(sample.events, false);
        }
        // Filesystems: the newest sample of each mount, from the newest few.
        const mounts = await store.search({ query: parseQuery(`${host} AND metricset.name:filesystem AND event.dataset:host.metrics`), limit: 50, from });
        this.observe(mounts.events, false);
      }
      this.seeded = { ok: true, hosts: top.values.length };
    } catch (err) {
      this.seeded = { ok: false, hosts: 0, error: errorMessage(err) };
      console.warn(`vigil: could not learn the known hosts from the store: ${errorMessage(err)}`);
    }
  }
}
