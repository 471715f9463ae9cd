// One syslog TCP or TLS connection: frames its bytes, batches the messages, and stops reading while the pipeline
// cannot keep up, or while the connection is over its message rate, so that the sender's TCP window fills instead of
// our memory (no acknowledged byte is dropped).
import type { Socket } from 'node:net';
import { TokenBucket, type RateLimit } from '../../core/token-bucket.js';
import type { Delivery } from './delivery.js';
import { StreamFramer } from './framing.js';

export type StreamInput = 'syslog_tcp' | 'syslog_tls';

export interface SessionSettings {
  maxMessageBytes: number;
  batchMs: number;
  batchSize: number;
  /** 0 turns the idle timeout off. */
  idleTimeoutMs: number;
  /** Messages per second per connection (a rate of 0: none); over it, reading slows to the rate. */
  rateLimit?: RateLimit;
}

/**
 * Lines a connection may hold (being batched, queued or in flight) before it stops reading. Two batches keep the
 * pipeline fed while one is being stored, and bound what a connection holds to about two batches plus one read.
 */
const BACKLOG_BATCHES = 2;

export class StreamSession {
  /** Resolves once the connection is closed and every message read from it has been handed over. */
  readonly done: Promise<void>;
  readonly peer: string;
  private resolveDone!: () => void;
  private readonly framer: StreamFramer;
  private pending: string[] = [];
  /** Positions in `pending` of messages cut to the length limit (they get the `_truncated` tag). */
  private pendingCut: number[] = [];
  private readonly queue: { lines: string[]; truncated: number[] }[] = [];
  /** Lines in `queue` plus the batch in flight. */
  private queuedLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  private retrying = false;
  private reading = true;
  private closed = false;
  /** The connection's message budget, charged with each chunk's messages once framed (undefined: no limit). */
  private readonly bucket: TokenBucket | undefined;
  private uncharged = 0;
  /** Set while reading is held back for the rate limit: when the debt is repaid, reading goes on. */
  private throttle: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly input: StreamInput,
    private readonly settings: SessionSettings,
    private readonly delivery: Delivery,
    private readonly onMessages: (count: number) => void,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.peer = formatPeer(socket.remoteAddress, socket.remotePort);
    this.framer = new StreamFramer(settings.maxMessageBytes, (text, truncated) => this.onMessage(text, truncated));
    const limit = settings.rateLimit;
    this.bucket = limit !== undefined && limit.rate > 0 ? new TokenBucket(limit, performance.now()) : undefined;
    socket.setKeepAlive(true, 60_000); // finds peers that vanished without a FIN, without closing quiet ones
    if (settings.idleTimeoutMs > 0) socket.setTimeout(settings.idleTimeoutMs);
    socket.on('timeout', () => socket.destroy());
    // An error (a reset, a TLS alert) ends this connection only: the 'close' that follows finishes it.
    socket.on('error', () => {});
    socket.once('close', () => this.finish());
    socket.on('data', (chunk: Buffer) => {
      this.framer.push(chunk);
      // A chunk's messages are already read: they are taken, and the connection pays for them by waiting.
      if (this.bucket !== undefined && this.uncharged > 0) this.bucket.charge(this.uncharged, performance.now());
      this.uncharged = 0;
      this.updateFlow();
    });
  }

  /** True until the connection closes (its last messages may still be on their way to the pipeline). */
  get open(): boolean {
    return !this.closed;
  }

  /** True while reading is paused for back-pressure. */
  get paused(): boolean {
    return !this.reading && !this.closed;
  }

  /** True while reading is held back because the connection is over its message rate. */
  get throttled(): boolean {
    return this.throttle !== undefined && !this.closed;
  }

  /** Closes the connection; what was read is still delivered (see `done`). */
  stop(): void {
    this.socket.destroy();
  }

  /** Reads again if nothing holds the connection back any more; pauses it if something does. */
  updateFlow(): void {
    if (this.closed) return;
    const backlog = this.pending.length + this.queuedLines;
    const overRate = this.throttle !== undefined || this.checkRate();
    const hold = overRate || this.retrying || backlog >= BACKLOG_BATCHES * this.settings.batchSize || this.delivery.congested();
    if (hold === !this.reading) return;
    this.reading = !hold;
    if (hold) {
      this.socket.pause();
      // A paused connection is quiet because of us, not the sender: it must not time out.
      this.socket.setTimeout(0);
    } else {
      this.socket.resume();
      if (this.settings.idleTimeoutMs > 0) this.socket.setTimeout(this.settings.idleTimeoutMs);
    }
  }

  /** True (and a wake-up set) when the connection owes messages: it is not read until the debt is repaid. */
  private checkRate(): boolean {
    const waitMs = this.bucket?.waitMs(0, performance.now()) ?? 0;
    if (waitMs <= 0) return false;
    this.throttle = setTimeout(() => {
      this.throttle = undefined;
      this.updateFlow();
    }, Math.ceil(waitMs));
    return true;
  }

  private onMessage(text: string, truncated: boolean): void {
    if (truncated) this.delivery.countDropped(this.input, 'truncated');
    if (text === '') return;
    this.onMessages(1);
    this.uncharged++;
    if (truncated) this.pendingCut.push(this.pending.length);
    this.pending.push(text);
    if (this.pending.length >= this.settings.batchSize) this.cut();
    else this.timer ??= setTimeout(() => this.cut(), this.settings.batchMs);
  }

  /** Closes the batch being collected and queues it for delivery. */
  private cut(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    this.queue.push({ lines: this.pending, truncated: this.pendingCut });
    this.queuedLines += this.pending.length;
    this.pending = [];
    this.pendingCut = [];
    void this.pump();
  }

  /** Sends queued batches one at a time, so that a connection's messages reach the pipeline in order. */
  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    for (let batch = this.queue.shift(); batch !== undefined; batch = this.queue.shift()) {
      const options = { format: 'syslog', input: this.input, peer: this.peer, ...(batch.truncated.length > 0 ? { truncated: batch.truncated } : {}) };
      await this.delivery.deliver(batch.lines, options, () => {
        this.retrying = true;
        this.updateFlow();
      });
      this.retrying = false;
      this.queuedLines -= batch.lines.length;
      this.updateFlow();
    }
    this.sending = false;
    if (this.closed) this.resolveDone();
  }

  private finish(): void {
    if (this.closed) return;
    if (this.throttle !== undefined) clearTimeout(this.throttle);
    this.throttle = undefined;
    this.framer.end();
    this.closed = true;
    this.cut();
    if (!this.sending) this.resolveDone();
  }
}

/** `ip:port` as ECS `log.source.address` has it (`[ip]:port` for IPv6); IPv4-mapped IPv6 shown as plain IPv4. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return 'unknown';
  const ip = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? host : `${host}:${port}`;
}
