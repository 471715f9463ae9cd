// The live stream behind GET /api/v1/stream: one hub gathers alert changes, per-dataset event rates (each second),
// anomalies and health, and fans them out as server-sent events to every client, each with a bounded buffer.
import type { ServerResponse } from 'node:http';
import type { Alert } from '../../core/alert.js';
import type { EcsEvent } from '../../core/event.js';
import type { Telemetry } from '../../core/telemetry.js';
import type { AlertManager } from '../../alerts/manager.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { EventStore } from '../../store/types.js';

export interface StreamHubOptions {
  /** Alert changes: the alert manager, or (the api role of a bus deployment) those the store role relays. */
  alerts: Pick<AlertManager, 'onChange'>;
  /** Stored events feed the rates; the api role of a bus deployment gets them relayed instead (recordStored). */
  pipeline: Pick<Pipeline, 'onStored' | 'queueDepth' | 'congested'>;
  store: EventStore;
  telemetry: Telemetry;
  /** Bytes a client may have waiting before it is dropped as too slow. Default 1 MiB. */
  maxClientBufferBytes?: number;
  /** Comment lines that keep proxies and browsers from closing an idle stream. Default 15 s. */
  keepAliveMs?: number;
  /** Alert changes are gathered this long and sent together (one message per alert). Default 200 ms. */
  alertFlushMs?: number;
  /** Most clients at once. Default 200. */
  maxClients?: number;
}

export interface StreamClient {
  /** Answers false once the client is gone; called on every keep-alive to end streams whose session expired. */
  stillAllowed(): boolean;
}

interface Connected {
  res: ServerResponse;
  client: StreamClient;
}

/** Message names, which the page listens to with EventSource.addEventListener. */
export type StreamEventName = 'hello' | 'history' | 'rates' | 'alert' | 'anomaly' | 'health' | 'resync';

const MAX_DATASETS_PER_TICK = 40;
const MAX_ALERTS_PER_FLUSH = 200;
const MAX_ANOMALIES_PER_TICK = 20;
const REPLAY = 256;
const STATS_EVERY_MS = 10_000;
/** Rates messages kept for clients that connect later, so a chart of the last minutes has them at once (5 min). */
const RATES_HISTORY = 300;

/** One SSE message (WHATWG HTML §9.2): data lines cannot hold a newline, and JSON.stringify never emits one. */
export function sseMessage(event: StreamEventName, data: unknown, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** What the stream says of a stored anomaly event. */
export function anomalySummary(e: EcsEvent): unknown {
  const doc = e as unknown as { rule?: { id?: string; name?: string }; vigil?: { score?: number; entity?: unknown; alert?: boolean } };
  return { at: e['@timestamp'], rule: doc.rule?.id ?? null, title: doc.rule?.name ?? null, score: doc.vigil?.score ?? null, entity: doc.vigil?.entity ?? null, alert: doc.vigil?.alert ?? false };
}

export class StreamHub {
  private readonly clients = new Set<Connected>();
  private readonly pendingAlerts = new Map<string, { alert: Alert; change: 'created' | 'updated' }>();
  private readonly recent: { id: number; text: string }[] = [];
  private nextId = 1;
  private datasets = new Map<string, number>();
  private total = 0;
  private anomalies: unknown[] = [];
  private readonly ratesHistory: unknown[] = [];
  private anomalyOverflow = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private alertTimer: NodeJS.Timeout | undefined;
  private storeStats: { events: number; bytes: number } | null = null;
  private statsAt = 0;
  private readonly maxBuffer: number;
  private readonly alertFlushMs: number;
  private readonly maxClients: number;
  /** Clients dropped for falling behind, and messages sent, for health. */
  dropped = 0;
  sent = 0;

  constructor(private readonly options: StreamHubOptions) {
    this.maxBuffer = options.maxClientBufferBytes ?? 1024 * 1024;
    this.alertFlushMs = options.alertFlushMs ?? 200;
    this.maxClients = options.maxClients ?? 200;
    options.alerts.onChange((alert, change) => this.onAlert(alert, change));
    options.pipeline.onStored((events) => this.onStored(events));
    const tick = setInterval(() => this.tick(), 1000);
    const keepAlive = setInterval(() => this.keepAlive(), options.keepAliveMs ?? 15_000);
    const health = setInterval(() => void this.health(), 2000);
    for (const t of [tick, keepAlive, health]) {
      t.unref();
      this.timers.push(t);
    }
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Takes over a response (headers already written by the route) and sends what the client missed since `lastId`. */
  add(res: ServerResponse, client: StreamClient, lastId: number | undefined, hello: unknown): boolean {
    if (this.clients.size >= this.maxClients) return false;
    const entry: Connected = { res, client };
    this.clients.add(entry);
    res.on('close', () => this.clients.delete(entry));
    // The browser reconnects on its own after `retry` ms (WHATWG HTML §9.2.4).
    let text = 'retry: 2000\n\n' + sseMessage('hello', hello);
    if (this.ratesHistory.length > 0) text += sseMessage('history', { rates: this.ratesHistory });
    if (lastId !== undefined) {
      const oldest = this.recent[0]?.id;
      if (oldest !== undefined && lastId < oldest - 1) text += sseMessage('resync', { reason: 'missed messages: reload lists' });
      for (const m of this.recent) if (m.id > lastId) text += m.text;
    }
    this.write(entry, text);
    void this.health([entry]);
    return true;
  }

  private write(entry: Connected, text: string): void {
    const { res } = entry;
    if (res.destroyed) return;
    // A client that cannot keep up is dropped rather than letting its backlog grow in the server's memory; the
    // browser reconnects and reloads what it missed.
    if (res.writableLength + text.length > this.maxBuffer) {
      this.dropped++;
      this.options.telemetry.dropped.inc({ input: 'stream', reason: 'slow_client', intentional: 'true' });
      this.clients.delete(entry);
      res.destroy();
      return;
    }
    res.write(text);
    this.sent++;
  }

  private broadcast(event: StreamEventName, data: unknown, replay = false): void {
    let text: string;
    if (replay) {
      const id = this.nextId++;
      text = sseMessage(event, data, id);
      this.recent.push({ id, text });
      if (this.recent.length > REPLAY) this.recent.shift();
    } else {
      if (this.clients.size === 0) return;
      text = sseMessage(event, data);
    }
    for (const entry of this.clients) this.write(entry, text);
  }

  private onAlert(alert: Alert, change: 'created' | 'updated'): void {
    const pending = this.pendingAlerts.get(alert.id);
    this.pendingAlerts.set(alert.id, { alert, change: pending?.change === 'created' ? 'created' : change });
    this.alertTimer ??= setTimeout(() => this.flushAlerts(), this.alertFlushMs);
  }

  private flushAlerts(): void {
    this.alertTimer = undefined;
    const batch = [...this.pendingAlerts.values()];
    this.pendingAlerts.clear();
    // A storm of changes is summarised: the page reloads its list instead of receiving thousands of messages.
    if (batch.length > MAX_ALERTS_PER_FLUSH) {
      this.broadcast('resync', { reason: `${batch.length} alerts changed` }, true);
      return;
    }
    for (const { alert, change } of batch) {
      // The audit trail and notes stay on the alert page; the stream carries what lists show.
      const { history: _history, notes, ...summary } = alert;
      this.broadcast('alert', { change, alert: { ...summary, notes_count: notes.length } }, true);
    }
  }

  private onStored(events: readonly EcsEvent[]): void {
    this.total += events.length;
    for (const e of events) {
      const name = e.event?.dataset ?? 'unknown';
      this.count(name, 1);
      if (name === 'vigil.anomaly') this.anomaly(anomalySummary(e));
    }
  }

  private count(name: string, n: number): void {
    const known = this.datasets.get(name);
    if (known !== undefined) this.datasets.set(name, known + n);
    else if (this.datasets.size < MAX_DATASETS_PER_TICK) this.datasets.set(name, n);
    else this.datasets.set('_other', (this.datasets.get('_other') ?? 0) + n);
  }

  private anomaly(summary: unknown): void {
    if (this.anomalies.length >= MAX_ANOMALIES_PER_TICK) this.anomalyOverflow++;
    else this.anomalies.push(summary);
  }

  /** Events stored by another process (the store role of a bus deployment), counted as if stored here. */
  recordStored(total: number, datasets: Record<string, number>, anomalies: readonly unknown[], overflow = 0): void {
    this.total += total;
    for (const [name, n] of Object.entries(datasets)) this.count(name, n);
    for (const a of anomalies) this.anomaly(a);
    this.anomalyOverflow += overflow;
  }

  private tick(): void {
    const datasets = Object.fromEntries(this.datasets);
    const total = this.total;
    this.datasets = new Map();
    this.total = 0;
    const rates = { at: new Date().toISOString(), interval_ms: 1000, total, datasets, queue_depth: this.options.pipeline.queueDepth };
    this.ratesHistory.push(rates);
    if (this.ratesHistory.length > RATES_HISTORY) this.ratesHistory.shift();
    this.broadcast('rates', rates);
    if (this.anomalies.length > 0) {
      this.broadcast('anomaly', { anomalies: this.anomalies, more: this.anomalyOverflow });
      this.anomalies = [];
      this.anomalyOverflow = 0;
    }
  }

  private keepAlive(): void {
    for (const entry of this.clients) {
      if (!entry.client.stillAllowed()) {
        this.clients.delete(entry);
        entry.res.end();
        continue;
      }
      this.write(entry, ': keep-alive\n\n');
    }
  }

  private async health(only?: Connected[]): Promise<void> {
    if (this.clients.size === 0) return;
    const now = Date.now();
    if (now - this.statsAt > STATS_EVERY_MS) {
      this.statsAt = now;
      this.storeStats = await this.options.store.stats().catch(() => null);
    }
    const counters = await this.options.telemetry.snapshot();
    const body = {
      at: new Date(now).toISOString(),
      queue_depth: this.options.pipeline.queueDepth,
      congested: this.options.pipeline.congested,
      store: this.storeStats,
      counters,
      stream: { clients: this.clients.size, dropped_clients: this.dropped },
    };
    const text = sseMessage('health', body);
    for (const entry of only ?? this.clients) this.write(entry, text);
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    if (this.alertTimer) clearTimeout(this.alertTimer);
    for (const entry of this.clients) entry.res.end();
    this.clients.clear();
  }
}
