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
  /** Addresses and users of the events that triggered it (bounded). */
  related: { ip: string[]; user: string[] };
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

/** How far an attack on one entity has got, from its alerts' tactics (alerts/incidents.ts). */
export type AttackStage = 'activity' | 'reconnaissance' | 'credential_access' | 'initial_access' | 'privilege_escalation' | 'compromise';

/** Alerts sharing an entity within the correlation window, as one story with a timeline. */
export interface Incident {
  id: string;
  title: string;
  entity: { field: string; value: string };
  /** Every entity value its alerts are about (addresses, users, hosts): a new alert sharing one joins. */
  entities: string[];
  /** The highest of its alerts', raised to critical when the stage reaches `compromise`. */
  severity: Severity;
  /** Its alerts' confidences combined in log-odds (alerts/confidence.ts). */
  confidence: number;
  confidence_explanation: string;
  stage: AttackStage;
  status: AlertStatus;
  assignee: string | null;
  /** The first alerts that joined, at most MAX_INCIDENT_ALERTS (alerts/incidents.ts), with their timeline. */
  alerts: string[];
  /** Alerts that joined beyond the listed ones (counted, not listed). */
  unlisted_alerts?: number;
  first_seen: string;
  last_seen: string;
  timeline: { at: string; alert: string; rule: string; severity: Severity; stage: AttackStage; summary: string }[];
  /** Escalation level reached: 0 first notification, 1 re-notified, 2 raised to the next channel … */
  escalation: number;
  /** Wall-clock time of the latest notification about it, if any. */
  notified: string | null;
  history: AuditEntry[];
  created: string;
  updated: string;
}
