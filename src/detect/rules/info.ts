// What the API and the dashboard know of a rule: types only, so the dashboard's code can import them too.
import type { Severity } from '../../core/detection.js';

/** What kind of rule an entry is: a Sigma rule, a Sigma correlation, or one of Vigil's own detectors. */
export type RuleKind = 'sigma' | 'correlation' | 'baseline' | 'travel';

/** One rule as the API lists it. */
export interface RuleInfo {
  id: string;
  title: string;
  kind: RuleKind;
  level: Severity;
  status?: string;
  author?: string;
  path: string;
  line: number;
  logsource?: string;
  enabled: boolean;
  /** Matches since start (a Sigma rule: matching events; a correlation: detections). */
  hits: number;
  /** Why it cannot match here, when it cannot. */
  inactive?: string;
  /** True when it only feeds correlations (no detection of its own). */
  silent: boolean;
}
