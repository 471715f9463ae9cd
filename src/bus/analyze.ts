// The analyze role: enrich and detect, partition by partition. Each partition is read in stream order by one worker
// at a time (a lease, leases.ts), with its own rule engine, so that its correlation windows see exactly the
// events of their groups in a fixed order wherever they run. A batch's outputs (enriched events, detection events,
// inputs forwarded to other partitions) are published and acknowledged by JetStream before the partition's
// checkpoint moves past it: a worker that dies loses nothing, and whoever takes its partitions over re-reads the
// last `replay_minutes` before the checkpoint to rebuild the windows silently, then goes on from the checkpoint.
// Outputs of batches done twice carry the same ids (event ids fixed at ingest, detection ids hashed from their
// evidence, ids.ts), so the store keeps each once.
import { randomUUID } from 'node:crypto';
import { DeliverPolicy, type ConsumerMessages, type JsMsg, type OrderedConsumerOptions } from '@nats-io/jetstream';
import type { Clock } from '../core/clock.js';
import type { Detection, Detector } from '../core/detection.js';
import { errorMessage } from '../core/errors.js';
import type { EcsEvent } from '../core/event.js';
import type { Telemetry } from '../core/telemetry.js';
import type { CorrelationInput } from '../detect/correlate/correlation.js';
import type { CorrelationRouter, RuleEngine } from '../detect/rules/engine.js';
import { detectionEvent, relate, runDetectors, triggers } from '../pipeline/detect.js';
import { normalizeDocument } from '../pipeline/normalize.js';
import type { EventStage } from '../pipeline/pipeline.js';
import { chunkSerialized, invalidMessages, rawHitsBody, readRawMessage, type ForwardedHit } from './codec.js';
import { STREAMS, SUBJECTS, isPullFull, type Bus } from './connection.js';
import { detectionId, hashId } from './ids.js';
import { Lease, PartitionTable, type Checkpoint } from './leases.js';
import { hashKey, partitionOfKey } from './partition.js';

/** Messages taken from a partition before its outputs are published and its checkpoint written. */
const MAX_BATCH_MESSAGES = 256;
/** Event ids (and forwarded-hit keys) remembered per partition to skip redelivered ones. */
const SEEN_PER_PARTITION = 50_000;
/**
 * A partition that received nothing this long while its subject has newer messages is read anew from where it
 * stood. The client's ordered consumer normally recovers from a lost node by itself, but not always promptly.
 */
const STALL_MS = 8_000;
/** Bytes a partition's reader asks for at once, and how long a pull waits for them when the partition is quiet. */
const PULL_BYTES = 2 * 1024 * 1024;
const FETCH_EXPIRES_MS = 1_000;

export interface AnalyzeOptions {
  bus: Bus;
  /** This worker's name on the bus (default: a random one). */
  id?: string;
  /** A new rule engine: each partition has its own, holding that partition's windows. */
  ruleEngine: () => Promise<RuleEngine>;
  /** Detectors shared by this worker's partitions (models, threat intelligence); they see live events only. */
  detectors: Detector[];
  /** Enrichment, run on every event before detection. */
  stages: EventStage[];
  telemetry: Telemetry;
  clock: Clock;
  maxLineChars: number;
  /** Rule switches made through the API (rules.ts): applied to every partition's engine before its next batch. */
  switches?: { readonly version: number; applyTo(engine: RuleEngine): void };
  log?: (line: string) => void;
}

export interface AnalyzeStats {
  partitions: number[];
  /** Events analyzed (live, not replayed) and replayed to rebuild windows. */
  events: number;
  replayed: number;
  detections: number;
  /** Inputs sent to another partition's correlation windows. */
  forwarded: number;
  /** Events and hits skipped as already seen. */
  duplicates: number;
  takeovers: number;
  /** Messages of the wrong shape, skipped. */
  invalid: number;
}

/** Event ids seen lately, oldest forgotten first. */
class SeenSet {
  private readonly set = new Set<string>();
  constructor(private readonly max: number) {}
  /** True when new. */
  add(key: string): boolean {
    if (this.set.has(key)) return false;
    this.set.add(key);
    if (this.set.size > this.max) this.set.delete(this.set.values().next().value as string);
    return true;
  }
}

interface Outputs {
  events: EcsEvent[];
  detections: Detection[];
  hits: Map<number, ForwardedHit[]>;
  /** Events whose id the sender chose: the store checks them. */
  given: Set<EcsEvent>;
  /** The batch may repeat outputs already published (see PartitionRunner.sinceStart): the store checks every id. */
  repeat: boolean;
}

export class AnalyzeWorker {
  readonly id: string;
  readonly stats: AnalyzeStats = { partitions: [], events: 0, replayed: 0, detections: 0, forwarded: 0, duplicates: 0, takeovers: 0, invalid: 0 };
  private readonly table: PartitionTable;
  private readonly runners = new Map<number, PartitionRunner>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;
  private readonly log: (line: string) => void;

  constructor(readonly options: AnalyzeOptions) {
    this.id = options.id ?? randomUUID().slice(0, 8);
    this.table = new PartitionTable(options.bus, this.id, options.bus.config.lease_seconds * 1000);
    this.log = options.log ?? ((line) => console.log(line));
  }

  get leaseMs(): number {
    return this.options.bus.config.lease_seconds * 1000;
  }

  /** Joins the workers and claims a fair share of the partitions; rebalances every third of a lease. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(200, this.leaseMs / 3));
    this.timer.unref();
  }

  /** Partitions this worker holds now. */
  owned(): number[] {
    return [...this.runners.keys()].sort((a, b) => a - b);
  }

  private tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.balance()
      .catch((err: unknown) => {
        if (!this.closed) this.log(`vigil: analyze ${this.id}: ${errorMessage(err)} (will retry)`);
      })
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /**
   * Each worker aims at ceil(partitions / workers): one over it releases its last ones (with their checkpoints) for
   * the others; one under it claims free or expired ones. A dead worker's claims expire after a lease.
   */
  private async balance(): Promise<void> {
    if (this.closed) return;
    await this.table.heartbeat();
    for (const [p, runner] of this.runners) if (runner.finished) this.runners.delete(p);
    const n = this.options.bus.config.partitions;
    const target = Math.ceil(n / (await this.table.members()));
    const order = Array.from({ length: n }, (_, i) => (hashKey(this.id) + i) % n);
    if (this.runners.size > target) {
      const extra = order.filter((p) => this.runners.has(p)).slice(target);
      await Promise.all(extra.map((p) => this.runners.get(p)!.stop(true)));
      for (const p of extra) this.runners.delete(p);
    } else {
      for (const p of order) {
        if (this.closed || this.runners.size >= target) break;
        if (this.runners.has(p)) continue;
        const lease = await this.table.acquire(p);
        if (!lease) continue;
        if (lease.start.seq > 0) this.stats.takeovers++;
        const runner = new PartitionRunner(this, lease);
        this.runners.set(p, runner);
        runner.start();
      }
    }
    this.stats.partitions = this.owned();
  }

  /** The rule files changed: each partition reloads its engine before its next batch (unchanged windows are kept). */
  reloadRules(): void {
    for (const runner of this.runners.values()) runner.reloadPending = true;
  }

  /** Hits per rule id over every partition this worker holds (since each partition's engine was made). */
  ruleHits(): Record<string, number> {
    const hits: Record<string, number> = {};
    for (const runner of this.runners.values()) {
      for (const rule of runner.rules?.list() ?? []) if (rule.hits > 0) hits[rule.id] = (hits[rule.id] ?? 0) + rule.hits;
    }
    return hits;
  }

  /** Publishes a batch's outputs and waits until JetStream has them all. */
  async publish(partition: number, first: number, last: number, out: Outputs): Promise<void> {
    const { bus, clock, maxLineChars } = this.options;
    const now = clock.now();
    const events: string[] = out.events.map((e) => JSON.stringify(e));
    const given: boolean[] = out.events.map((e) => out.given.has(e));
    const detections: string[] = new Array(events.length).fill('');
    for (const d of out.detections) {
      const doc = detectionEvent(d);
      const id = detectionId(d);
      (doc.event as Record<string, unknown>).id = id;
      const normalized = normalizeDocument(doc, { input: 'detect' }, now, undefined, maxLineChars);
      if (!normalized.ok) continue;
      events.push(JSON.stringify(normalized.event));
      detections.push(JSON.stringify({ id, detection: d }));
    }
    const sends: Promise<unknown>[] = [];
    let offset = 0;
    let index = 0;
    for (const chunk of chunkSerialized(events, bus.maxMessageBytes)) {
      const dets = detections.slice(offset, offset + chunk.length).filter((d) => d !== '');
      let check = '';
      if (out.repeat) check = ',"a":1';
      else {
        const unique: number[] = [];
        for (let k = 0; k < chunk.length; k++) if (given[offset + k]) unique.push(k);
        if (unique.length > 0) check = `,"u":[${unique.join(',')}]`;
      }
      offset += chunk.length;
      // The same worker retrying the same batch gives the same message ids: JetStream drops the copies.
      const msgID = hashId('analyzed', String(partition), String(first), String(last), String(index++));
      sends.push(bus.publish(SUBJECTS.analyzed, `{"e":[${chunk.join(',')}],"d":[${dets.join(',')}]${check}}`, msgID));
    }
    for (const [q, hits] of out.hits) {
      const serialized = hits.map((h) => JSON.stringify(h));
      let at = 0;
      for (const chunk of chunkSerialized(serialized, bus.maxMessageBytes)) {
        const msgID = hashId('hits', hits[at]!.k, String(chunk.length), hits[at + chunk.length - 1]!.k);
        at += chunk.length;
        sends.push(bus.publish(SUBJECTS.raw(q), rawHitsBody(chunk), msgID));
      }
    }
    await Promise.all(sends);
  }

  /** Stops every partition, releasing it with its checkpoint, and leaves. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.all([...this.runners.values()].map((r) => r.stop(true)));
    this.runners.clear();
    await this.table.leave().catch(() => undefined);
  }

  /** Drops partitions at once without releasing them, as a crash would (tests). */
  async crash(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.runners.values()].map((r) => r.stop(false)));
    this.runners.clear();
  }

  /** A message of the wrong shape on a partition: counted (`vigil_bus_invalid_messages_total`) and logged, at most once a minute. */
  invalid(partition: number, seq: number, reason: string, detail: string): void {
    this.stats.invalid++;
    invalidMessages(this.options.telemetry).inc({ stream: STREAMS.raw.name, reason });
    const now = Date.now();
    if (now - this.lastInvalidLog < 60_000) return;
    this.lastInvalidLog = now;
    this.log(`vigil: analyze ${this.id}: partition ${partition}: skipped message ${seq} (${detail})`);
  }

  private lastInvalidLog = 0;

  logLine(line: string): void {
    this.log(line);
  }
}

/** One partition on one worker: its rule engine, its read position and the loop that analyzes it. */
class PartitionRunner implements CorrelationRouter {
  finished = false;
  reloadPending = false;
  private stopping = false;
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private engine: RuleEngine | undefined;
  /** The version of the rule switches this engine has applied (-1: none yet). */
  private switchVersion = -1;
  private seen = new SeenSet(SEEN_PER_PARTITION);
  /** The last sequence fed to the engine, and whether a batch is half done (fed, its outputs not yet durable). */
  private position = 0;
  private dirty = false;
  /**
   * Messages after the checkpoint whose outputs may have been published already (by a dead predecessor, or by this
   * worker before a failure): up to the `pending` mark written before each publish (leases.ts). Their outputs are
   * marked for the store to check; everything else is appended without a lookup.
   */
  private repeatUntil = 0;
  private lastReceived = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  private checking = false;
  /** Set by the watchdog: the read is started anew from the position. */
  private reread = false;
  /** Where the current batch's forwarded inputs go; undefined while replaying (they were sent the first time). */
  private out: Outputs | undefined;
  readonly partition: number;

  constructor(
    private readonly worker: AnalyzeWorker,
    private readonly lease: Lease,
  ) {
    this.partition = lease.partition;
  }

  start(): void {
    this.renewTimer = setInterval(() => {
      void this.lease.renew().then(
        (held) => {
          if (!held) this.lose();
        },
        () => undefined,
      );
    }, Math.max(100, this.worker.leaseMs / 3));
    this.renewTimer.unref();
    this.watchdog = setInterval(() => void this.checkStall(), STALL_MS / 2);
    this.watchdog.unref();
    this.running = this.run().finally(() => {
      this.finished = true;
      if (this.renewTimer) clearInterval(this.renewTimer);
      if (this.watchdog) clearInterval(this.watchdog);
      this.engine?.close();
    });
  }

  get rules(): RuleEngine | undefined {
    return this.engine;
  }

  /** Restarts the read (keeping the windows) when messages wait on the subject and none has arrived for a while. */
  private async checkStall(): Promise<void> {
    if (this.checking || this.stopping || this.dirty || Date.now() - this.lastReceived < STALL_MS || !this.messages) return;
    this.checking = true;
    try {
      const stream = await this.worker.options.bus.jsm.streams.get(STREAMS.raw.name);
      const last = await stream.getMessage({ last_by_subj: SUBJECTS.raw(this.partition) });
      if (last && last.seq > this.position && Date.now() - this.lastReceived >= STALL_MS && !this.stopping) {
        this.worker.logLine(`vigil: analyze ${this.worker.id}: partition ${this.partition} stalled at ${this.position} (last ${last.seq}); reading it anew`);
        this.lastReceived = Date.now();
        this.reread = true;
        this.messages.stop();
      }
    } catch {
      // The cluster is electing or unreachable: the next check will tell.
    } finally {
      this.checking = false;
    }
  }

  private lose(): void {
    if (this.stopping) return;
    this.worker.logLine(`vigil: analyze ${this.worker.id}: partition ${this.partition} is left to another worker`);
    this.stopping = true;
    this.messages?.stop();
  }

  /**
   * Reads the partition until stopped. A read that ends cleanly (the watchdog, a lost consumer) resumes after the
   * last message fed to the windows; after an error mid-batch it starts over from the checkpoint with fresh windows.
   */
  private async run(): Promise<void> {
    let failures = 0;
    let fresh = true;
    while (!this.stopping && this.lease.held) {
      try {
        await this.consume(fresh);
        fresh = false;
        failures = 0;
      } catch (err) {
        if (this.stopping) break;
        failures++;
        fresh = this.dirty || this.engine === undefined;
        this.messages?.stop();
        this.worker.logLine(`vigil: analyze ${this.worker.id}: partition ${this.partition}: ${errorMessage(err)}; ${fresh ? 'starting over from its checkpoint' : 'reading on'}`);
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** failures)));
      }
    }
  }

  private async consume(fresh: boolean): Promise<void> {
    const { bus } = this.worker.options;
    const from: Checkpoint = { ...this.lease.checkpoint };
    const options: Partial<OrderedConsumerOptions> = { filter_subjects: SUBJECTS.raw(this.partition) };
    if (fresh) {
      // Windows are rebuilt from the log: whatever this engine saw of a failed batch is forgotten.
      this.engine?.close();
      this.engine = undefined;
      const engine = await this.worker.options.ruleEngine();
      engine.setRouter(this);
      this.engine = engine;
      this.switchVersion = -1;
      this.seen = new SeenSet(SEEN_PER_PARTITION);
      this.dirty = false;
      this.repeatUntil = this.lease.pending;
      this.position = from.seq;
      const replayMs = bus.config.replay_minutes * 60_000;
      if (from.seq === 0) options.deliver_policy = DeliverPolicy.All;
      else if (replayMs > 0) {
        options.deliver_policy = DeliverPolicy.StartTime;
        options.opt_start_time = new Date(Math.max(0, from.time - replayMs)).toISOString();
      } else {
        options.deliver_policy = DeliverPolicy.StartSequence;
        options.opt_start_seq = from.seq + 1;
      }
    } else {
      options.deliver_policy = DeliverPolicy.StartSequence;
      options.opt_start_seq = this.position + 1;
    }
    const consumer = await bus.js.consumers.get(STREAMS.raw.name, options);
    this.lastReceived = Date.now();
    this.reread = false;
    // Explicit pulls, each bounded in bytes (a worker reads many partitions over one connection, and a client that
    // lets the server queue more than it reads is cut off as a slow consumer); what has arrived is analyzed as one
    // batch while the rest is on its way.
    while (!this.stopping && !this.reread) {
      const messages = await consumer.fetch({ max_bytes: PULL_BYTES, expires: FETCH_EXPIRES_MS });
      this.messages = messages;
      if (this.stopping || this.reread) messages.stop();
      let batch: JsMsg[] = [];
      try {
        for await (const m of messages) {
          this.lastReceived = Date.now();
          // A restarted read may begin before where this engine stands.
          if (m.seq <= this.position && !fresh) continue;
          batch.push(m);
          if (messages.getPending() > 0 && batch.length < MAX_BATCH_MESSAGES) continue;
          const done = batch;
          batch = [];
          await this.process(done, from.seq);
          if (this.stopping) break;
        }
      } catch (err) {
        if (!isPullFull(err)) throw err;
      }
      if (batch.length > 0 && !this.stopping) await this.process(batch, from.seq);
    }
  }

  /** Analyzes messages in order; those up to `replayUntil` only rebuild windows. Then publishes and checkpoints. */
  private async process(batch: JsMsg[], replayUntil: number): Promise<void> {
    const out: Outputs = { events: [], detections: [], hits: new Map(), given: new Set(), repeat: false };
    const stats = this.worker.stats;
    if (this.reloadPending && this.engine) {
      this.reloadPending = false;
      try {
        this.engine.reload();
      } catch (err) {
        this.worker.logLine(`vigil: analyze ${this.worker.id}: partition ${this.partition} kept its rules: ${errorMessage(err)}`);
      }
    }
    const switches = this.worker.options.switches;
    if (switches && this.engine && this.switchVersion !== switches.version) {
      this.switchVersion = switches.version;
      switches.applyTo(this.engine);
    }
    this.dirty = true;
    this.position = batch[batch.length - 1]!.seq;
    for (const m of batch) {
      const live = m.seq > replayUntil;
      // Anything can be published on the subject: a message of the wrong shape is counted and skipped, never fed
      // to the windows (it would stop the partition at the same message after every restart).
      const read = readRawMessage(m.data);
      if (!read.ok) {
        if (live) this.worker.invalid(this.partition, m.seq, read.reason, read.detail);
        continue;
      }
      const body = read.message;
      this.out = live ? out : undefined;
      if (live && m.seq <= this.repeatUntil) out.repeat = true;
      if (body.e) this.events(body.e, body.u, live, out);
      if (body.h) this.hits(body.h, live, out);
    }
    this.out = undefined;
    stats.detections += out.detections.length;
    const last = batch[batch.length - 1]!;
    if (last.seq <= replayUntil) {
      this.dirty = false;
      return;
    }
    if (out.events.length > 0 || out.detections.length > 0 || out.hits.size > 0) {
      // Intent first: a successor then knows which messages' outputs it may be publishing a second time.
      if (!(await this.record(() => this.lease.intend(last.seq)))) return;
      await this.worker.publish(this.partition, batch[0]!.seq, last.seq, out);
    }
    // The outputs are durable: the batch is done even if the checkpoint write below fails (a later one covers it).
    this.dirty = false;
    if (this.stopping && !this.lease.held) return;
    await this.record(() => this.lease.renew({ seq: last.seq, time: Math.floor(last.info.timestampNanos / 1e6) }));
  }

  /**
   * Writes the partition's record, retrying while the cluster is unavailable. A worker that cannot write it for a
   * whole lease, or finds it taken, leaves the partition: another may be taking over from the record as it stands,
   * so this one must publish nothing further. Answers whether it may go on.
   */
  private async record(write: () => Promise<boolean>): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (await write()) return true;
        this.lose();
        return false;
      } catch (err) {
        if (attempt * 250 >= this.worker.leaseMs) {
          this.worker.logLine(`vigil: analyze ${this.worker.id}: partition ${this.partition}: cannot write its record (${errorMessage(err)})`);
          this.lose();
          return false;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private events(events: EcsEvent[], given: number[] | undefined, live: boolean, out: Outputs): void {
    const { stages, detectors, telemetry } = this.worker.options;
    const stats = this.worker.stats;
    if (live && given) for (const i of given) if (events[i]) out.given.add(events[i]);
    const fresh = events.filter((e) => typeof e?.event?.id === 'string' && this.seen.add(e.event.id));
    stats.duplicates += events.length - fresh.length;
    if (fresh.length === 0) return;
    for (const stage of stages) {
      try {
        stage.process(fresh);
      } catch (err) {
        console.error(`vigil: stage ${stage.name} failed: ${errorMessage(err)}`);
      }
    }
    // Detections of detections are not sought (as in DetectStage).
    const input = fresh.filter((e) => e.event?.kind !== 'alert');
    let found: Detection[];
    if (live) {
      stats.events += fresh.length;
      found = runDetectors([this.engine!, ...detectors], input, telemetry);
      out.events.push(...fresh);
    } else {
      stats.replayed += fresh.length;
      found = this.engine!.process(input);
    }
    if (found.length === 0 || !live) return;
    relate(found, triggers(found, input));
    out.detections.push(...found);
  }

  private hits(hits: ForwardedHit[], live: boolean, out: Outputs): void {
    for (const h of hits) {
      if (!this.seen.add(`hit\u0000${h.k}`)) {
        this.worker.stats.duplicates++;
        continue;
      }
      const found = this.engine!.offerForwarded(h.r, { ref: h.f, time: h.t, timestamp: h.s, id: h.i, doc: h.d });
      if (found.length === 0 || !live) continue;
      relate(found, triggers(found, [h.d as unknown as EcsEvent]));
      out.detections.push(...found);
    }
  }

  /** CorrelationRouter: keeps inputs whose group hashes to this partition, forwards the others (when live). */
  route(rule: string, groupKey: string, input: CorrelationInput): boolean {
    const n = this.worker.options.bus.config.partitions;
    const q = partitionOfKey(groupKey, n);
    if (q === this.partition) return true;
    const out = this.out;
    if (out) {
      let list = out.hits.get(q);
      if (!list) out.hits.set(q, (list = []));
      list.push({ k: `${rule}\u0000${input.ref}\u0000${input.id}`, r: rule, f: input.ref, t: input.time, s: input.timestamp, i: input.id, d: input.doc });
      this.worker.stats.forwarded++;
    }
    return false;
  }

  /** Stops reading; `release` gives the partition up with its checkpoint (else its lease just runs out). */
  async stop(release: boolean): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    await this.running;
    if (release) await this.lease.release().catch(() => undefined);
  }
}
