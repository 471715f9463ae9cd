// Hands batches of syslog lines to the pipeline and follows its back-pressure: stream batches wait and retry,
// datagram batches are counted as dropped, and whoever waits is woken when the pipeline drains.
import { isVigilError } from '../../core/errors.js';
import type { Ingest, LineOptions } from '../../core/ingest.js';

/** How often a wait re-reads `ingest.congested`, in case a drain is never reported; `onDrain` is the real signal. */
const DRAIN_POLL_MS = 1000;
/** Bounds on the wait before retrying a batch the pipeline refused, whatever its Retry-After says. */
const MIN_RETRY_MS = 50;
const MAX_RETRY_MS = 5000;
const DEFAULT_RETRY_MS = 1000;

export class Delivery {
  private readonly waiters = new Set<() => void>();
  private armed = false;
  private poll: NodeJS.Timeout | undefined;
  /** Set when the receiver stops: past it, a batch the store keeps refusing is given up (and counted). */
  private giveUpAt: number | undefined;

  /** `onDrained` runs each time the pipeline drains, so that paused sockets can read again. */
  constructor(
    private readonly ingest: Ingest,
    private readonly onDrained: () => void,
  ) {}

  /** True while the pipeline is congested; a drain after that is reported to `onDrained`. */
  congested(): boolean {
    if (!this.ingest.congested) return false;
    this.arm();
    return true;
  }

  /**
   * The receiver is stopping: batches still retried get `graceMs` more, then are counted as dropped
   * (`store_unavailable_at_stop`) so that a stop cannot hang for ever on a store that cannot write (a full disk).
   */
  stopping(graceMs: number): void {
    this.giveUpAt ??= Date.now() + graceMs;
    for (const wake of [...this.waiters]) wake();
  }

  countDropped(input: string, reason: string, count = 1, intentional = false): void {
    if (count > 0) this.ingest.countDropped(input, reason, count, intentional);
  }

  /**
   * Delivers one batch; never rejects. When the pipeline is busy (or unavailable), a stream batch (`onBusy` given)
   * waits for a drain and is retried until taken, since the sender's bytes were already acknowledged by TCP;
   * a datagram batch is counted as dropped for congestion. Any other failure is counted as dropped with
   * reason `error`: retrying a batch the pipeline cannot take would stall the connection for ever.
   */
  async deliver(lines: string[], options: LineOptions, onBusy?: () => void): Promise<void> {
    for (;;) {
      try {
        await this.ingest.ingestLines(lines, options);
        return;
      } catch (err) {
        const retryable = isVigilError(err) && (err.id === 'busy' || err.id === 'unavailable');
        if (!retryable) {
          this.countDropped(options.input, 'error', lines.length);
          return;
        }
        if (onBusy === undefined) {
          this.countDropped(options.input, err.id === 'unavailable' ? 'store_unavailable' : 'congested', lines.length);
          return;
        }
        if (this.giveUpAt !== undefined && Date.now() >= this.giveUpAt) {
          this.countDropped(options.input, 'store_unavailable_at_stop', lines.length);
          return;
        }
        onBusy();
        const retryAfter = err.retryAfter === undefined ? DEFAULT_RETRY_MS : err.retryAfter * 1000;
        const left = this.giveUpAt === undefined ? Infinity : Math.max(MIN_RETRY_MS, this.giveUpAt - Date.now());
        await this.waitForDrain(Math.min(left, MAX_RETRY_MS, Math.max(MIN_RETRY_MS, retryAfter)));
      }
    }
  }

  /** Resolves at the next drain, or after `maxMs` at the latest. */
  waitForDrain(maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      this.waiters.add(done);
      this.arm();
    });
  }

  /** Stops the drain poll; pending waits still end by their own timers. */
  dispose(): void {
    this.armed = false;
    if (this.poll !== undefined) clearInterval(this.poll);
    this.poll = undefined;
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.ingest.onDrain(() => this.drained());
    this.poll = setInterval(() => {
      if (!this.ingest.congested) this.drained();
    }, DRAIN_POLL_MS);
    this.poll.unref();
  }

  private drained(): void {
    if (!this.armed) return; // the poll already saw this drain
    this.dispose();
    for (const wake of [...this.waiters]) wake();
    this.onDrained();
  }
}
