// Per-event extraction: each selected event becomes one sample (web requests, or any event with numeric fields).
import type { EcsEvent } from '../../../core/event.js';
import type { FeatureConfig } from '../../../config/ml.js';
import { VigilError } from '../../../core/errors.js';
import { eventTime, numberField, textField, type EventPredicate } from './read.js';
import type { ExclusionIndex, Extractor, ExtractorStats, Sample } from './types.js';
import { WEB_FEATURE_FNS } from './web.js';

type FeatureFn = (event: EcsEvent) => number | undefined;

export function compileEventFeature(spec: FeatureConfig, detector: string): FeatureFn {
  if (spec.builtin !== undefined) return WEB_FEATURE_FNS[spec.builtin];
  if (typeof spec.field === 'string') {
    const path = spec.field;
    return (event) => numberField(event, path);
  }
  throw new VigilError('bad_config', `ml detector ${detector}: feature ${spec.name} needs "builtin" (a web feature) or "field" (one numeric field)`);
}

export class EventFeatures implements Extractor {
  readonly featureNames: readonly string[];
  private readonly fns: FeatureFn[];
  private readonly counts = { events: 0, skipped: 0, samples: 0 };

  constructor(
    features: readonly FeatureConfig[],
    private readonly select: EventPredicate,
    private readonly entityField: string | undefined,
    private readonly exclusions: ExclusionIndex,
    detector: string,
    /** The detector's count of excluded samples. */
    private readonly tally?: { excluded: number },
  ) {
    this.featureNames = features.map((f) => f.name);
    this.fns = features.map((f) => compileEventFeature(f, detector));
  }

  push(events: readonly EcsEvent[]): Sample[] {
    const out: Sample[] = [];
    for (const event of events) {
      if (!this.select(event)) continue;
      this.counts.events++;
      const time = eventTime(event);
      const id = event.event?.id;
      if (time === undefined || typeof id !== 'string') {
        this.counts.skipped++;
        continue;
      }
      const values = new Float64Array(this.fns.length);
      for (let i = 0; i < this.fns.length; i++) values[i] = this.fns[i]!(event) ?? NaN;
      const flag = this.tally ? { excluded: false, tally: this.tally } : { excluded: false };
      this.exclusions.track(id, flag);
      const entity = this.entityField === undefined ? undefined : textField(event, this.entityField);
      out.push({ values, time, evidence: [id], flags: [flag], ...(entity !== undefined ? { entity } : {}) });
    }
    this.counts.samples += out.length;
    return out;
  }

  stats(): ExtractorStats {
    return { ...this.counts };
  }
}
