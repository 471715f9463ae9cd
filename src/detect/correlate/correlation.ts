// Sigma correlation rules on the stream (Sigma correlation rules specification v2.1): event_count, value_count,
// temporal, temporal_ordered, value_sum, value_avg, value_percentile (and pySigma's value_median). Each group-by
// key has a SLIDING window over event time (`@timestamp`), not clock-aligned buckets: on every event the window is
// the last `timespan` before the newest event of that group. When the condition holds the correlation fires once
// and the group's window starts over, so one burst gives one detection, not one per further event.
import type { CompareOp, CorrelationModel } from '../rules/model.js';
import { GroupStore, groupKeyOf, readGroup, type GroupReader } from './group-store.js';

/** An event (or an inner correlation's detection) offered to a correlation. */
export interface CorrelationInput {
  /** Index into the correlation's `rules` of the rule that matched. */
  ref: number;
  time: number;
  timestamp: string;
  id: string;
  doc: Record<string, unknown>;
}

/** How to read one referenced rule's events: its group-by values and the condition field. */
export interface RefBinding {
  name: string;
  group: GroupReader[];
  value?: (doc: Record<string, unknown>) => unknown;
}

export interface CorrelationFire {
  time: number;
  timestamp: string;
  group: Record<string, string>;
  evidence: string[];
  reason: string;
  /** The measured value (count, distinct count, sum …). */
  value: number;
  /** What the detector measured, for the detection's `details` (impossible travel: the two places). */
  details?: Record<string, unknown>;
}

export interface WindowLimits {
  /** Groups kept per rule; the least recently seen are evicted beyond it. */
  maxGroups: number;
  /** Events kept per group window; the oldest are dropped beyond it (and counted). */
  maxEventsPerGroup: number;
  /** Evidence ids on one detection. */
  maxEvidence: number;
}

export const DEFAULT_WINDOW_LIMITS: WindowLimits = { maxGroups: 10_000, maxEventsPerGroup: 1_000, maxEvidence: 20 };

interface Entry {
  t: number;
  id: string;
}

interface Chain {
  start: number;
  last: number;
  ids: string[];
}

/**
 * A group's window, in arrival order, as a queue over growable typed arrays: one number a windowed event (its time,
 * and its value where the type needs one), not an object and an id each. Only the last `maxEvidence` ids are kept,
 * since a detection lists no more than those; a busy window of 1,000 events then costs 8–16 KB instead of ~100 KB.
 */
class Window {
  times = new Float64Array(8);
  /** value_sum, value_avg, value_percentile: each event's number. */
  xs: Float64Array | undefined;
  /** value_count: each event's value. */
  vs: (string | undefined)[] | undefined;
  head = 0;
  length = 0;
  /** The last ids pushed, a ring of `maxEvidence`; `pushed` counts every push. */
  readonly recent: string[] = [];
  pushed = 0;

  constructor(numbers: boolean, values: boolean) {
    if (numbers) this.xs = new Float64Array(8);
    if (values) this.vs = new Array<string | undefined>(8);
  }

  private slot(i: number): number {
    return (this.head + i) & (this.times.length - 1);
  }

  time(i: number): number {
    return this.times[this.slot(i)]!;
  }

  x(i: number): number {
    return this.xs![this.slot(i)]!;
  }

  push(t: number, id: string, x: number | undefined, v: string | undefined, maxEvidence: number): void {
    if (this.length === this.times.length) this.grow();
    const at = this.slot(this.length);
    this.times[at] = t;
    if (this.xs) this.xs[at] = x!;
    if (this.vs) this.vs[at] = v;
    this.length++;
    this.recent[this.pushed % maxEvidence] = id;
    this.pushed++;
  }

  value(i: number): string | undefined {
    return this.vs![this.slot(i)];
  }

  /** Takes the oldest event out. */
  shift(): void {
    if (this.vs) this.vs[this.head] = undefined;
    this.head = (this.head + 1) & (this.times.length - 1);
    this.length--;
  }

  /** The ids of the newest `count` events (at most the ring's size), oldest first. */
  evidence(count: number, maxEvidence: number): string[] {
    const k = Math.min(count, maxEvidence, this.pushed);
    const ids: string[] = [];
    for (let i = this.pushed - k; i < this.pushed; i++) ids.push(this.recent[i % maxEvidence]!);
    return ids;
  }

  /** Doubles the capacity (a power of two, so a slot is a mask), unrolling the queue to start at 0. */
  private grow(): void {
    const size = this.times.length;
    const unroll = <A extends { length: number; [i: number]: unknown }>(from: A, to: A): A => {
      for (let i = 0; i < this.length; i++) to[i] = from[(this.head + i) & (size - 1)];
      return to;
    };
    this.times = unroll(this.times, new Float64Array(size * 2));
    if (this.xs) this.xs = unroll(this.xs, new Float64Array(size * 2));
    if (this.vs) this.vs = unroll(this.vs, new Array<string | undefined>(size * 2));
    this.head = 0;
  }
}

interface GroupState {
  window: Window;
  newest: number;
  distinct: Map<string, number>;
  sum: number;
  /** temporal: newest event per referenced rule. */
  latest: (Entry | undefined)[];
  /** temporal_ordered: chains[k] is the latest-starting run that matched rules 0..k-1 in order. */
  chains: (Chain | undefined)[];
}

export function compareHolds(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'eq':
      return a === b;
    case 'neq':
      return a !== b;
  }
}

function numeric(value: unknown): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function text(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === null || typeof v === 'object') return undefined;
  return String(v);
}

/** Nearest-rank percentile of `values` (p in (0, 100]). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export class SigmaCorrelation {
  readonly groups: GroupStore<GroupState>;
  /** Events dropped because a window was full (per-group cap). */
  truncated = 0;
  /** Events without a group-by value (not counted). */
  ungrouped = 0;
  private readonly conditionText: string;

  constructor(
    readonly model: CorrelationModel,
    private readonly refs: RefBinding[],
    /** The ECS names of the group-by fields, for the detection's entity and group. */
    readonly groupFields: string[],
    private readonly limits: WindowLimits,
  ) {
    this.groups = new GroupStore(limits.maxGroups);
    this.conditionText = model.condition.tests.map((t) => `${t.op} ${t.value}`).join(' and ');
  }

  private holds(value: number): boolean {
    for (const t of this.model.condition.tests) if (!compareHolds(t.op, value, t.value)) return false;
    return true;
  }

  /** The input's group (its group-by values joined), or undefined when it lacks one: where its window lives. */
  groupKey(input: CorrelationInput): string | undefined {
    const ref = this.refs[input.ref];
    if (!ref) return undefined;
    const values = readGroup(ref.group, input.doc);
    return values && groupKeyOf(values);
  }

  /** Adds one matching event; returns a detection when the condition now holds for its group. */
  offer(input: CorrelationInput): CorrelationFire | undefined {
    const ref = this.refs[input.ref];
    if (!ref) return undefined;
    const values = readGroup(ref.group, input.doc);
    if (!values) {
      this.ungrouped++;
      return undefined;
    }
    const key = groupKeyOf(values);
    const n = this.model.rules.length;
    const type = this.model.type;
    const numbers = type === 'value_sum' || type === 'value_avg' || type === 'value_percentile' || type === 'value_median';
    const state = this.groups.touch(key, () => ({ window: new Window(numbers, type === 'value_count'), newest: -Infinity, distinct: new Map(), sum: 0, latest: new Array(n), chains: new Array(n + 1) }));
    const span = this.model.timespanMs;
    const t = input.time;
    if (t > state.newest) state.newest = t;
    const horizon = state.newest - span;
    if (t < horizon) return undefined; // too late for any window of this group
    let v: string | undefined;
    let x: number | undefined;
    if (type === 'value_count') {
      v = ref.value ? text(ref.value(input.doc)) : undefined;
      if (v === undefined) return undefined;
    } else if (numbers) {
      x = ref.value ? numeric(ref.value(input.doc)) : undefined;
      if (x === undefined) return undefined;
    }
    let measured: number;
    // The evidence of a windowed type is only listed when the condition holds (listing it on every event would cost
    // the window's length each time).
    let evidence: string[] | undefined;
    if (type === 'temporal') {
      state.latest[input.ref] = { t, id: input.id };
      const live = state.latest.filter((e): e is Entry => e !== undefined && e.t >= horizon);
      measured = state.latest.reduce((c, e) => c + (e !== undefined && e.t >= horizon ? 1 : 0), 0);
      evidence = live.sort((a, b) => a.t - b.t).map((e) => e.id);
    } else if (type === 'temporal_ordered') {
      const chains = state.chains;
      const j = input.ref;
      if (j === 0) {
        chains[1] = { start: t, last: t, ids: [input.id] };
      } else {
        const prev = chains[j];
        if (prev && prev.start >= horizon && t >= prev.last) {
          const next = chains[j + 1];
          if (!next || prev.start >= next.start) chains[j + 1] = { start: prev.start, last: t, ids: [...prev.ids, input.id] };
        }
      }
      measured = 0;
      evidence = [];
      for (let k = n; k >= 1; k--) {
        const c = chains[k];
        if (c && c.start >= horizon) {
          measured = k;
          evidence = c.ids;
          break;
        }
      }
    } else {
      this.push(state, t, input.id, x, v);
      this.expire(state, horizon);
      const live = state.window.length;
      if (type === 'event_count') measured = live;
      else if (type === 'value_count') measured = state.distinct.size;
      else if (type === 'value_sum') measured = state.sum;
      else if (type === 'value_avg') measured = live > 0 ? state.sum / live : 0;
      else {
        const xs: number[] = [];
        for (let i = 0; i < live; i++) xs.push(state.window.x(i));
        measured = percentile(xs, type === 'value_median' ? 50 : (this.model.condition.percentile ?? 50));
      }
    }
    if (!this.holds(measured)) return undefined;
    evidence ??= state.window.evidence(state.window.length, this.limits.maxEvidence);
    this.groups.delete(key);
    const group: Record<string, string> = {};
    this.model.groupBy.forEach((name, i) => (group[this.groupFields[i] ?? name] = values[i]!));
    const max = this.limits.maxEvidence;
    return {
      time: t,
      timestamp: input.timestamp,
      group,
      evidence: evidence.length > max ? evidence.slice(evidence.length - max) : evidence,
      reason: this.describe(measured, group),
      value: measured,
    };
  }

  private push(state: GroupState, t: number, id: string, x: number | undefined, v: string | undefined): void {
    state.window.push(t, id, x, v, this.limits.maxEvidence);
    if (v !== undefined) state.distinct.set(v, (state.distinct.get(v) ?? 0) + 1);
    if (x !== undefined) state.sum += x;
    if (state.window.length > this.limits.maxEventsPerGroup) {
      this.drop(state);
      this.truncated++;
    }
  }

  private drop(state: GroupState): void {
    const w = state.window;
    const v = w.vs ? w.value(0) : undefined;
    if (v !== undefined) {
      const c = (state.distinct.get(v) ?? 1) - 1;
      if (c <= 0) state.distinct.delete(v);
      else state.distinct.set(v, c);
    }
    if (w.xs) state.sum -= w.x(0);
    w.shift();
  }

  private expire(state: GroupState, horizon: number): void {
    while (state.window.length > 0 && state.window.time(0) < horizon) this.drop(state);
  }

  /** Drops groups with nothing inside the window that ends at `now` (event time). */
  sweep(now: number): void {
    const horizon = now - this.model.timespanMs;
    this.groups.sweep((s) => s.newest < horizon);
  }

  /** Keeps another instance's windows (the same rule, reloaded). */
  adopt(other: SigmaCorrelation): void {
    this.groups.adopt(other.groups);
    this.truncated += other.truncated;
    this.ungrouped += other.ungrouped;
  }

  private describe(measured: number, group: Record<string, string>): string {
    const m = this.model;
    const by = Object.entries(group).map(([k, v]) => `${k}=${v}`).join(', ');
    const scope = `within ${m.timespan}${by ? ` for ${by}` : ''}`;
    const field = m.condition.field ?? '';
    const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
    switch (m.type) {
      case 'event_count':
        return `${measured} events ${scope} (condition ${this.conditionText})`;
      case 'value_count':
        return `${measured} distinct ${field} ${scope} (condition ${this.conditionText})`;
      case 'value_sum':
        return `sum of ${field} ${fmt(measured)} ${scope} (condition ${this.conditionText})`;
      case 'value_avg':
        return `average ${field} ${fmt(measured)} ${scope} (condition ${this.conditionText})`;
      case 'value_percentile':
      case 'value_median':
        return `${m.type === 'value_median' ? 'median' : `p${m.condition.percentile ?? 50}`} of ${field} ${fmt(measured)} ${scope} (condition ${this.conditionText})`;
      case 'temporal':
        return `${measured} of ${this.refs.length} rules (${this.refs.map((r) => r.name).join(', ')}) ${scope}`;
      case 'temporal_ordered':
        return `${this.refs.slice(0, measured).map((r) => r.name).join(' then ')} in order ${scope}`;
    }
  }
}
