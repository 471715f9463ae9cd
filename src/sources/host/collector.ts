// What every host collector is (start, close, a health status) and the shared machinery of the periodic ones:
// scheduling, one warning per distinct problem, and handing documents to the pipeline with back-pressure.
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../core/clock.js';
import { errorMessage, isVigilError } from '../../core/errors.js';
import type { Ingest } from '../../core/ingest.js';

/** What `/api/v1/health` shows for a collector: `ok: false` with `error` while it cannot collect. */
export interface CollectorStatus {
  ok: boolean;
  [key: string]: unknown;
}

export interface Collector {
  /** `host.network`, `host.metrics`, `host.process`, `host.auth` (also its health section's name). */
  readonly name: string;
  /** Starts collecting. Never throws for a host problem (a missing file, a command that is absent): it reports it. */
  start(): Promise<void>;
  /** Stops timers and children and waits for the batch in flight. */
  close(): Promise<void>;
  status(): CollectorStatus;
}

/** What a collector is given besides its own options. */
export interface CollectorContext {
  ingest: Ingest;
  /** `host.name` of every event; default this machine's hostname. */
  hostName?: string;
  clock: Clock;
  /** Where state that must survive a restart lives (the journald cursor, auth log offsets). */
  dataDir: string;
  /** Where warnings go; default console.warn. Each distinct problem is reported once until it clears. */
  warn?: (message: string) => void;
}

/** How long a `busy` pipeline is waited for before a batch of collector data is given up (counted as dropped). */
const MAX_BUSY_WAIT_MS = 30_000;

/** The problem bookkeeping every collector shares: one warning per distinct problem, a status for health. */
export class Problems {
  private current: string | undefined;
  /** Problems that do not stop the collector but are worth showing (a mount that cannot be read …). */
  private readonly notes = new Map<string, string>();

  constructor(
    private readonly name: string,
    private readonly warn: (message: string) => void,
  ) {}

  get error(): string | undefined {
    return this.current;
  }

  /** Marks the collector failing; warns only when the reason changed. */
  fail(reason: string): void {
    if (this.current === reason) return;
    this.current = reason;
    this.warn(`vigil: ${this.name} collector: ${reason}`);
  }

  /** Marks it working again (said once, so a log reader sees the problem end). */
  clear(): void {
    if (this.current === undefined) return;
    this.current = undefined;
    this.warn(`vigil: ${this.name} collector: working again`);
  }

  /** A partial problem (one of several things unreadable); warned once per key and reason. */
  note(key: string, reason: string): void {
    if (this.notes.get(key) === reason) return;
    this.notes.set(key, reason);
    this.warn(`vigil: ${this.name} collector: ${reason}`);
  }

  unnote(key: string): void {
    this.notes.delete(key);
  }

  get warnings(): string[] {
    return [...this.notes.values()];
  }
}

/**
 * A collector that samples the host every `intervalMs`: `collect()` returns the documents of one sample (the first
 * call may only record a baseline). A thrown error marks it unhealthy until a later sample succeeds.
 */
export abstract class IntervalCollector implements Collector {
  protected readonly ingest: Ingest;
  protected readonly clock: Clock;
  protected readonly hostName: string;
  protected readonly problems: Problems;
  protected readonly warn: (message: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closing = false;
  /** Pauses in progress, woken early by close(). */
  private readonly sleepers = new Set<() => void>();
  protected emitted = 0;
  protected dropped = 0;
  private lastSuccess: number | undefined;
  private samples = 0;

  constructor(
    readonly name: string,
    context: CollectorContext,
    readonly intervalMs: number,
  ) {
    this.ingest = context.ingest;
    this.clock = context.clock;
    this.hostName = context.hostName ?? hostname();
    this.warn = context.warn ?? ((message) => console.warn(message));
    this.problems = new Problems(name, this.warn);
  }

  /** One sample: the documents to store (without `host.name`, added here). */
  protected abstract collect(): Promise<Record<string, unknown>[]> | Record<string, unknown>[];

  /** Extra fields of the health section. */
  protected details(): Record<string, unknown> {
    return {};
  }

  async start(): Promise<void> {
    await this.tick();
    this.schedule();
  }

  private schedule(): void {
    if (this.closing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick().finally(() => this.schedule());
    }, this.intervalMs);
    // Collectors never keep a process alive on their own: the server or the agent's sender does.
    this.timer.unref();
  }

  /** Runs one sample now and delivers its documents; resolves when they are stored. Used by the timer and by tests. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.runOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runOnce(): Promise<void> {
    if (this.closing) return;
    let docs: Record<string, unknown>[];
    try {
      docs = await this.collect();
      this.samples++;
      this.lastSuccess = this.clock.now();
      this.problems.clear();
    } catch (err) {
      this.problems.fail(errorMessage(err));
      return;
    }
    await this.deliver(docs);
  }

  /** Hands documents to the pipeline; waits out `busy` for a while, then drops and counts them. */
  protected async deliver(docs: Record<string, unknown>[]): Promise<void> {
    if (docs.length === 0) return;
    for (const doc of docs) {
      const host = (doc.host ??= {}) as Record<string, unknown>;
      host.name ??= this.hostName;
      host.hostname ??= this.hostName;
    }
    const input = this.name;
    const started = performance.now();
    for (;;) {
      try {
        await this.ingest.ingestDocuments(docs, { input, hostName: this.hostName });
        this.emitted += docs.length;
        this.problems.unnote('deliver');
        return;
      } catch (err) {
        const waited = performance.now() - started;
        if (isVigilError(err) && err.id === 'busy' && !this.closing && waited < MAX_BUSY_WAIT_MS) {
          await this.pause(Math.min(MAX_BUSY_WAIT_MS - waited, Math.max(100, (err.retryAfter ?? 1) * 1000)));
          continue;
        }
        // Samples are not worth holding up the next ones: this batch is given up and counted.
        this.dropped += docs.length;
        this.ingest.countDropped(input, isVigilError(err) && err.id === 'busy' ? 'busy' : 'ingest_failed', docs.length);
        this.problems.note('deliver', `could not store ${docs.length} events: ${errorMessage(err)}`);
        return;
      }
    }
  }

  protected pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  status(): CollectorStatus {
    const error = this.problems.error;
    const warnings = this.problems.warnings;
    return {
      ok: error === undefined,
      ...(error === undefined ? {} : { error }),
      ...(warnings.length > 0 ? { warnings } : {}),
      interval_seconds: this.intervalMs / 1000,
      samples: this.samples,
      last_success: this.lastSuccess === undefined ? null : new Date(this.lastSuccess).toISOString(),
      events: this.emitted,
      ...(this.dropped > 0 ? { dropped: this.dropped } : {}),
      ...this.details(),
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const wake of [...this.sleepers]) wake();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/** Rounds a ratio to 4 decimals (what Metricbeat reports), keeping documents small and readable. */
export function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** The error code of a filesystem error (`ENOENT`, `EACCES`), else undefined. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
