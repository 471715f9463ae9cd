// The storage interface: what the pipeline and the API need from an engine (DuckDB now, ClickHouse later).
import type { EcsEvent } from '../core/event.js';
import type { QueryNode } from './query/ast.js';

export interface TimeBounds {
  /** Inclusive lower bound on `@timestamp`, ms since the epoch. */
  from?: number;
  /** Exclusive upper bound on `@timestamp`, ms since the epoch. */
  to?: number;
}

export interface SearchRequest extends TimeBounds {
  query: QueryNode;
  /** At most this many events (newest first). */
  limit: number;
  /** Opaque cursor from a previous page's `next`. */
  cursor?: string;
}

export interface SearchResult {
  /** Exact number of events matching the query and time bounds (all pages). */
  total: number;
  events: EcsEvent[];
  /** Cursor for the next page, or null when this was the last one. */
  next: string | null;
}

export interface HistogramRequest extends TimeBounds {
  query: QueryNode;
  /** Bucket width in ms; when absent the engine picks one giving about `buckets` buckets. */
  interval?: number;
  buckets?: number;
  /**
   * Also split each bucket by the `size` most frequent values of `field` over the whole range (a field with several
   * values counts under its first), in one query instead of one per value.
   */
  by?: { field: string; size: number };
}

export interface HistogramResult {
  interval: number;
  /**
   * Bucket start (ISO 8601) and count, oldest first, empty buckets included; with `by`, `counts[i]` is the bucket's
   * count for `by.values[i]` (the rest of `count` had another value or none).
   */
  buckets: { key: string; count: number; counts?: number[] }[];
  /** With `by`: the field and its most frequent values, most frequent first. */
  by?: { field: string; values: string[] };
}

export interface TopRequest extends TimeBounds {
  query: QueryNode;
  field: string;
  size: number;
}

export interface TopResult {
  field: string;
  /** Events matching the query that have the field. */
  total: number;
  values: { value: string; count: number }[];
}

export interface RetentionPolicy {
  /** Delete events received (`event.ingested`) more than this many days ago. */
  maxAgeDays?: number;
  /** Delete the oldest events until the store is under this many bytes. */
  maxBytes?: number;
}

export interface StoreStats {
  events: number;
  bytes: number;
  /** Memory the engine holds in this process (an embedded engine's buffer pool), when it has any. */
  memoryBytes?: number;
}

export interface AppendOptions {
  /**
   * Positions of events whose `event.id` came from the sender (an agent's retry, an Elasticsearch `_id`): each is
   * skipped when an event with its id is already stored or comes earlier in the batch. Ids Vigil made are unique.
   */
  unique?: readonly number[];
}

export interface AppendResult {
  stored: number;
  /** Positions of the events skipped because their `event.id` was already stored (see AppendOptions.unique). */
  duplicates: number[];
}

export interface EventStore {
  readonly engine: string;
  /**
   * Writes events; resolves once they are durable (committed), so the caller may acknowledge them. Checking and
   * writing `unique` events is one step of the store's single writer, so concurrent retries cannot both get in.
   */
  append(events: readonly EcsEvent[], options?: AppendOptions): Promise<AppendResult>;
  search(request: SearchRequest): Promise<SearchResult>;
  histogram(request: HistogramRequest): Promise<HistogramResult>;
  top(request: TopRequest): Promise<TopResult>;
  /** Applies the policy with `now` as the reference time; answers how many events were deleted. */
  enforceRetention(policy: RetentionPolicy, now: number): Promise<{ deleted: number }>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
