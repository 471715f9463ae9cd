// Vigil's `rate_spike` detector: the share of events matching one rule among events matching another (5xx among
// all requests) in the last `timespan`, against the same share over the `baseline` before it, per group (host).
// Sigma correlations compare against fixed numbers and cannot say "three times the usual", hence this small type.
// Counts are kept in sub-windows of timespan/10 (so memory per group is fixed); both windows slide by one
// sub-window, a tenth of the timespan.
import type { BaselineModel } from '../rules/model.js';
import { GroupStore, groupKeyOf, readGroup, type GroupReader } from './group-store.js';
import type { CorrelationFire, CorrelationInput, WindowLimits } from './correlation.js';

const STEPS = 10;

interface Bucket {
  index: number;
  total: number;
  matching: number;
  ids: string[];
}

interface SpikeState {
  buckets: Bucket[];
  newest: number;
  quietUntil: number;
  /** Sums over the current window and the baseline, valid for buckets ending at `sumsAt` (a bucket index). */
  sumsAt: number;
  curTotal: number;
  curMatching: number;
  baseTotal: number;
  baseMatching: number;
}

export interface RateSpikeBinding {
  group: GroupReader[];
}

export class RateSpike {
  readonly groups: GroupStore<SpikeState>;
  ungrouped = 0;
  private readonly step: number;
  private readonly baselineSteps: number;

  constructor(
    readonly model: BaselineModel,
    /** [0]: how to read events of the `total` rule, [1]: of the `matching` rule. */
    private readonly refs: [RateSpikeBinding, RateSpikeBinding],
    readonly groupFields: string[],
    private readonly limits: WindowLimits,
  ) {
    this.groups = new GroupStore(limits.maxGroups);
    this.step = Math.max(1, Math.floor(model.timespanMs / STEPS));
    this.baselineSteps = Math.max(1, Math.ceil(model.baselineMs / this.step));
  }

  /** The input's group (its group-by values joined), or undefined when it lacks one: where its window lives. */
  groupKey(input: CorrelationInput): string | undefined {
    const binding = this.refs[input.ref === 1 ? 1 : 0];
    const values = readGroup(binding.group, input.doc);
    return values && groupKeyOf(values);
  }

  /** ref 0: an event of the `total` rule; ref 1: of the `matching` rule (an event may come as both). */
  offer(input: CorrelationInput): CorrelationFire | undefined {
    const binding = this.refs[input.ref === 1 ? 1 : 0];
    const values = readGroup(binding.group, input.doc);
    if (!values) {
      this.ungrouped++;
      return undefined;
    }
    const key = groupKeyOf(values);
    const state = this.groups.touch(key, () => ({ buckets: [], newest: -Infinity, quietUntil: -Infinity, sumsAt: NaN, curTotal: 0, curMatching: 0, baseTotal: 0, baseMatching: 0 }));
    const index = Math.floor(input.time / this.step);
    const newestIndex = Math.floor(Math.max(state.newest, input.time) / this.step);
    const oldest = newestIndex - STEPS - this.baselineSteps;
    if (index <= oldest) return undefined;
    state.newest = Math.max(state.newest, input.time);
    const buckets = state.buckets;
    let bucket = buckets.length > 0 && buckets[buckets.length - 1]!.index === index ? buckets[buckets.length - 1] : buckets.find((b) => b.index === index);
    if (!bucket) {
      bucket = { index, total: 0, matching: 0, ids: [] };
      buckets.push(bucket);
      if (buckets.length > 1 && buckets[buckets.length - 2]!.index > index) buckets.sort((a, b) => a.index - b.index);
      while (buckets.length > 0 && buckets[0]!.index <= oldest) buckets.shift();
    }
    if (input.ref === 1) {
      bucket.matching++;
      if (bucket.ids.length < this.limits.maxEvidence) bucket.ids.push(input.id);
    } else bucket.total++;
    // The window sums: kept up to date event by event, summed anew only when the newest bucket moves on.
    if (state.sumsAt !== newestIndex) {
      state.sumsAt = newestIndex;
      state.curTotal = state.curMatching = state.baseTotal = state.baseMatching = 0;
      for (const b of buckets) {
        if (b.index > newestIndex - STEPS) {
          state.curTotal += b.total;
          state.curMatching += b.matching;
        } else {
          state.baseTotal += b.total;
          state.baseMatching += b.matching;
        }
      }
    } else if (index > newestIndex - STEPS) {
      if (input.ref === 1) state.curMatching++;
      else state.curTotal++;
    } else if (input.ref === 1) state.baseMatching++;
    else state.baseTotal++;
    if (input.time < state.quietUntil) return undefined;
    const { curTotal, curMatching, baseTotal, baseMatching } = state;
    const m = this.model;
    if (curTotal < m.minEvents || baseTotal < m.minEvents) return undefined;
    const share = curMatching / curTotal;
    const baseShare = baseMatching / baseTotal;
    if (share < m.minShare || share < m.factor * baseShare) return undefined;
    state.quietUntil = input.time + m.timespanMs;
    const ids: string[] = [];
    for (const b of buckets) if (b.index > newestIndex - STEPS) ids.push(...b.ids);
    const group: Record<string, string> = {};
    m.groupBy.forEach((name, i) => (group[this.groupFields[i] ?? name] = values[i]!));
    const by = Object.entries(group).map(([k, v]) => `${k}=${v}`).join(', ');
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    return {
      time: input.time,
      timestamp: input.timestamp,
      group,
      evidence: ids.slice(-this.limits.maxEvidence),
      reason:
        `${m.matching} ${pct(share)} of ${curTotal} ${m.total} events in the last ${Math.round(m.timespanMs / 60000)}m` +
        ` against ${pct(baseShare)} of ${baseTotal} over the baseline${by ? ` for ${by}` : ''} (factor ${m.factor}, at least ${pct(m.minShare)})`,
      value: share,
    };
  }

  sweep(now: number): void {
    const horizon = now - this.model.timespanMs - this.model.baselineMs;
    this.groups.sweep((s) => s.newest < horizon);
  }

  adopt(other: RateSpike): void {
    this.groups.adopt(other.groups);
    this.ungrouped += other.ungrouped;
  }
}
