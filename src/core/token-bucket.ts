// Token buckets for per-client rate limits (HTTP clients, syslog connections and senders): `rate` tokens a second
// up to `burst`, the classic shaper of RFC 2697 §1 without its colours. A bucket may go into debt, so that one batch
// larger than the burst still goes through and its sender then waits until the debt is repaid.
import { BoundedMap } from './bounded-map.js';

export interface RateLimit {
  /** Tokens added per second; 0 means no limit. */
  rate: number;
  /** The most tokens a bucket holds (what a quiet client may spend at once). */
  burst: number;
}

/** Times are monotonic milliseconds (performance.now), not wall time: a limit must not jump with the system clock. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.last = now;
  }

  /** Takes `count` tokens if the bucket holds them; false (and nothing taken) otherwise. */
  tryTake(count: number, now: number): boolean {
    this.refill(now);
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** Takes `count` tokens whatever the bucket holds, into debt if need be (work already done or admitted). */
  charge(count: number, now: number): void {
    this.refill(now);
    this.tokens -= count;
  }

  /** Milliseconds until the bucket holds `count` tokens; 0 when it does now. */
  waitMs(count: number, now: number): number {
    this.refill(now);
    return this.tokens >= count ? 0 : ((count - this.tokens) / this.limit.rate) * 1000;
  }

  /** Whole tokens left (0 while in debt). */
  remaining(now: number): number {
    this.refill(now);
    return Math.max(0, Math.floor(this.tokens));
  }

  /** Milliseconds until the bucket is full again. */
  fullInMs(now: number): number {
    this.refill(now);
    return ((this.limit.burst - this.tokens) / this.limit.rate) * 1000;
  }

  private refill(now: number): void {
    const elapsed = now - this.last;
    if (elapsed <= 0) return;
    this.last = now;
    this.tokens = Math.min(this.limit.burst, this.tokens + (elapsed / 1000) * this.limit.rate);
  }
}

/**
 * One bucket per key (a client, an address). Keys are chosen by senders, so the map is bounded: past `maxKeys`
 * the least recently used bucket is forgotten, which at worst gives that client a fresh (full) bucket.
 */
export class TokenBuckets {
  private readonly buckets: BoundedMap<string, TokenBucket>;

  constructor(
    readonly limit: RateLimit,
    maxKeys = 100_000,
  ) {
    this.buckets = new BoundedMap(maxKeys);
  }

  get(key: string, now: number): TokenBucket {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) bucket = new TokenBucket(this.limit, now);
    this.buckets.set(key, bucket);
    return bucket;
  }

  /** The key's bucket if it has one, without making one. */
  peek(key: string): TokenBucket | undefined {
    return this.buckets.get(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}
