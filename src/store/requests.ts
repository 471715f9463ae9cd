// What every engine does alike around its queries: limits, the search cursor, histogram buckets, and a queue that runs
// writes one at a time. Engines differ in SQL, not in what a request means.
import { VigilError } from '../core/errors.js';
import type { HistogramRequest, HistogramResult } from './types.js';

export const MAX_SEARCH_LIMIT = 10_000;
export const MAX_TOP_SIZE = 10_000;
export const MAX_HISTOGRAM_BUCKETS = 10_000;
/** Most values a histogram may be split by (HistogramRequest.by). */
export const MAX_SPLIT_VALUES = 50;
export const DEFAULT_SEARCH_LIMIT = 100;
export const DEFAULT_TOP_SIZE = 10;
const DEFAULT_BUCKETS = 60;
export const DAY_MS = 86_400_000;
/** Round bucket widths in ms; the histogram picks the smallest giving at most the requested number of buckets. */
const NICE_INTERVALS = [
  1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 43_200_000, DAY_MS, 7 * DAY_MS,
  30 * DAY_MS,
];

/** Runs tasks one after another (one writer: a check for stored ids and the write that follows are one step). */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export function clampInt(value: number, min: number, max: number, fallback: number): number {
  if (!Number.isFinite(value)) return fallback;
  return Math.max(min, Math.min(max, Math.floor(value)));
}

/** A count or a number from a driver (bigint, number, or a decimal string as ClickHouse quotes 64-bit integers). */
export function toNumber(value: unknown): number {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value !== '') return Number(value);
  return 0;
}

/**
 * Positions of the `unique` rows to skip: those whose id is stored already (`stored`) or repeats an earlier row of the
 * batch (AppendOptions.unique).
 */
export function duplicatesOf(unique: { rows: readonly number[]; ids: readonly string[] }, stored: ReadonlySet<string>): Set<number> {
  const skip = new Set<number>();
  const seen = new Set<string>();
  for (let i = 0; i < unique.rows.length; i++) {
    const id = unique.ids[i]!;
    if (stored.has(id) || seen.has(id)) skip.add(unique.rows[i]!);
    seen.add(id);
  }
  return skip;
}

/** The keyset cursor of a search page: the (ts, id) of its last event, newest first. */
export function encodeCursor(tsMicros: bigint, id: string): string {
  return Buffer.from(JSON.stringify([tsMicros.toString(), id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { ts: bigint; id: string } {
  const bad = (): VigilError => new VigilError('bad_request', 'invalid cursor: pass back the `next` value of the previous page', { location: 'cursor' });
  if (cursor.length > 4096) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw bad();
  const [ts, id] = parsed as unknown[];
  if (typeof ts !== 'string' || typeof id !== 'string' || !/^-?\d{1,19}$/.test(ts)) throw bad();
  const micros = BigInt(ts);
  if (BigInt.asIntN(64, micros) !== micros) throw bad();
  return { ts: micros, id };
}

function pickInterval(spanMs: number, buckets: number): number {
  for (const interval of NICE_INTERVALS) if (Math.ceil(spanMs / interval) <= buckets) return interval;
  const month = 30 * DAY_MS;
  return Math.ceil(spanMs / buckets / month) * month;
}

/** Buckets `interval` ms wide, the first starting at `start` (ms since the epoch). */
export interface HistogramPlan {
  interval: number;
  start: number;
  count: number;
}

/** The answer when nothing matches or the range is empty. */
export function emptyHistogram(request: HistogramRequest): HistogramResult {
  return { interval: request.interval ?? NICE_INTERVALS[0]!, buckets: [] };
}

/**
 * The buckets covering [fromMs, toMs): the requested interval or a round one giving about `request.buckets`.
 * Buckets start on multiples of the interval since the epoch (weeks on Mondays), so they are stable across requests.
 * Undefined when the range is empty; bad_request when the interval is invalid or gives too many buckets.
 */
export function planHistogram(request: HistogramRequest, fromMs: number, toMs: number): HistogramPlan | undefined {
  const buckets = clampInt(request.buckets ?? DEFAULT_BUCKETS, 1, MAX_HISTOGRAM_BUCKETS, DEFAULT_BUCKETS);
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs <= fromMs) return undefined;
  let interval: number;
  if (request.interval !== undefined) {
    if (!Number.isFinite(request.interval) || request.interval < 1) {
      throw new VigilError('bad_request', 'interval must be a positive number of milliseconds', { location: 'interval' });
    }
    interval = Math.floor(request.interval);
  } else {
    interval = pickInterval(toMs - fromMs, buckets);
  }
  const origin = interval === 7 * DAY_MS ? 4 * DAY_MS : 0;
  const start = fromMs - ((((fromMs - origin) % interval) + interval) % interval);
  const count = Math.ceil((toMs - start) / interval);
  if (count > MAX_HISTOGRAM_BUCKETS) {
    throw new VigilError('bad_request', `interval ${interval} ms over this time range gives ${count} buckets; at most ${MAX_HISTOGRAM_BUCKETS} are allowed`, {
      location: 'interval',
    });
  }
  return { interval, start, count };
}

/** Every bucket of the plan, oldest first, with the counts the engine found (rows of [bucket index, count]). */
export function histogramResult(plan: HistogramPlan, rows: readonly (readonly unknown[])[]): HistogramResult {
  const counts = new Array<number>(plan.count).fill(0);
  for (const row of rows) {
    const index = toNumber(row[0]);
    if (index >= 0 && index < plan.count) counts[index] = toNumber(row[1]);
  }
  return {
    interval: plan.interval,
    buckets: counts.map((n, i) => ({ key: new Date(plan.start + i * plan.interval).toISOString(), count: n })),
  };
}

/**
 * A histogram split by a field (HistogramRequest.by) from rows of [bucket index, value or null for "other", count]:
 * the values ordered by their counts over the whole range, each bucket's total and its count per value.
 */
export function splitHistogramResult(plan: HistogramPlan, field: string, rows: readonly (readonly unknown[])[]): HistogramResult {
  const totals = new Map<string, number>();
  for (const row of rows) if (row[1] !== null) totals.set(String(row[1]), (totals.get(String(row[1])) ?? 0) + toNumber(row[2]));
  const values = [...totals].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([name]) => name);
  const column = new Map(values.map((name, i) => [name, i]));
  const buckets = Array.from({ length: plan.count }, (_, i) => ({
    key: new Date(plan.start + i * plan.interval).toISOString(),
    count: 0,
    counts: new Array<number>(values.length).fill(0),
  }));
  for (const row of rows) {
    const bucket = buckets[toNumber(row[0])];
    if (!bucket) continue;
    const n = toNumber(row[2]);
    bucket.count += n;
    const i = row[1] === null ? undefined : column.get(String(row[1]));
    if (i !== undefined) bucket.counts[i] = n;
  }
  return { interval: plan.interval, buckets, by: { field, values } };
}
