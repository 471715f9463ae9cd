// What every detector emits — Sigma rules, correlations and models alike — and the interface they share.
// alerts/ turns detections into deduplicated alerts and incidents; detectors know nothing of alerts.
import type { EcsEvent } from './event.js';

/** Sigma's levels, used for alerts and models too. */
export type Severity = 'informational' | 'low' | 'medium' | 'high' | 'critical';

export const SEVERITIES: readonly Severity[] = ['informational', 'low', 'medium', 'high', 'critical'];

/** The rule or model a detection came from. */
export interface DetectionSource {
  /** `intel`: an event matched a threat intelligence feed (enrich/threat-intel). */
  kind: 'sigma' | 'correlation' | 'model' | 'intel';
  /** Stable id: the Sigma rule's `id` (or its file name), the model's id, or `threat-intel/FEED`. */
  id: string;
  title: string;
  /** Shown wherever a Sigma match is shown, as the Detection Rule License requires. */
  author?: string;
  /** The file it was loaded from, if any. */
  path?: string;
}

export interface Detection {
  source: DetectionSource;
  severity: Severity;
  /** Event time (ISO 8601) of the newest evidence event: detection time is event time, so replays agree. */
  timestamp: string;
  /** Whom or what the finding is about, e.g. `{ field: 'source.ip', value: '203.0.113.7' }`. */
  entity?: { field: string; value: string };
  /** A correlation's group-by values; with the source id this is the deduplication key. */
  group?: Record<string, string>;
  /**
   * Addresses and users of the event that triggered it (ECS `related.*`), filled by the detection stage: how an
   * incident links a login from an attacking address to the sudo of the account that logged in.
   */
  related?: { ip: string[]; user: string[] };
  /** Ids of the evidence events, oldest first, bounded by the detector. */
  evidence: string[];
  /** One line saying why, for people. */
  reason: string;
  /** A model's anomaly score in [0, 1]. */
  score?: number;
  /** Sigma tags such as `attack.t1110`. */
  tags?: string[];
  /**
   * False for a finding worth recording but not alerting on (a model's anomaly below its alert threshold).
   * Every detection is stored as an event; only those not marked false become alerts. Default true.
   */
  alert?: boolean;
  /** Anything else worth showing: matched fields, feature contributions. */
  details?: Record<string, unknown>;
}

/** Runs on the stream: sees every accepted batch in arrival order, answers what it found in it. */
export interface Detector {
  readonly name: string;
  /** Must not throw for one bad event: a bad event is skipped and counted. */
  process(events: readonly EcsEvent[]): Detection[];
}
