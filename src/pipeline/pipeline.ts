// The only place stages meet: parse + normalize on the caller's turn, then a group-committing writer into the store.
// A submission resolves only after its events are durable, so every acknowledgement any input gives is true.
import type { Clock } from '../core/clock.js';
import type { EcsEvent } from '../core/event.js';
import { VigilError, errorMessage } from '../core/errors.js';
import type { DocumentOptions, Ingest, IngestError, IngestResult, LineOptions } from '../core/ingest.js';
import type { Telemetry } from '../core/telemetry.js';
import { parseLine } from '../parsers/index.js';
import type { ParseContext } from '../parsers/types.js';
import type { EventStore } from '../store/types.js';
import { normalizeDocument, normalizeLine, truncateLine } from './normalize.js';

/** Store writes started before the previous one finished: one being stored, one being prepared or sent. */
const MAX_WRITES_IN_FLIGHT = 2;

/**
 * A stage that sees each submission after normalization and before storage (enrichment, then detection), on the
 * caller's turn. `unique` lists the positions of events whose `event.id` came from the sender (a retry may repeat them).
 */
export interface EventStage {
  readonly name: string;
  process(events: EcsEvent[], unique?: readonly number[]): void;
}

/** Told about every batch once it is durably stored, without the duplicates the store skipped (live stream, export). */
export type StoredListener = (events: readonly EcsEvent[]) => void;

/** Where a pipeline writes: the store, or in a bus deployment's ingest role the bus (src/bus/sink.ts). */
export type EventSink = Pick<EventStore, 'append'>;

export interface PipelineOptions {
  store: EventSink;
  clock: Clock;
  telemetry: Telemetry;
  /** Events accepted but not yet stored, beyond which submissions are refused with `busy`. */
  maxQueueEvents: number;
  /** Longer lines are cut and tagged. */
  maxLineBytes: number;
  /** Largest batch written to the store at once. */
  maxBatchEvents?: number;
  stages?: EventStage[];
}

interface Pending {
  events: EcsEvent[];
  /** Positions of events whose sender chose the id (AppendOptions.unique). */
  unique: number[] | undefined;
  /** Set once stored: how many of them were already stored. */
  duplicates: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Pipeline implements Ingest {
  private readonly store: EventSink;
  private readonly clock: Clock;
  private readonly telemetry: Telemetry;
  private readonly stages: EventStage[];
  private readonly maxQueue: number;
  private readonly maxLineChars: number;
  private readonly maxBatch: number;
  private readonly listeners: StoredListener[] = [];
  private drainListeners: (() => void)[] = [];
  private queue: Pending[] = [];
  /** Events accepted and not yet stored (queued plus being written). */
  private inFlight = 0;
  private writesInFlight = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** The latest failed store write (wall-clock ms and why), for health: a full disk refuses events while reads work. */
  lastWriteFailure: { at: number; message: string } | undefined;

  constructor(options: PipelineOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.telemetry = options.telemetry;
    this.stages = [...(options.stages ?? [])];
    this.maxQueue = options.maxQueueEvents;
    // Bytes to UTF-16 units: a safe bound without encoding every line to measure it.
    this.maxLineChars = options.maxLineBytes;
    this.maxBatch = options.maxBatchEvents ?? 10_000;
  }

  get congested(): boolean {
    return this.inFlight >= this.maxQueue * 0.8;
  }

  get queueDepth(): number {
    return this.inFlight;
  }

  onDrain(listener: () => void): void {
    if (!this.congested) queueMicrotask(listener);
    else this.drainListeners.push(listener);
  }

  onStored(listener: StoredListener): void {
    this.listeners.push(listener);
  }

  countDropped(input: string, reason: string, count = 1, intentional = false): void {
    this.telemetry.dropped.inc({ input, reason, intentional: String(intentional) }, count);
  }

  private admit(count: number, input: string): void {
    if (this.closed) throw new VigilError('unavailable', 'Vigil is shutting down', { retryAfter: 5 });
    if (count > 0 && this.inFlight + count > this.maxQueue && this.inFlight > 0) {
      this.telemetry.rejected.inc({ input, reason: 'busy' }, count);
      throw new VigilError('busy', `the ingest queue is full (${this.inFlight} events waiting); retry shortly`, { retryAfter: 1 });
    }
  }

  async ingestLines(lines: readonly string[], options: LineOptions): Promise<IngestResult> {
    this.admit(lines.length, options.input);
    this.telemetry.received.inc({ input: options.input }, lines.length);
    const now = this.clock.now();
    const ctx: ParseContext = options.year === undefined ? { now } : { now, year: options.year };
    const ingested = new Date(now).toISOString();
    const events: EcsEvent[] = new Array(lines.length);
    const datasets: Record<string, number> = {};
    let unparsed = 0;
    let truncatedCount = 0;
    const cutBySource = options.truncated && options.truncated.length > 0 ? new Set(options.truncated) : undefined;
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!;
      const tooLong = line.length > this.maxLineChars;
      if (tooLong) {
        line = truncateLine(line, this.maxLineChars);
        truncatedCount++;
      }
      const truncated = tooLong || cutBySource?.has(i) === true;
      const { event, failure } = normalizeLine(line, parseLine(line, options.format, ctx), options, ingested, truncated);
      if (failure !== undefined) {
        unparsed++;
        this.telemetry.failed.inc({ input: options.input, reason: failure });
      }
      const dataset = event.event.dataset;
      datasets[dataset] = (datasets[dataset] ?? 0) + 1;
      events[i] = event;
    }
    for (const [dataset, count] of Object.entries(datasets)) if (dataset !== 'unparsed') this.telemetry.parsed.inc({ dataset }, count);
    if (truncatedCount > 0) this.telemetry.dropped.inc({ input: options.input, reason: 'line_truncated', intentional: 'true' }, truncatedCount);
    await this.write(events);
    return { accepted: events.length, rejected: 0, errors: [], ids: events.map((e) => e.event.id), datasets, unparsed };
  }

  async ingestDocuments(documents: readonly unknown[], options: DocumentOptions & { originals?: readonly (string | undefined)[] }): Promise<IngestResult> {
    this.admit(documents.length, options.input);
    this.telemetry.received.inc({ input: options.input }, documents.length);
    const now = this.clock.now();
    const events: EcsEvent[] = [];
    const errors: IngestError[] = [];
    const ids: (string | undefined)[] = new Array(documents.length);
    const datasets: Record<string, number> = {};
    const unique: number[] = [];
    for (let i = 0; i < documents.length; i++) {
      const result = normalizeDocument(documents[i], options, now, options.originals?.[i], this.maxLineChars);
      if (!result.ok) {
        errors.push({ index: i, reason: result.reason });
        this.telemetry.rejected.inc({ input: options.input, reason: 'invalid_document' });
        continue;
      }
      const dataset = result.event.event.dataset;
      datasets[dataset] = (datasets[dataset] ?? 0) + 1;
      ids[i] = result.event.event.id;
      if (result.givenId) unique.push(events.length);
      events.push(result.event);
    }
    for (const [dataset, count] of Object.entries(datasets)) this.telemetry.parsed.inc({ dataset }, count);
    const duplicates = await this.write(events, unique);
    if (duplicates > 0) this.telemetry.dropped.inc({ input: options.input, reason: 'duplicate_id', intentional: 'true' }, duplicates);
    return { accepted: events.length, rejected: errors.length, errors, ids, datasets, unparsed: 0, duplicates };
  }

  /**
   * Stores events normalized and analyzed elsewhere (the store role of a bus deployment) with their own ids: one at
   * a `unique` position whose id is stored already is skipped, so a redelivered one is stored once. Answers the
   * duplicates.
   */
  storeNormalized(events: EcsEvent[], unique: number[], input = 'bus'): Promise<number> {
    this.admit(events.length, input);
    return this.write(events, unique);
  }

  /** Adds a stage after those given at construction (detection, which writes its findings back through this pipeline). */
  addStage(stage: EventStage): void {
    this.stages.push(stage);
  }

  /** Runs the stages, queues the events for the writer and waits until they are stored; answers the duplicates. */
  private write(events: EcsEvent[], unique?: number[]): Promise<number> {
    if (events.length === 0) return Promise.resolve(0);
    for (const stage of this.stages) {
      try {
        stage.process(events, unique);
      } catch (err) {
        // A broken stage must not cost the events: they are still stored.
        this.telemetry.dropped.inc({ input: stage.name, reason: 'stage_error', intentional: 'false' });
        console.error(`vigil: stage ${stage.name} failed: ${errorMessage(err)}`);
      }
    }
    this.inFlight += events.length;
    this.telemetry.queueDepth.set({ stage: 'store' }, this.inFlight);
    return new Promise<number>((resolve, reject) => {
      const pending: Pending = { events, unique: unique && unique.length > 0 ? unique : undefined, duplicates: 0, resolve: () => resolve(pending.duplicates), reject };
      this.queue.push(pending);
      this.pump();
    });
  }

  /**
   * Group commit: whatever arrived while earlier batches were being written goes in the next one. Two writes may be
   * in flight, so that preparing one batch overlaps with the store writing the other (the store serialises them).
   */
  private pump(): void {
    while (this.queue.length > 0 && this.writesInFlight < MAX_WRITES_IN_FLIGHT) {
      const batch: Pending[] = [];
      let size = 0;
      while (this.queue.length > 0 && (size === 0 || size + this.queue[0]!.events.length <= this.maxBatch)) {
        const next = this.queue.shift()!;
        batch.push(next);
        size += next.events.length;
      }
      this.writesInFlight++;
      void this.writeBatch(batch, size).finally(() => {
        this.writesInFlight--;
        this.pump();
      });
    }
    if (this.writesInFlight === 0 && this.queue.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async writeBatch(batch: Pending[], size: number): Promise<void> {
    const events = batch.length === 1 ? batch[0]!.events : batch.flatMap((p) => p.events);
    const unique = uniquePositions(batch);
    const stopTimer = this.telemetry.appendSeconds.startTimer();
    try {
      const { stored, duplicates } = await this.store.append(events, unique ? { unique } : undefined);
      stopTimer();
      this.telemetry.stored.inc(stored);
      const fresh = duplicates.length === 0 ? events : withoutDuplicates(batch, events, duplicates);
      for (const p of batch) p.resolve();
      for (const listener of this.listeners) {
        try {
          listener(fresh);
        } catch (err) {
          console.error(`vigil: a stored-events listener failed: ${errorMessage(err)}`);
        }
      }
    } catch (err) {
      this.telemetry.storeErrors.inc();
      this.lastWriteFailure = { at: Date.now(), message: errorMessage(err) };
      const failure = new VigilError('unavailable', `the event store could not write: ${errorMessage(err)}`, { retryAfter: 5, cause: err });
      for (const p of batch) p.reject(failure);
    }
    this.inFlight -= size;
    this.telemetry.queueDepth.set({ stage: 'store' }, this.inFlight);
    if (!this.congested && this.drainListeners.length > 0) {
      const listeners = this.drainListeners;
      this.drainListeners = [];
      for (const listener of listeners) listener();
    }
  }

  /** Resolves when everything accepted so far is stored. */
  idle(): Promise<void> {
    if (this.writesInFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new input and waits for what was accepted. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }
}

/** The batch's `unique` positions, counted across its submissions. */
function uniquePositions(batch: readonly Pending[]): number[] | undefined {
  let positions: number[] | undefined;
  let offset = 0;
  for (const p of batch) {
    if (p.unique) for (const i of p.unique) (positions ??= []).push(offset + i);
    offset += p.events.length;
  }
  return positions;
}

/** Tells each submission how many of its events were duplicates, and answers the events that were stored. */
function withoutDuplicates(batch: readonly Pending[], events: readonly EcsEvent[], duplicates: readonly number[]): EcsEvent[] {
  const skipped = new Set(duplicates);
  let offset = 0;
  for (const p of batch) {
    for (let i = 0; i < p.events.length; i++) if (skipped.has(offset + i)) p.duplicates++;
    offset += p.events.length;
  }
  return events.filter((_, i) => !skipped.has(i));
}
