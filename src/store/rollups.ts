// Rollups: event counts per time bucket and value of a few fields, kept beside the events so dashboard aggregates over
// long ranges read thousands of counts instead of millions of events (as ClickHouse's SummingMergeTree views or
// Elastic's rollup jobs do). This module says which fields at which grains, and how a time range splits into whole
// buckets that a rollup answers and edges that only the events can: answers stay exact.
import type { QueryNode } from './query/ast.js';
import { DAY_MS } from './requests.js';
import type { TimeBounds } from './types.js';

export const MINUTE_MS = 60_000;
export const FIVE_MINUTES_MS = 300_000;
export const HOUR_MS = 3_600_000;

export interface RollupField {
  field: string;
  /** Bucket widths in ms, finest first; each divides the next, and buckets start at multiples since the epoch. */
  grains: readonly number[];
}

/**
 * The rolled-up fields: the Overview's events chart (by `event.dataset`, per 5 minutes so that a 24 h chart of
 * 30-minute buckets reads events only at its edges) and its top lists. Events without the field are counted under a
 * null value, so the `event.dataset` rollup also counts every event (the plain histogram).
 * Each grain costs rows on every append, about one per distinct value per bucket the batch touches: source
 * addresses, the field with most values, are counted per day only (hourly counts of them made 2.4x the rollup rows
 * and cost 15% of the append's CPU time against 5% in all, bench/search.ts events); a range's partial days at each end
 * are read from the events, a few hundred thousand at 10M events over 30 days.
 */
export const ROLLUP_FIELDS: readonly RollupField[] = [
  { field: 'event.dataset', grains: [FIVE_MINUTES_MS, HOUR_MS, DAY_MS] },
  { field: 'host.name', grains: [HOUR_MS, DAY_MS] },
  { field: 'source.ip', grains: [DAY_MS] },
  { field: 'user.name', grains: [HOUR_MS, DAY_MS] },
];

/**
 * What a stored rollup was built as: when the fields or grains above change (or this number, when what is counted
 * changes), a store's rollup is built again from its events.
 */
export const ROLLUP_VERSION = `1;${ROLLUP_FIELDS.map((f) => `${f.field}=${f.grains.join(',')}`).join(';')}`;

/** The field whose rollup counts every event, for histograms not split by a field. */
export const COUNT_FIELD = 'event.dataset';

export function rollupField(field: string): RollupField | undefined {
  return ROLLUP_FIELDS.find((r) => r.field === field);
}

/**
 * Whether a request's events can be counted from rollups: only when it matches every event in its time range, since
 * the rollups keep no other dimension. (A query or host filter takes the exact path over the events.)
 */
export function rollupEligible(query: QueryNode): boolean {
  return query.type === 'all';
}

/** A span of whole buckets of one grain, [from, to) in ms; an absent end is open. */
export interface RollupSpan {
  grain: number;
  from?: number;
  to?: number;
}

/** How a time range is counted: whole buckets from rollups, and at most two edges from the events. */
export interface RangePlan {
  rollups: RollupSpan[];
  raw: TimeBounds[];
}

/** The start of the `grain` bucket holding `ms` (buckets start at multiples of the grain since the epoch). */
export function bucketStart(ms: number, grain: number): number {
  return ms - (((ms % grain) + grain) % grain);
}

function ceilTo(ms: number, grain: number): number {
  const start = bucketStart(ms, grain);
  return start === ms ? ms : start + grain;
}

/**
 * Splits [from, to) into spans of the coarsest grain that fit whole, then what is left at each edge into the next
 * finer grain, and so on; what no grain covers (less than one finest bucket at each end) is read from the events.
 * Bounds are whole ms, as the stores compare them (msToMicros truncates).
 */
export function splitRange(bounds: TimeBounds, grains: readonly number[]): RangePlan {
  const plan: RangePlan = { rollups: [], raw: [] };
  const coarseFirst = [...grains].sort((a, b) => b - a);
  const from = bounds.from === undefined ? undefined : Math.trunc(bounds.from);
  const to = bounds.to === undefined ? undefined : Math.trunc(bounds.to);
  split(plan, from, to, coarseFirst);
  return plan;
}

function split(plan: RangePlan, from: number | undefined, to: number | undefined, grains: readonly number[]): void {
  if (from !== undefined && to !== undefined && from >= to) return;
  const [grain, ...finer] = grains;
  if (grain === undefined) {
    plan.raw.push({ ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
    return;
  }
  const start = from === undefined ? undefined : ceilTo(from, grain);
  const end = to === undefined ? undefined : bucketStart(to, grain);
  if (start !== undefined && end !== undefined && start >= end) {
    split(plan, from, to, finer);
    return;
  }
  plan.rollups.push({ grain, ...(start !== undefined ? { from: start } : {}), ...(end !== undefined ? { to: end } : {}) });
  if (from !== undefined) split(plan, from, start, finer);
  if (to !== undefined) split(plan, end, to, finer);
}

/**
 * The grains of `field` whose buckets each fall in one histogram bucket: those dividing the interval and the first
 * bucket's start (so every bucket edge, see requests.ts planHistogram).
 */
export function histogramGrains(field: RollupField, plan: { interval: number; start: number }): number[] {
  return field.grains.filter((g) => plan.interval % g === 0 && plan.start % g === 0);
}
