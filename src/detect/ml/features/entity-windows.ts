// Per-entity features over sliding windows of event time: for each source IP, user or host, the window's events
// become one sample (counts, ratios, distinct values, sums, means, maxima). Windows are made of steps (buckets): a
// window of W steps ends at every step in which the entity was active, so with step = window they are tumbling
// windows and with a smaller step they slide. A step closes once the newest event time seen is `lateness` past its
// end. State is bounded: at most `maxEntities` entities (the least recently seen is evicted, and counted), at most
// W + 1 steps per entity, at most DISTINCT_CAP values per distinct count per step.
import type { EcsEvent } from '../../../core/event.js';
import type { FeatureConfig } from '../../../config/ml.js';
import { VigilError } from '../../../core/errors.js';
import { compileFilters, eventTime, numberField, textField, type EventPredicate } from './read.js';
import type { ExclusionFlag, ExclusionIndex, Extractor, ExtractorStats, Sample } from './types.js';

/** Distinct values remembered per feature per step; a distinct count saturates there. */
export const DISTINCT_CAP = 4096;
/** Evidence event ids kept per step. */
const EVIDENCE_PER_STEP = 32;
/** Evidence ids per sample. */
const EVIDENCE_PER_SAMPLE = 32;

type Agg = 'count' | 'ratio' | 'distinct' | 'sum' | 'mean' | 'max';

interface CompiledFeature {
  agg: Agg;
  fields: string[];
  match: EventPredicate;
  everything: boolean;
}

function compileFeature(spec: FeatureConfig, detector: string): CompiledFeature {
  const agg = spec.agg;
  if (agg === undefined) throw new VigilError('bad_config', `ml detector ${detector}: entity feature ${spec.name} needs "agg" (count, ratio, distinct, sum, mean or max)`);
  const fields = spec.field === undefined ? [] : Array.isArray(spec.field) ? spec.field : [spec.field];
  if ((agg === 'distinct' || agg === 'sum' || agg === 'mean' || agg === 'max') && fields.length === 0) {
    throw new VigilError('bad_config', `ml detector ${detector}: feature ${spec.name} (${agg}) needs "field"`);
  }
  if (agg === 'distinct' && fields.length !== 1) throw new VigilError('bad_config', `ml detector ${detector}: feature ${spec.name} counts distinct values of one field`);
  return { agg, fields, match: compileFilters(spec.where), everything: !spec.where || spec.where.length === 0 };
}

class Step {
  events = 0;
  /** Newest event time in the step. */
  latest = -Infinity;
  /** count/ratio: matching events; sum/mean: the sum; max: the maximum. */
  readonly acc: Float64Array;
  /** mean/max: values seen. */
  readonly seen: Float64Array;
  readonly sets: (Set<string> | undefined)[];
  readonly evidence: string[] = [];
  readonly flag: ExclusionFlag;

  constructor(
    readonly index: number,
    features: readonly CompiledFeature[],
    tally: { excluded: number } | undefined,
  ) {
    this.flag = tally ? { excluded: false, tally } : { excluded: false };
    this.acc = new Float64Array(features.length);
    this.seen = new Float64Array(features.length);
    this.sets = features.map((f) => (f.agg === 'distinct' ? new Set<string>() : undefined));
    features.forEach((f, i) => {
      if (f.agg === 'max') this.acc[i] = -Infinity;
    });
  }
}

class EntityState {
  /** Ascending by index. */
  steps: Step[] = [];
  constructor(readonly key: string) {}

  step(index: number, features: readonly CompiledFeature[], tally: { excluded: number } | undefined): Step {
    const last = this.steps[this.steps.length - 1];
    if (last && last.index === index) return last;
    // Late events can land in an older open step; steps are few, so a scan is fine.
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const s = this.steps[i]!;
      if (s.index === index) return s;
      if (s.index < index) {
        const created = new Step(index, features, tally);
        this.steps.splice(i + 1, 0, created);
        return created;
      }
    }
    const created = new Step(index, features, tally);
    this.steps.unshift(created);
    return created;
  }
}

export interface EntityWindowOptions {
  features: readonly FeatureConfig[];
  select: EventPredicate;
  entityField: string;
  windowMs: number;
  stepMs: number;
  latenessMs: number;
  maxEntities: number;
  exclusions: ExclusionIndex;
  /** The detector's count of excluded samples. */
  tally?: { excluded: number };
  detector: string;
}

export class EntityWindows implements Extractor {
  readonly featureNames: readonly string[];
  private readonly features: CompiledFeature[];
  private readonly select: EventPredicate;
  private readonly entityField: string;
  private readonly stepMs: number;
  private readonly stepsPerWindow: number;
  private readonly latenessMs: number;
  private readonly maxEntities: number;
  private readonly exclusions: ExclusionIndex;
  private readonly tally: { excluded: number } | undefined;
  /** In least-recently-seen order: a touched entity is moved to the end. */
  private readonly entities = new Map<string, EntityState>();
  /** Step index → entities active in it, to emit when it closes. */
  private readonly pending = new Map<number, Set<EntityState>>();
  /** Step index → entities whose newest data leaves every window once it closes. */
  private readonly expiry = new Map<number, Set<EntityState>>();
  private maxTime = -Infinity;
  private closedThrough = -Infinity;
  private readonly counts = { events: 0, skipped: 0, samples: 0, evicted: 0, late: 0 };

  constructor(options: EntityWindowOptions) {
    if (!(options.stepMs > 0 && options.windowMs >= options.stepMs)) {
      throw new VigilError('bad_config', `ml detector ${options.detector}: step must be positive and at most the window`);
    }
    if (options.windowMs % options.stepMs !== 0) throw new VigilError('bad_config', `ml detector ${options.detector}: the window must be a whole number of steps`);
    this.featureNames = options.features.map((f) => f.name);
    this.features = options.features.map((f) => compileFeature(f, options.detector));
    this.select = options.select;
    this.entityField = options.entityField;
    this.stepMs = options.stepMs;
    this.stepsPerWindow = options.windowMs / options.stepMs;
    this.latenessMs = options.latenessMs;
    this.maxEntities = options.maxEntities;
    this.exclusions = options.exclusions;
    this.tally = options.tally;
  }

  push(events: readonly EcsEvent[]): Sample[] {
    const out: Sample[] = [];
    for (const event of events) {
      if (!this.select(event)) continue;
      this.counts.events++;
      const time = eventTime(event);
      const key = textField(event, this.entityField);
      const id = event.event?.id;
      if (time === undefined || key === undefined || typeof id !== 'string') {
        this.counts.skipped++;
        continue;
      }
      if (time > this.maxTime) {
        this.maxTime = time;
        this.close(Math.floor((this.maxTime - this.latenessMs) / this.stepMs) - 1, out);
      }
      let index = Math.floor(time / this.stepMs);
      if (this.closedThrough === -Infinity) this.closedThrough = index - 1;
      if (index <= this.closedThrough) {
        // Its step was already emitted: count it in the oldest open one rather than lose it.
        this.counts.late++;
        index = this.closedThrough + 1;
      }
      this.add(event, key, id, index, time);
    }
    this.counts.samples += out.length;
    return out;
  }

  /** Emits every step up to and including `through`, oldest first. */
  private close(through: number, out: Sample[]): void {
    if (!(through > this.closedThrough)) return;
    const due = [...this.pending.keys()].filter((k) => k <= through).sort((a, b) => a - b);
    for (const index of due) {
      const active = this.pending.get(index)!;
      this.pending.delete(index);
      for (const entity of active) out.push(this.sample(entity, index));
    }
    for (const index of [...this.expiry.keys()].filter((k) => k <= through)) {
      for (const entity of this.expiry.get(index)!) {
        const newest = entity.steps[entity.steps.length - 1];
        if (newest === undefined || newest.index + this.stepsPerWindow - 1 <= through) {
          if (this.entities.get(entity.key) === entity) this.entities.delete(entity.key);
        }
      }
      this.expiry.delete(index);
    }
    this.closedThrough = through;
  }

  private add(event: EcsEvent, key: string, id: string, index: number, time: number): void {
    let entity = this.entities.get(key);
    if (entity) this.entities.delete(key);
    else {
      entity = new EntityState(key);
      if (this.entities.size >= this.maxEntities) this.evictOldest();
    }
    this.entities.set(key, entity);
    const step = entity.step(index, this.features, this.tally);
    // Steps no window still to be emitted can reach are dropped as the entity is touched.
    const oldest = this.closedThrough + 1 - this.stepsPerWindow;
    while (entity.steps.length > 0 && entity.steps[0]!.index <= oldest) entity.steps.shift();
    step.events++;
    if (time > step.latest) step.latest = time;
    for (let f = 0; f < this.features.length; f++) {
      const feature = this.features[f]!;
      if (!feature.everything && !feature.match(event)) continue;
      switch (feature.agg) {
        case 'count':
        case 'ratio':
          step.acc[f]!++;
          break;
        case 'distinct': {
          const set = step.sets[f]!;
          if (set.size < DISTINCT_CAP) {
            const value = textField(event, feature.fields[0]!);
            if (value !== undefined) set.add(value);
          }
          break;
        }
        default: {
          let total: number | undefined;
          for (const path of feature.fields) {
            const v = numberField(event, path);
            if (v !== undefined) total = (total ?? 0) + v;
          }
          if (total === undefined) break;
          step.seen[f]!++;
          if (feature.agg === 'max') step.acc[f] = Math.max(step.acc[f]!, total);
          else step.acc[f] = step.acc[f]! + total;
        }
      }
    }
    if (step.evidence.length < EVIDENCE_PER_STEP) step.evidence.push(id);
    this.exclusions.track(id, step.flag);
    let pending = this.pending.get(index);
    if (!pending) this.pending.set(index, (pending = new Set()));
    pending.add(entity);
    const expires = index + this.stepsPerWindow - 1;
    let expiring = this.expiry.get(expires);
    if (!expiring) this.expiry.set(expires, (expiring = new Set()));
    expiring.add(entity);
  }

  private evictOldest(): void {
    const [key, entity] = this.entities.entries().next().value as [string, EntityState];
    this.entities.delete(key);
    // Out of both indexes: an evicted entity held there would keep its steps alive until they close, so a flood of
    // new addresses within one window would grow memory past `maxEntities`.
    for (const step of entity.steps) {
      this.pending.get(step.index)?.delete(entity);
      this.expiry.get(step.index + this.stepsPerWindow - 1)?.delete(entity);
    }
    this.counts.evicted++;
  }

  /** The sample of the window of `stepsPerWindow` steps ending with step `end`. */
  private sample(entity: EntityState, end: number): Sample {
    const first = end - this.stepsPerWindow + 1;
    const steps = entity.steps.filter((s) => s.index >= first && s.index <= end);
    const values = new Float64Array(this.features.length);
    let events = 0;
    for (const s of steps) events += s.events;
    for (let f = 0; f < this.features.length; f++) {
      const feature = this.features[f]!;
      switch (feature.agg) {
        case 'count': {
          let n = 0;
          for (const s of steps) n += s.acc[f]!;
          values[f] = n;
          break;
        }
        case 'ratio': {
          let n = 0;
          for (const s of steps) n += s.acc[f]!;
          values[f] = events === 0 ? 0 : n / events;
          break;
        }
        case 'distinct': {
          if (steps.length === 1) values[f] = steps[0]!.sets[f]!.size;
          else {
            const union = new Set<string>();
            for (const s of steps) for (const v of s.sets[f]!) if (union.size < DISTINCT_CAP) union.add(v);
            values[f] = union.size;
          }
          break;
        }
        case 'sum': {
          let total = 0;
          for (const s of steps) total += s.acc[f]!;
          values[f] = total;
          break;
        }
        case 'mean': {
          let total = 0;
          let n = 0;
          for (const s of steps) {
            total += s.acc[f]!;
            n += s.seen[f]!;
          }
          values[f] = n === 0 ? NaN : total / n;
          break;
        }
        case 'max': {
          let max = -Infinity;
          for (const s of steps) if (s.seen[f]! > 0 && s.acc[f]! > max) max = s.acc[f]!;
          values[f] = max === -Infinity ? NaN : max;
          break;
        }
      }
    }
    const evidence: string[] = [];
    let latest = -Infinity;
    for (const s of steps) {
      for (const id of s.evidence) if (evidence.length < EVIDENCE_PER_SAMPLE) evidence.push(id);
      if (s.latest > latest) latest = s.latest;
    }
    return {
      values,
      time: latest,
      windowEnd: (end + 1) * this.stepMs,
      windowStart: first * this.stepMs,
      entity: entity.key,
      evidence,
      flags: steps.map((s) => s.flag),
    };
  }

  /** Emits every open window now (for tests and shutdown); later events for those steps count as late. */
  flush(): Sample[] {
    const out: Sample[] = [];
    const last = Math.max(...this.pending.keys(), this.closedThrough);
    if (Number.isFinite(last)) this.close(last, out);
    this.counts.samples += out.length;
    return out;
  }

  stats(): ExtractorStats {
    return { events: this.counts.events, skipped: this.counts.skipped, samples: this.counts.samples, entities: this.entities.size, evicted: this.counts.evicted, late: this.counts.late, held: this.held() };
  }

  /** Entity states the window indexes still reference (at most `entities`, once evictions leave nothing behind). */
  private held(): number {
    const seen = new Set<EntityState>();
    for (const set of this.pending.values()) for (const e of set) seen.add(e);
    for (const set of this.expiry.values()) for (const e of set) seen.add(e);
    return seen.size;
  }
}
