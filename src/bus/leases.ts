// Who analyzes which partition: one record per partition in a JetStream stream (owner, lease expiry, checkpoint),
// changed only by compare-and-set on the subject's last sequence (`Nats-Expected-Last-Subject-Sequence`, the
// mechanism JetStream's key-value buckets use), and a heartbeat per live worker that expires on its own.
// A worker that stops renewing loses its partitions after `lease_seconds`; a worker whose write is refused has lost
// the partition to another and stops at once (its last outputs, if any, are duplicates the store drops).
import { STREAMS, SUBJECTS, isWrongLastSequence, type Bus } from './connection.js';

/** The last raw-stream sequence of a partition whose outputs are durable, and its arrival time (ms). */
export interface Checkpoint {
  seq: number;
  time: number;
}

export interface PartitionRecord extends Checkpoint {
  /** Worker id, or '' when released. */
  owner: string;
  /** Wall-clock ms after which the claim is void. */
  expires: number;
  /**
   * Written before a batch's outputs are published: messages after the checkpoint up to here may have outputs
   * published already, so whoever analyzes them again marks their outputs for the store to check.
   */
  pending?: number;
}

export class PartitionTable {
  constructor(
    private readonly bus: Bus,
    readonly worker: string,
    private readonly leaseMs: number,
  ) {}

  /** The record and its revision (the subject's last sequence, 0 when none). */
  async read(partition: number): Promise<{ revision: number; record: PartitionRecord | undefined }> {
    const stream = await this.bus.jsm.streams.get(STREAMS.partitions.name);
    const last = await stream.getMessage({ last_by_subj: SUBJECTS.partition(partition) });
    if (!last) return { revision: 0, record: undefined };
    return { revision: last.seq, record: last.json<PartitionRecord>() };
  }

  /** Claims the partition when nobody holds it (released, expired or never claimed); undefined when another does. */
  async acquire(partition: number): Promise<Lease | undefined> {
    const { revision, record } = await this.read(partition);
    const now = Date.now();
    if (record && record.owner !== '' && record.owner !== this.worker && record.expires > now) return undefined;
    const pending = Math.max(record?.pending ?? 0, record?.seq ?? 0);
    const next: PartitionRecord = { owner: this.worker, expires: now + this.leaseMs, seq: record?.seq ?? 0, time: record?.time ?? 0, pending };
    const written = await this.write(partition, next, revision);
    return written === undefined ? undefined : new Lease(this, partition, written, { seq: next.seq, time: next.time }, pending);
  }

  /** Writes the record if its revision is still `revision`; answers the new revision, or undefined when it moved. */
  async write(partition: number, record: PartitionRecord, revision: number): Promise<number | undefined> {
    try {
      const ack = await this.bus.js.publish(SUBJECTS.partition(partition), JSON.stringify(record), { expect: { lastSubjectSequence: revision }, timeout: 5_000 });
      return ack.seq;
    } catch (err) {
      if (isWrongLastSequence(err)) return undefined;
      throw err;
    }
  }

  renewal(): PartitionRecord['expires'] {
    return Date.now() + this.leaseMs;
  }

  /** Says this worker is alive (its record expires with the stream's max_age unless renewed). */
  async heartbeat(): Promise<void> {
    await this.bus.js.publish(SUBJECTS.member(this.worker), String(Date.now()), { timeout: 5_000 });
  }

  /** Live analyze workers, this one included. */
  async members(): Promise<number> {
    const info = await this.bus.jsm.streams.info(STREAMS.members.name, { subjects_filter: STREAMS.members.subjects });
    return Math.max(1, Object.keys(info.state.subjects ?? {}).length);
  }

  /** Forgets this worker at once (a clean stop), so that the others rebalance without waiting for expiry. */
  async leave(): Promise<void> {
    await this.bus.jsm.streams.purge(STREAMS.members.name, { filter: SUBJECTS.member(this.worker) });
  }
}

/** One worker's claim on one partition; its writes are serialized so that checkpoints never go back. */
export class Lease {
  private chain: Promise<unknown> = Promise.resolve();
  private lost = false;

  constructor(
    private readonly table: PartitionTable,
    readonly partition: number,
    private revision: number,
    /** Where the partition stood when claimed: outputs up to here are durable already. */
    readonly start: Checkpoint,
    /** See PartitionRecord.pending. */
    public pending: number,
  ) {
    this.checkpoint = { ...start };
  }

  checkpoint: Checkpoint;

  private record(): PartitionRecord {
    return { owner: this.table.worker, expires: this.table.renewal(), ...this.checkpoint, pending: Math.max(this.pending, this.checkpoint.seq) };
  }

  /** Records that outputs of messages up to `seq` are about to be published; false when the partition was lost. */
  intend(seq: number): Promise<boolean> {
    return this.serialized(() => {
      if (seq > this.pending) this.pending = seq;
    });
  }

  get held(): boolean {
    return !this.lost;
  }

  /** Extends the claim, recording a new checkpoint if given; false when the partition was lost to another worker. */
  renew(checkpoint?: Checkpoint): Promise<boolean> {
    return this.serialized(() => {
      if (checkpoint && checkpoint.seq > this.checkpoint.seq) this.checkpoint = { ...checkpoint };
    });
  }

  private serialized(change: () => void): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      if (this.lost) return false;
      change();
      const revision = await this.table.write(this.partition, this.record(), this.revision);
      if (revision === undefined) {
        this.lost = true;
        return false;
      }
      this.revision = revision;
      return true;
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Gives the partition up with its checkpoint, for another worker to take at once. */
  release(): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.lost) return;
      this.lost = true;
      await this.table.write(this.partition, { ...this.record(), owner: '', expires: 0 }, this.revision);
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
