// The store role's intake: analyzed events and detections from JetStream into the store, through the store's
// pipeline (so hosts, exports and the live stream see them as in single-process mode), each message acknowledged
// only once its events are durable. Every event keeps its id; where a copy may be stored already (a redelivered
// message, outputs an analyze worker redoes after a takeover or restart, a sender-chosen id) the store
// checks the id (`unique`), so each is stored once; detections become alerts only when their detection event was
// stored now, hence exactly once as well.
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Detection } from '../core/detection.js';
import { errorMessage, isVigilError } from '../core/errors.js';
import type { EcsEvent } from '../core/event.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { Telemetry } from '../core/telemetry.js';
import { invalidMessages, readAnalyzedMessage } from './codec.js';
import { STORE_CONSUMER, STREAMS, isPullFull, type Bus } from './connection.js';

/** Messages stored in one write at most, and bytes asked for in one pull. */
const MAX_BATCH_MESSAGES = 200;
const PULL_BYTES = 16 * 1024 * 1024;
/** Nothing received this long while the consumer has messages waiting: pull anew (see analyze.ts STALL_MS). */
const STALL_MS = 8_000;

export interface StoreIntakeOptions {
  bus: Bus;
  /** The pipeline writing to the store (no stages: events arrive enriched). */
  pipeline: Pipeline;
  /** Told the detections whose events were stored now (the alert manager). */
  onDetections: (detections: Detection[]) => void;
  /** Where skipped messages are counted (`vigil_bus_invalid_messages_total`). */
  telemetry?: Telemetry;
  log?: (line: string) => void;
}

export class StoreIntake {
  readonly stats = { messages: 0, events: 0, duplicates: 0, detections: 0, redelivered: 0, invalid: 0 };
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  /** Detections of the batch being stored, by the id of their detection event. */
  private pending = new Map<string, Detection>();
  private readonly log: (line: string) => void;

  constructor(private readonly options: StoreIntakeOptions) {
    this.log = options.log ?? ((line) => console.error(line));
    // Listeners are told only of events stored now, not of duplicates skipped.
    options.pipeline.onStored((events) => this.stored(events));
  }

  private lastReceived = Date.now();
  private lastInvalidLog = 0;
  private watchdog: NodeJS.Timeout | undefined;

  start(): void {
    this.running = this.run();
    this.watchdog = setInterval(() => void this.checkStall(), STALL_MS / 2);
    this.watchdog.unref();
  }

  private async checkStall(): Promise<void> {
    if (this.stopping || !this.messages || Date.now() - this.lastReceived < STALL_MS) return;
    try {
      const info = await this.options.bus.jsm.consumers.info(STREAMS.analyzed.name, STORE_CONSUMER);
      if (info.num_pending > 0 && Date.now() - this.lastReceived >= STALL_MS && !this.stopping) {
        this.log(`vigil: store intake stalled with ${info.num_pending} messages waiting; pulling anew`);
        this.lastReceived = Date.now();
        this.messages.stop();
      }
    } catch {
      // The cluster is electing or unreachable: the next check will tell.
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const consumer = await this.options.bus.js.consumers.get(STREAMS.analyzed.name, STORE_CONSUMER);
        this.lastReceived = Date.now();
        // Explicit pulls bounded in bytes (a client that lets the server queue more than it reads is cut off as a
        // slow consumer); what has arrived is stored as one batch while the rest is on its way.
        while (!this.stopping) {
          const messages = await consumer.fetch({ max_bytes: PULL_BYTES, expires: 1_000 });
          this.messages = messages;
          if (this.stopping) messages.stop();
          let batch: JsMsg[] = [];
          try {
            for await (const m of messages) {
              this.lastReceived = Date.now();
              batch.push(m);
              if (messages.getPending() > 0 && batch.length < MAX_BATCH_MESSAGES) continue;
              const done = batch;
              batch = [];
              await this.store(done);
              failures = 0;
            }
          } catch (err) {
            if (!isPullFull(err)) throw err;
          }
          if (batch.length > 0) await this.store(batch);
        }
      } catch (err) {
        if (this.stopping) break;
        failures++;
        this.log(`vigil: store intake: ${errorMessage(err)}; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** failures)));
      }
    }
  }

  /** Stores a batch of messages, then acknowledges them; on failure they are redelivered after a pause. */
  private async store(batch: JsMsg[]): Promise<void> {
    const events: EcsEvent[] = [];
    const unique: number[] = [];
    const good: JsMsg[] = [];
    for (const m of batch) {
      // Anything can be published on the subject: a message of the wrong shape is never stored. Terminated, as
      // redelivering it would never help.
      const read = readAnalyzedMessage(m.data);
      if (!read.ok) {
        this.stats.invalid++;
        if (this.options.telemetry) invalidMessages(this.options.telemetry).inc({ stream: STREAMS.analyzed.name, reason: read.reason });
        const now = Date.now();
        if (now - this.lastInvalidLog >= 60_000) {
          this.lastInvalidLog = now;
          this.log(`vigil: store intake: skipped message ${m.seq} (${read.detail})`);
        }
        m.term();
        continue;
      }
      good.push(m);
      const body = read.message;
      const list = body.e;
      // A redelivered message may have been stored already (its acknowledgement lost, or its worker killed).
      if (m.info.redelivered) this.stats.redelivered++;
      if (m.info.redelivered || body.a) for (let i = 0; i < list.length; i++) unique.push(events.length + i);
      else for (const i of body.u ?? []) unique.push(events.length + i);
      for (const e of list) events.push(e);
      for (const d of body.d ?? []) this.pending.set(d.id, d.detection);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const duplicates = events.length > 0 ? await this.options.pipeline.storeNormalized(events, unique) : 0;
        this.stats.messages += good.length;
        this.stats.events += events.length - duplicates;
        this.stats.duplicates += duplicates;
        for (const m of good) m.ack();
        break;
      } catch (err) {
        // Busy: the store is behind; wait and try again while JetStream holds the messages.
        if (this.stopping || !(isVigilError(err) && err.id === 'busy') || attempt > 100) {
          for (const m of good) m.nak(5_000);
          this.log(`vigil: store intake: ${errorMessage(err)}; the batch will be redelivered`);
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    this.pending.clear();
  }

  private stored(events: readonly EcsEvent[]): void {
    if (this.pending.size === 0) return;
    const found: Detection[] = [];
    for (const e of events) {
      if (e.event?.kind !== 'alert') continue;
      const d = this.pending.get(e.event.id);
      if (d) found.push(d);
    }
    if (found.length === 0) return;
    this.stats.detections += found.length;
    try {
      this.options.onDetections(found);
    } catch (err) {
      this.log(`vigil: alerts from stored detections failed: ${errorMessage(err)}`);
    }
  }

  async close(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.messages?.stop();
    await this.running;
  }
}
