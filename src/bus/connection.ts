// The connection to NATS JetStream and the streams Vigil's roles share (set up idempotently by whichever process
// starts first), with a publish that survives a leader election: retried under the same `Nats-Msg-Id`, so that a
// retry of a message JetStream had in fact stored is dropped by JetStream's duplicate window, not stored twice.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { BusConfig } from '../config/bus.js';
import { VigilError, errorMessage, isVigilError } from '../core/errors.js';

/**
 * The streams. `raw` holds normalized events (and forwarded correlation inputs) by partition, kept for replay;
 * `analyzed` holds enriched events and detections until the store role has stored them (a work queue);
 * `partitions` holds one record per partition: its owner, lease and checkpoint; `members` the live analyze workers.
 */
export const STREAMS = {
  raw: { name: 'VIGIL_RAW', subjects: 'vigil.raw.*' },
  analyzed: { name: 'VIGIL_ANALYZED', subjects: 'vigil.analyzed' },
  partitions: { name: 'VIGIL_PARTITIONS', subjects: 'vigil.partition.*' },
  members: { name: 'VIGIL_MEMBERS', subjects: 'vigil.member.*' },
} as const;

export const SUBJECTS = {
  raw: (p: number) => `vigil.raw.${p}`,
  analyzed: 'vigil.analyzed',
  partition: (p: number) => `vigil.partition.${p}`,
  /** The partition count the deployment was set up with: every process must agree on it. */
  partitionCount: 'vigil.partition.count',
  member: (id: string) => `vigil.member.${id}`,
} as const;

/**
 * Key-value buckets (JetStream KV) the roles share: rule switches made in the API (analyze workers apply them),
 * users and tokens (every role with an HTTP API checks them), and the processes of the deployment (for health).
 */
export const BUCKETS = {
  rules: 'vigil-rules',
  auth: 'vigil-auth',
  processes: 'vigil-processes',
} as const;

/** Core NATS subjects (request/reply and notices; nothing here needs to be durable). */
export const SERVICES = {
  /** The store role's API, for the api role's requests about what the store role owns (alerts, incidents …). */
  api: 'vigil.service.api',
  /** Every analyze worker answers (status, models, rule hits); `.<worker id>` for one of them. */
  analyze: 'vigil.service.analyze',
  analyzeWorker: (id: string) => `vigil.service.analyze.${id}`,
  /** Alert changes and stored-event rates, from the store role to the api role's live stream. */
  liveAlert: 'vigil.live.alert',
  liveRates: 'vigil.live.rates',
} as const;

/** The durable consumer the store role shares (several store processes may pull from it with ClickHouse). */
export const STORE_CONSUMER = 'vigil-store';

/** JetStream's error code for "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;

/** Payload bytes per message at most: NATS refuses messages over the server's max_payload (1 MiB by default). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** A pull bounded in bytes ends with this status when the next message would not fit: the pull is done, not failed. */
export function isPullFull(err: unknown): boolean {
  return err instanceof Error && /exceeds maxbytes/i.test(err.message);
}

export function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

export class Bus {
  readonly js: JetStreamClient;
  private closed = false;
  private readonly buckets = new Map<string, Promise<KV>>();

  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly config: BusConfig,
  ) {
    this.js = jetstream(nc, { timeout: 10_000 });
  }

  /** Connects to any of the servers; the client follows the cluster and reconnects on its own. */
  static async connect(config: BusConfig, name = 'vigil'): Promise<Bus> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: config.servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 10_000 });
    } catch (err) {
      throw new VigilError('unavailable', `cannot reach NATS at ${config.servers.join(', ')} (${errorMessage(err)}); is nats-server running with JetStream (-js)?`, { cause: err });
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: 10_000 });
      return new Bus(nc, jsm, config);
    } catch (err) {
      await nc.close();
      throw new VigilError('unavailable', `NATS at ${config.servers.join(', ')} offers no JetStream (${errorMessage(err)}): start nats-server with -js`, { cause: err });
    }
  }

  /** The server's message limit (its default while reconnecting, when the connection has no server info). */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** Largest message worth sending: half the server's limit, leaving room for headers and JSON framing. */
  get maxMessageBytes(): number {
    return Math.floor(this.maxPayload / 2);
  }

  /**
   * Creates the streams (and the store consumer), or updates them to this configuration; safe to run concurrently.
   * A stream just created answers only once its replicas have elected a leader: each step is retried meanwhile.
   */
  async setup(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.setupOnce();
        return;
      } catch (err) {
        if (isVigilError(err) && err.id === 'bad_config') throw err;
        if (Date.now() > deadline) throw new VigilError('unavailable', `cannot set up the bus's streams: ${errorMessage(err)}`, { cause: err });
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  private async setupOnce(): Promise<void> {
    const replicas = this.config.replicas;
    const maxAge = this.config.max_age_hours * 3_600 * 1e9;
    const base = { storage: StorageType.File, num_replicas: replicas } as const;
    await this.ensureStream({ ...base, name: STREAMS.raw.name, subjects: [STREAMS.raw.subjects], retention: RetentionPolicy.Limits, max_age: maxAge });
    // A work queue: what the store role has acknowledged is gone; the rest waits for it.
    await this.ensureStream({ ...base, name: STREAMS.analyzed.name, subjects: [STREAMS.analyzed.subjects], retention: RetentionPolicy.Workqueue, max_age: maxAge });
    await this.ensureStream({ ...base, name: STREAMS.partitions.name, subjects: [STREAMS.partitions.subjects], retention: RetentionPolicy.Limits, max_msgs_per_subject: 1 });
    // A member that stops renewing vanishes on its own.
    await this.ensureStream({
      ...base,
      name: STREAMS.members.name,
      subjects: [STREAMS.members.subjects],
      retention: RetentionPolicy.Limits,
      max_msgs_per_subject: 1,
      max_age: this.config.lease_seconds * 1e9,
    });
    await this.checkPartitionCount();
    try {
      await this.jsm.consumers.add(STREAMS.analyzed.name, {
        durable_name: STORE_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        // Unacknowledged this long (a store worker died), a message goes to another.
        ack_wait: 30e9,
        max_ack_pending: 20_000,
        num_replicas: replicas,
      });
    } catch (err) {
      // Another process created it with the same settings a moment ago, or an older one exists: use it as it is.
      if (!(err instanceof JetStreamApiError)) throw err;
    }
  }

  private async ensureStream(config: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      await this.jsm.streams.add(config);
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== STREAM_NAME_IN_USE) {
        throw new VigilError('unavailable', `cannot create the JetStream stream ${config.name}: ${errorMessage(err)}`, { cause: err });
      }
      const { name, retention: _retention, storage: _storage, ...update } = config;
      try {
        await this.jsm.streams.update(name, update);
      } catch (e) {
        throw new VigilError('bad_config', `the JetStream stream ${name} exists with settings that cannot become these (${errorMessage(e)}); delete it or change \`bus\` back`, { cause: e });
      }
    }
  }

  /** Every process of a deployment must spread events over the same partitions: the first one records the count. */
  private async checkPartitionCount(): Promise<void> {
    const stream = await this.jsm.streams.get(STREAMS.partitions.name);
    const want = this.config.partitions;
    for (let attempt = 0; attempt < 3; attempt++) {
      const last = await stream.getMessage({ last_by_subj: SUBJECTS.partitionCount });
      if (last) {
        const have = Number(last.string());
        if (have !== want) throw new VigilError('bad_config', `this bus was set up with bus.partitions: ${have}, this process has ${want}: use the same configuration in every Vigil process`);
        return;
      }
      try {
        await this.js.publish(SUBJECTS.partitionCount, String(want), { expect: { lastSubjectSequence: 0 } });
        return;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
  }

  /**
   * Publishes and waits for JetStream's acknowledgement (the message is then on a quorum of replicas). Retries
   * while the cluster elects a leader or the client reconnects, for up to `publish_timeout_seconds`.
   */
  async publish(subject: string, data: Uint8Array | string, msgID?: string): Promise<PubAck> {
    const deadline = Date.now() + this.config.publish_timeout_seconds * 1000;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.js.publish(subject, data, { ...(msgID ? { msgID } : {}), timeout: 5_000 });
      } catch (err) {
        if (this.closed || Date.now() >= deadline) {
          throw new VigilError('unavailable', `the bus did not take the events (${errorMessage(err)}); retry shortly`, { retryAfter: 5, cause: err });
        }
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      }
    }
  }

  /**
   * A key-value bucket (created with the bus's replicas when missing). `ttlMs` makes entries vanish when not
   * renewed. Opening is retried like setup, as a bucket just created answers once its replicas elected a leader.
   */
  kv(name: string, options: { ttlMs?: number } = {}): Promise<KV> {
    let bucket = this.buckets.get(name);
    if (!bucket) {
      const open = async (): Promise<KV> => {
        const deadline = Date.now() + 60_000;
        for (let attempt = 0; ; attempt++) {
          try {
            const kv = await new Kvm(this.js).create(name, { replicas: this.config.replicas, history: 1, ...(options.ttlMs ? { ttl: options.ttlMs } : {}) });
            // A bucket just created on a cluster answers reads only once its replicas have elected a leader.
            await kv.get('probe');
            return kv;
          } catch (err) {
            if (this.closed || Date.now() > deadline) throw new VigilError('unavailable', `cannot open the bus's key-value bucket ${name}: ${errorMessage(err)}`, { cause: err });
            await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
          }
        }
      };
      bucket = open();
      bucket.catch(() => this.buckets.delete(name));
      this.buckets.set(name, bucket);
    }
    return bucket;
  }

  /** The name of the node leading a stream's replicas (JetStream stream info `cluster.leader`). */
  async leader(stream: string = STREAMS.raw.name): Promise<string | undefined> {
    const info = await this.jsm.streams.info(stream);
    return info.cluster?.leader;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close();
    }
  }
}
