// Delivery with retries for notification channels: a bounded queue per channel, sent one at a time in order, each
// failure retried with exponential backoff and full jitter (or after the receiver's Retry-After), then counted.
import { errorMessage } from '../core/errors.js';

export type AttemptResult = { ok: true } | { ok: false; retry: boolean; retryAfterMs?: number; error: string };
export type Attempt = () => Promise<AttemptResult>;

export interface DeliveryOptions {
  maxQueue: number;
  maxAttempts: number;
  /** First retry waits up to this (then twice as long each time, at random below the bound). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
}

export interface DeliveryStats {
  queued: number;
  sent: number;
  failed: number;
  dropped: number;
  retries: number;
  last_error: string | null;
  /** Wall-clock times of the latest delivery that failed for good, and of the latest that succeeded. */
  last_failure: string | null;
  last_success: string | null;
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in milliseconds from now. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class DeliveryQueue {
  private readonly queue: Attempt[] = [];
  private running = false;
  private waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly base: number;
  private readonly max: number;
  private readonly random: () => number;
  readonly stats: DeliveryStats = { queued: 0, sent: 0, failed: 0, dropped: 0, retries: 0, last_error: null, last_failure: null, last_success: null };

  constructor(private readonly options: DeliveryOptions) {
    this.base = options.baseDelayMs ?? 1000;
    this.max = options.maxDelayMs ?? 5 * 60_000;
    this.random = options.random ?? Math.random;
  }

  /** Queues a delivery; false (and counted as dropped) when the queue is full or closed. */
  push(attempt: Attempt): boolean {
    if (this.closed || this.queue.length >= this.options.maxQueue) {
      this.stats.dropped++;
      return false;
    }
    this.queue.push(attempt);
    this.stats.queued = this.queue.length;
    if (!this.running) void this.run();
    return true;
  }

  /** The wait before retry number `n` (from 1): full jitter over an exponential bound, or the receiver's wish. */
  backoff(n: number, retryAfterMs?: number): number {
    const jitter = Math.floor(this.random() * Math.min(this.max, this.base * 2 ** (n - 1)));
    return retryAfterMs === undefined ? jitter : Math.min(Math.max(retryAfterMs, jitter), 15 * 60_000);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const attempt = this.queue[0]!;
      for (let n = 1; ; n++) {
        let result: AttemptResult;
        try {
          result = await attempt();
        } catch (err) {
          result = { ok: false, retry: true, error: errorMessage(err) };
        }
        if (result.ok) {
          this.stats.sent++;
          this.stats.last_success = new Date().toISOString();
          break;
        }
        this.stats.last_error = result.error.slice(0, 300);
        if (!result.retry || n >= this.options.maxAttempts || this.closed) {
          this.stats.failed++;
          this.stats.last_failure = new Date().toISOString();
          break;
        }
        this.stats.retries++;
        await this.sleep(this.backoff(n, result.retryAfterMs));
      }
      this.queue.shift();
      this.stats.queued = this.queue.length;
    }
    this.running = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when nothing is queued or being sent. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops retrying (what is being sent gets one last attempt) and waits at most `timeoutMs` for the queue. */
  async close(timeoutMs = 5000): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timeout = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timeout);
    this.stats.dropped += this.queue.length > 0 ? this.queue.length - (this.running ? 1 : 0) : 0;
  }
}

/** POSTs a body and classifies the answer: 2xx done; 408, 425, 429 and 5xx or no answer retried; other 4xx final. */
export async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<AttemptResult> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : errorMessage(err);
    return { ok: false, retry: true, error: (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : cause };
  }
  const text = await response.text().catch(() => '');
  if (response.ok) return { ok: true };
  const retry = response.status === 408 || response.status === 425 || response.status === 429 || response.status >= 500;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  return { ok: false, retry, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), error: `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}` };
}
