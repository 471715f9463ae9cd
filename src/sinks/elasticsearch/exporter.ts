// Export to an Elasticsearch or OpenSearch cluster: events as they are stored and alerts as they change, in ECS, by
// the `_bulk` API (https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html). Batches are sent
// one at a time; a whole request that fails (no answer, 429, 5xx) is retried with backoff, and so are the documents
// refused with 429/5xx; documents refused for themselves go to the dead-letter file with the reason. When the queue
// is full or the cluster stays down, the exporter falls behind instead of dropping: it notes the `event.ingested`
// span it missed (persisted with the high-water mark) and reads those events back from the store later.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Counter } from 'prom-client';
import type { ExportTargetConfig } from '../../config/export.js';
import type { Alert } from '../../core/alert.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { SEVERITIES } from '../../core/detection.js';
import { errorMessage } from '../../core/errors.js';
import type { EcsEvent } from '../../core/event.js';
import type { Telemetry } from '../../core/telemetry.js';
import type { EventStore } from '../../store/types.js';
import { parseRetryAfter } from '../delivery.js';
import { createBulkClient, type BulkAnswer, type BulkClient } from './client.js';
import { indexName } from './index-name.js';

interface Doc {
  op: 'index' | 'create';
  index: string;
  id: string;
  source: unknown;
  /** `event.ingested` (ms) of an event; undefined for alerts. */
  ingested?: number;
}

interface Gap {
  /** Inclusive `event.ingested` span, ms. */
  from: number;
  to: number;
  /** Store cursor within the span, once reading it has begun. */
  cursor?: string;
}

interface State {
  exported_through: string | null;
  gaps: Gap[];
}

export interface ExportStatus {
  name: string;
  kind: ExportTargetConfig['kind'];
  target: string;
  sent: number;
  /** `create` of a document already there (a retry, a backfill over exported events): counted, not an error. */
  duplicates: number;
  dead_lettered: number;
  /** Requests and documents sent again. */
  retries: number;
  queued: number;
  /** Spans of events to read back from the store (the exporter is behind). */
  behind: { from: string; to: string }[];
  exported_through: string | null;
  last_error: string | null;
  last_success: string | null;
  dead_letter_path: string;
}

export interface ExporterOptions {
  dataDir: string;
  store?: EventStore;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  telemetry?: Telemetry;
  /** The cluster client (by default the official client for `kind`). */
  client?: BulkClient;
  /** First retry waits up to this; doubled each time (tests shorten it). */
  retryBaseMs?: number;
  /** How long the exporter leaves a cluster alone after a batch failed every retry. */
  pauseMs?: number;
  /** False for a one-off backfill, which must not touch the live exporter's high-water mark. Default true. */
  persistState?: boolean;
}

/** Result of sending a batch: the documents still not accepted because the whole request kept failing. */
interface SendResult {
  unsent: Doc[];
  error?: string;
}

function ingestedOf(event: EcsEvent): number | undefined {
  const t = Date.parse(String(event.event?.ingested ?? ''));
  return Number.isFinite(t) ? t : undefined;
}

/** An alert as an ECS document: `event.kind: alert`, the rule in `rule.*`, the whole alert under `vigil.alert`. */
export function alertDocument(alert: Alert): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    '@timestamp': alert.last_seen,
    event: {
      kind: 'alert',
      id: alert.id,
      dataset: 'vigil.alerts',
      severity: SEVERITIES.indexOf(alert.severity),
      risk_score: Math.round(alert.confidence * 100),
      start: alert.first_seen,
      end: alert.last_seen,
      created: alert.created,
      reason: alert.reason,
    },
    rule: { id: alert.rule.id, name: alert.rule.title, ruleset: alert.rule.kind, ...(alert.rule.author ? { author: [alert.rule.author] } : {}) },
    message: `${alert.rule.title}: ${alert.reason}`,
    tags: alert.tags,
    vigil: { alert },
  };
  if (alert.entity && /^(source|destination|client|host|user)\.[a-z_]+$/.test(alert.entity.field)) {
    const [parent, child] = alert.entity.field.split('.') as [string, string];
    doc[parent] = { [child]: alert.entity.value };
  }
  return doc;
}

/** The `_bulk` body: an action line and the document for each, newline-terminated (the API requires the last one). */
export function bulkBody(docs: readonly Doc[]): string {
  let out = '';
  for (const d of docs) out += `${JSON.stringify({ [d.op]: { _index: d.index, _id: d.id } })}\n${JSON.stringify(d.source)}\n`;
  return out;
}

export class EsExporter {
  readonly name: string;
  private readonly config: ExportTargetConfig;
  private readonly client: BulkClient;
  private readonly store: EventStore | undefined;
  private readonly clock: Clock;
  private readonly statePath: string;
  readonly deadLetterPath: string;
  private readonly retryBase: number;
  private readonly pauseMs: number;
  private readonly persist: boolean;
  private queue: Doc[] = [];
  private state: State = { exported_through: null, gaps: [] };
  private pumping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pausedUntil = 0;
  private closed = false;
  /** Set by close(): send what is queued, read nothing back, retry no more. */
  private closing = false;
  private readonly counter: Counter<'target' | 'result'> | undefined;
  private readonly stats = { sent: 0, duplicates: 0, dead_lettered: 0, retries: 0, last_error: null as string | null, last_success: null as string | null };

  constructor(config: ExportTargetConfig, options: ExporterOptions) {
    this.name = config.name;
    this.config = config;
    this.client = options.client ?? createBulkClient(config, options.env);
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.statePath = join(options.dataDir, `export-${config.name}.json`);
    this.deadLetterPath = config.dead_letter_path ?? join(options.dataDir, `export-${config.name}.dead-letter.ndjson`);
    this.retryBase = options.retryBaseMs ?? 500;
    this.pauseMs = options.pauseMs ?? 30_000;
    this.persist = options.persistState ?? true;
    this.counter = options.telemetry
      ? ((options.telemetry.registry.getSingleMetric('vigil_export_documents_total') as Counter<'target' | 'result'> | undefined) ??
        new Counter({ name: 'vigil_export_documents_total', help: 'Documents exported to a cluster, by target and result (sent, duplicate, dead_letter).', labelNames: ['target', 'result'], registers: [options.telemetry.registry] }))
      : undefined;
    this.loadState();
  }

  private loadState(): void {
    if (!this.persist || !existsSync(this.statePath)) return;
    try {
      const raw = JSON.parse(readFileSync(this.statePath, 'utf8')) as Partial<State>;
      this.state = { exported_through: typeof raw.exported_through === 'string' ? raw.exported_through : null, gaps: Array.isArray(raw.gaps) ? raw.gaps.filter((g) => typeof g?.from === 'number' && typeof g?.to === 'number') : [] };
    } catch (err) {
      console.error(`vigil: export ${this.name}: ignoring a damaged ${this.statePath} (${errorMessage(err)})`);
    }
  }

  private saveState(): void {
    if (!this.persist) return;
    mkdirSync(dirname(this.statePath), { recursive: true });
    const tmp = `${this.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state));
    renameSync(tmp, this.statePath);
  }

  /** Starts live export: events stored since the high-water mark of the last run are read back first. */
  start(): void {
    if (this.state.exported_through && this.store) {
      this.addGap(Date.parse(this.state.exported_through), this.clock.now());
      this.saveState();
    }
    this.timer = setInterval(() => void this.pump(), this.config.flush_interval_ms);
    this.timer.unref();
  }

  private addGap(from: number, to: number): void {
    if (!Number.isFinite(from) || !Number.isFinite(to)) return;
    const last = this.state.gaps[this.state.gaps.length - 1];
    // Widen the newest span not being read yet rather than pile up spans.
    if (last && last.cursor === undefined && from <= last.to + 1000 && to >= last.from - 1000) {
      last.from = Math.min(last.from, from);
      last.to = Math.max(last.to, to);
    } else this.state.gaps.push({ from, to });
  }

  private eventDoc(event: EcsEvent): Doc {
    const stream = this.config.data_stream;
    const ingested = ingestedOf(event);
    return {
      op: stream ? 'create' : 'index',
      index: stream ?? indexName(this.config.index, Date.parse(event['@timestamp'])),
      id: String(event.event?.id ?? ''),
      source: event,
      ...(ingested !== undefined ? { ingested } : {}),
    };
  }

  /** Live: called with every stored batch (Pipeline.onStored). Never blocks; falls behind when the queue is full. */
  onStored(events: readonly EcsEvent[]): void {
    if (this.closed || events.length === 0) return;
    if (this.queue.length + events.length > this.config.max_queue_events || this.state.gaps.length > 0) {
      // Behind already, or no room: note the span for the store to answer later, in order.
      let from = Infinity;
      let to = -Infinity;
      for (const e of events) {
        const t = ingestedOf(e);
        if (t === undefined) continue;
        if (t < from) from = t;
        if (t > to) to = t;
      }
      if (from <= to) {
        this.addGap(from, to);
        this.saveState();
      }
      return;
    }
    for (const e of events) this.queue.push(this.eventDoc(e));
    if (this.queue.length >= this.config.batch_size) void this.pump();
  }

  /** Live: an alert created or changed (AlertManager.onChange); the document is replaced by id. */
  onAlert(alert: Alert): void {
    if (this.closed || !this.config.alerts_index) return;
    if (this.queue.length >= this.config.max_queue_events) {
      this.deadLetter({ op: 'index', index: this.config.alerts_index, id: alert.id, source: alertDocument(alert) }, 0, { type: 'queue_full', reason: 'the export queue was full' });
      return;
    }
    this.queue.push({ op: 'index', index: this.config.alerts_index, id: alert.id, source: alertDocument(alert) });
  }

  /** Sends what is queued and reads back what was missed, one batch at a time. */
  pump(): Promise<void> {
    this.pumping ??= this.drain().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  private async drain(): Promise<void> {
    while (!this.closed || this.queue.length > 0) {
      if (this.clock.now() < this.pausedUntil && !this.closed) return;
      if (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.config.batch_size);
        const { unsent, error } = await this.send(batch);
        this.afterLive(batch, unsent, error);
        if (unsent.length > 0) return;
        continue;
      }
      if (this.closing || !(await this.readBack())) return;
    }
  }

  private afterLive(batch: Doc[], unsent: Doc[], error: string | undefined): void {
    let through = this.state.exported_through ? Date.parse(this.state.exported_through) : -Infinity;
    for (const d of batch) if (d.ingested !== undefined && !unsent.includes(d) && d.ingested > through) through = d.ingested;
    if (Number.isFinite(through)) this.state.exported_through = new Date(through).toISOString();
    if (unsent.length > 0) {
      // The cluster is down: what could not be sent is read back from the store once it is up again.
      this.pausedUntil = this.clock.now() + this.pauseMs;
      for (const d of unsent) {
        if (d.ingested !== undefined && this.store) this.addGap(d.ingested, d.ingested);
        else this.deadLetter(d, 0, { type: 'unavailable', reason: error ?? 'the cluster did not accept the batch' });
      }
      // Everything behind it in the queue is behind too.
      for (const d of this.queue.splice(0)) {
        if (d.ingested !== undefined && this.store) this.addGap(d.ingested, d.ingested);
        else this.queue.push(d);
      }
    }
    this.saveState();
  }

  /** Sends one page of the oldest span the exporter missed; false when there is nothing to read or it failed. */
  private async readBack(): Promise<boolean> {
    const gap = this.state.gaps[0];
    if (!gap || !this.store) return false;
    const page = await this.store.search({
      query: { type: 'range', field: 'event.ingested', gte: new Date(gap.from).toISOString(), lte: new Date(gap.to).toISOString() },
      limit: this.config.batch_size,
      ...(gap.cursor ? { cursor: gap.cursor } : {}),
    });
    if (page.events.length > 0) {
      const { unsent } = await this.send(page.events.map((e) => this.eventDoc(e)));
      if (unsent.length > 0) {
        this.pausedUntil = this.clock.now() + this.pauseMs;
        return false;
      }
    }
    if (page.next) gap.cursor = page.next;
    else this.state.gaps.shift();
    this.saveState();
    return true;
  }

  private backoff(attempt: number, retryAfter?: string): Promise<void> {
    const jitter = Math.random() * this.retryBase * 2 ** attempt;
    const asked = parseRetryAfter(retryAfter) ?? 0;
    return new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(jitter, asked), 60_000)));
  }

  /** Sends documents with retries; answers those that could not be sent because every request failed. */
  private async send(docs: Doc[]): Promise<SendResult> {
    let pending = docs;
    let lastError: string | undefined;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) this.stats.retries += pending.length;
      const answer = await this.client.bulk(bulkBody(pending));
      const items = (answer.body as { items?: Record<string, { status?: number; error?: { type?: string; reason?: string } }>[] } | undefined)?.items;
      if (answer.status >= 200 && answer.status < 300 && Array.isArray(items) && items.length === pending.length) {
        const again: Doc[] = [];
        items.forEach((item, i) => {
          const doc = pending[i]!;
          const result = item[doc.op] ?? Object.values(item)[0] ?? {};
          const status = result.status ?? 0;
          if (status >= 200 && status < 300) this.count('sent');
          else if (status === 409 && doc.op === 'create') this.count('duplicates');
          else if (status === 429 || status >= 500) again.push(doc);
          else this.deadLetter(doc, status, result.error);
        });
        this.stats.last_success = new Date(this.clock.now()).toISOString();
        if (again.length > 0 && attempt >= this.config.max_retries) {
          for (const doc of again) this.deadLetter(doc, 429, { type: 'retries_exhausted', reason: `still refused with 429/5xx after ${attempt + 1} attempts` });
          return { unsent: [] };
        }
        pending = again;
        if (pending.length > 0) await this.backoff(attempt, answer.retryAfter);
        continue;
      }
      lastError = answer.status === 0 ? `no answer: ${answer.error ?? 'connection failed'}` : `HTTP ${answer.status}: ${JSON.stringify(answer.body ?? '').slice(0, 300)}`;
      this.stats.last_error = lastError;
      if (attempt >= this.config.max_retries || this.closing) return { unsent: pending, error: lastError };
      await this.backoff(attempt, answer.retryAfter);
    }
    return { unsent: [] };
  }

  private count(what: 'sent' | 'duplicates'): void {
    this.stats[what]++;
    this.counter?.inc({ target: this.name, result: what === 'sent' ? 'sent' : 'duplicate' });
  }

  private deadLetter(doc: Doc, status: number, error: { type?: string; reason?: string } | undefined): void {
    this.stats.dead_lettered++;
    this.counter?.inc({ target: this.name, result: 'dead_letter' });
    const line = { '@timestamp': new Date(this.clock.now()).toISOString(), target: this.name, index: doc.index, op: doc.op, id: doc.id, status, error: { type: error?.type ?? 'unknown', reason: error?.reason ?? '' }, document: doc.source };
    try {
      mkdirSync(dirname(this.deadLetterPath), { recursive: true });
      appendFileSync(this.deadLetterPath, `${JSON.stringify(line)}\n`);
    } catch (err) {
      console.error(`vigil: export ${this.name}: cannot write the dead-letter file ${this.deadLetterPath}: ${errorMessage(err)}`);
    }
  }

  /**
   * Backfill: sends events (a page of history), waiting for the answer; throws when the cluster does not take them
   * after every retry. Answers how many were sent, already there, and dead-lettered.
   */
  async exportEvents(events: readonly EcsEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += this.config.batch_size) {
      const { unsent, error } = await this.send(events.slice(i, i + this.config.batch_size).map((e) => this.eventDoc(e)));
      if (unsent.length > 0) throw new Error(`${this.name} did not take ${unsent.length} events: ${error}`);
    }
  }

  /** Waits until everything queued and every missed span has been sent (tests, `vigil export`). */
  async flush(): Promise<void> {
    this.pausedUntil = 0;
    await this.pump();
  }

  status(): ExportStatus {
    return {
      name: this.name,
      kind: this.config.kind,
      target: this.config.data_stream ? `data stream ${this.config.data_stream}` : this.config.index,
      ...this.stats,
      queued: this.queue.length,
      behind: this.state.gaps.map((g) => ({ from: new Date(g.from).toISOString(), to: new Date(g.to).toISOString() })),
      exported_through: this.state.exported_through,
      dead_letter_path: this.deadLetterPath,
    };
  }

  /** Sends what is queued (within the retries), keeps the high-water mark and the spans still to read, stops. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.closing = true;
    this.pausedUntil = 0;
    await this.pump();
    this.closed = true;
    this.saveState();
    await this.client.close();
  }
}
