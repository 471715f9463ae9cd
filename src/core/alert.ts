// An alert: what detections become once deduplicated, and what analysts triage. Shared by alerts/, the API and the UI.
import type { DetectionSource, Severity } from './detection.js';

export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export const ALERT_STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'resolved'];

export type Verdict = 'true_positive' | 'false_positive' | 'benign';
export const VERDICTS: readonly Verdict[] = ['true_positive', 'false_positive', 'benign'];

/** One change in an alert's life: who did what, when (wall-clock time). */
export interface AuditEntry {
  at: string;
  by: string;
  action: 'created' | 'status' | 'verdict' | 'assignee' | 'note' | 'suppressed';
  from?: string | null;
  to?: string | null;
  note?: string;
}

export interface AlertNote {
  at: string;
  by: string;
  text: string;
}

export interface Alert {
  id: string;
  rule: DetectionSource;
  severity: Severity;
  /** Probability that this alert is a true positive: its rule's Beta posterior mean (alerts/confidence.ts). */
  confidence: number;
  /** How the confidence was reached, for people. */
  confidence_explanation: string;
  entity: { field: string; value: string } | null;
  group: Record<string, string> | null;
  status: AlertStatus;
  verdict: Verdict | null;
  assignee: string | null;
  /** Event time of the first and the latest detection folded into this alert. */
  first_seen: string;
  last_seen: string;
  count: number;
  /** The first evidence events and the newest ones (bounded). */
  evidence: string[];
  reason: string;
  /** Highest anomaly score seen, for model alerts. */
  score: number | null;
  tags: string[];
  details: Record<string, unknown> | null;
  notes: AlertNote[];
  history: AuditEntry[];
  /** Wall-clock time of creation and of the latest change. */
  created: string;
  updated: string;
}
