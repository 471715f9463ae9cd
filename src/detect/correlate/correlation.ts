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
  v?: string;
  x?: number;
}

interface Chain {
  start: number;
  last: number;
  ids: string[];
}

interface GroupState {
  entries: Entry[];
  head: number;
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
    const state = this.groups.touch(key, () => ({ entries: [], head: 0, newest: -Infinity, distinct: new Map(), sum: 0, latest: new Array(n), chains: new Array(n + 1) }));
    const span = this.model.timespanMs;
    const t = input.time;
    if (t > state.newest) state.newest = t;
    const horizon = state.newest - span;
    if (t < horizon) return undefined; // too late for any window of this group
    const entry: Entry = { t, id: input.id };
    const type = this.model.type;
    if (type === 'value_count') {
      const v = ref.value ? text(ref.value(input.doc)) : undefined;
      if (v === undefined) return undefined;
      entry.v = v;
    } else if (type === 'value_sum' || type === 'value_avg' || type === 'value_percentile' || type === 'value_median') {
      const x = ref.value ? numeric(ref.value(input.doc)) : undefined;
      if (x === undefined) return undefined;
      entry.x = x;
    }
    let measured: number;
    // The evidence of a windowed type is only listed when the condition holds (listing it on every event would cost
    // the window's length each time).
    let evidence: string[] | undefined;
    if (type === 'temporal') {
      state.latest[input.ref] = entry;
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
      this.push(state, entry);
      this.expire(state, horizon);
      const live = state.entries.length - state.head;
      if (type === 'event_count') measured = live;
      else if (type === 'value_count') measured = state.distinct.size;
      else if (type === 'value_sum') measured = state.sum;
      else if (type === 'value_avg') measured = live > 0 ? state.sum / live : 0;
      else {
        const xs: number[] = [];
        for (let i = state.head; i < state.entries.length; i++) xs.push(state.entries[i]!.x!);
        measured = percentile(xs, type === 'value_median' ? 50 : (this.model.condition.percentile ?? 50));
      }
    }
    if (!this.holds(measured)) return undefined;
    if (evidence === undefined) {
      evidence = [];
      for (let i = Math.max(state.head, state.entries.length - this.limits.maxEvidence); i < state.entries.length; i++) evidence.push(state.entries[i]!.id);
    }
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

  private push(state: GroupState, entry: Entry): void {
    state.entries.push(entry);
    if (entry.v !== undefined) state.distinct.set(entry.v, (state.distinct.get(entry.v) ?? 0) + 1);
    if (entry.x !== undefined) state.sum += entry.x;
    if (state.entries.length - state.head > this.limits.maxEventsPerGroup) {
      this.drop(state);
      this.truncated++;
    }
  }

  private drop(state: GroupState): void {
    const old = state.entries[state.head]!;
    state.head++;
    if (old.v !== undefined) {
      const c = (state.distinct.get(old.v) ?? 1) - 1;
      if (c <= 0) state.distinct.delete(old.v);
      else state.distinct.set(old.v, c);
    }
    if (old.x !== undefined) state.sum -= old.x;
    if (state.head > 64 && state.head * 2 > state.entries.length) {
      state.entries = state.entries.slice(state.head);
      state.head = 0;
    }
  }

  private expire(state: GroupState, horizon: number): void {
    while (state.head < state.entries.length && state.entries[state.head]!.t < horizon) this.drop(state);
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
