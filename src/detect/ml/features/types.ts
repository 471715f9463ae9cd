// What feature extraction hands to a detector: samples (one feature vector each) with their time, entity and
// evidence, and the bookkeeping that lets rules exclude the events they alerted on from training.
import type { EcsEvent } from '../../../core/event.js';

/** Set when a rule alerted on one of a sample's events: such samples are not trained on. */
export interface ExclusionFlag {
  excluded: boolean;
  /** The owning detector's count of excluded samples, raised when this flag is set. */
  readonly tally?: { excluded: number };
}

export interface Sample {
  /** Raw feature values (before any log transform); NaN where a feature could not be computed. */
  values: Float64Array;
  /** Event time (ms) of the sample's newest event. */
  time: number;
  /** Whom the sample is about (the entity field's value), if known. */
  entity?: string;
  /** Ids of evidence events, oldest first, bounded. */
  evidence: string[];
  /** The window [start, end) in ms, for entity samples. */
  windowStart?: number;
  windowEnd?: number;
  flags: ExclusionFlag[];
}

export function isExcluded(sample: Sample): boolean {
  for (const flag of sample.flags) if (flag.excluded) return true;
  return false;
}

export interface ExtractorStats {
  /** Events that matched the detector's selection. */
  events: number;
  /** Matching events skipped because they could not be read (no time, no entity). */
  skipped: number;
  samples: number;
  /** Entity detectors: entities tracked now, evicted so far, and events that came later than the lateness allowed. */
  entities?: number;
  evicted?: number;
  late?: number;
  /** Entity states still referenced by open windows (bounded by the entity cap). */
  held?: number;
}

export interface Extractor {
  readonly featureNames: readonly string[];
  /** Takes a batch in arrival order; answers the samples it completed. Never throws for one bad event. */
  push(events: readonly EcsEvent[]): Sample[];
  stats(): ExtractorStats;
}

/**
 * Event id → the flags of the samples (or open windows) it went into, for samples not yet trained on; and the ids
 * already excluded, so that an event excluded before its window closes is honoured too. One index serves every
 * detector (an event feeds several), so each id is held once; both parts bounded, oldest out.
 */
export class ExclusionIndex {
  private readonly flags = new Map<string, ExclusionFlag | ExclusionFlag[]>();
  private readonly excludedIds = new Set<string>();

  constructor(
    private readonly cap = 200_000,
    private readonly excludedCap = 50_000,
  ) {}

  /** Remembers which flag an event's id belongs to; sets it at once when the id was already excluded. */
  track(id: string, flag: ExclusionFlag): void {
    if (this.excludedIds.has(id)) flag.excluded = true; // excluded on arrival: not counted as a mark
    const held = this.flags.get(id);
    if (held === undefined) {
      this.flags.set(id, flag);
      if (this.flags.size > this.cap) this.flags.delete(this.flags.keys().next().value!);
    } else if (Array.isArray(held)) {
      if (!held.includes(flag)) held.push(flag);
    } else if (held !== flag) this.flags.set(id, [held, flag]);
  }

  /** Marks the samples holding these events; answers how many tracked samples were newly marked. */
  exclude(ids: Iterable<string>): number {
    let marked = 0;
    for (const id of ids) {
      const held = this.flags.get(id);
      if (Array.isArray(held)) for (const flag of held) marked += mark(flag);
      else if (held) marked += mark(held);
      this.excludedIds.add(id);
      if (this.excludedIds.size > this.excludedCap) this.excludedIds.delete(this.excludedIds.values().next().value!);
    }
    return marked;
  }

  get size(): number {
    return this.flags.size;
  }
}

function mark(flag: ExclusionFlag): number {
  if (flag.excluded) return 0;
  flag.excluded = true;
  if (flag.tally) flag.tally.excluded++;
  return 1;
}
