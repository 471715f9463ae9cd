// The API's shapes as the page reads them (mirrors src/core/alert.ts and the events routes; fields the page does
// not need are left out, and endpoints still being built are read defensively).
export type Severity = 'informational' | 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low', 'informational'];
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export const STATUSES: AlertStatus[] = ['open', 'acknowledged', 'resolved'];
export type Verdict = 'true_positive' | 'false_positive' | 'benign';
export const VERDICTS: Verdict[] = ['true_positive', 'false_positive', 'benign'];
export type Role = 'ingest' | 'viewer' | 'analyst' | 'admin';

export interface Me {
  user: string;
  role: Role;
  csrf: string;
}

export interface Alert {
  id: string;
  rule: { kind: string; id: string; title: string; author?: string; path?: string };
  severity: Severity;
  confidence: number;
  confidence_explanation: string;
  entity: { field: string; value: string } | null;
  group: Record<string, string> | null;
  status: AlertStatus;
  verdict: Verdict | null;
  assignee: string | null;
  first_seen: string;
  last_seen: string;
  count: number;
  evidence: string[];
  reason: string;
  score: number | null;
  tags: string[];
  details: Record<string, unknown> | null;
  notes?: { at: string; by: string; text: string }[];
  notes_count?: number;
  history?: { at: string; by: string; action: string; from?: string | null; to?: string | null; note?: string }[];
  created: string;
  updated: string;
  evidence_events?: EcsDoc[];
}

export interface Incident {
  id: string;
  title: string;
  entity: { field: string; value: string };
  severity: Severity;
  confidence: number;
  confidence_explanation: string;
  stage: string;
  status: AlertStatus;
  assignee: string | null;
  alerts: string[];
  first_seen: string;
  last_seen: string;
  timeline: { at: string; alert: string; rule: string; severity: Severity; stage: string; summary: string }[];
  escalation: number;
  history: { at: string; by: string; action: string; from?: string | null; to?: string | null; note?: string }[];
  created: string;
  updated: string;
}

/** An ECS document: nested objects, attacker-controlled values. */
export type EcsDoc = Record<string, unknown> & { '@timestamp': string; event?: { id?: string; dataset?: string; original?: string } };

export interface SearchResult {
  total: number;
  events: EcsDoc[];
  next: string | null;
}
export interface Histogram {
  interval: number;
  buckets: { key: string; count: number }[];
}
export interface Top {
  field: string;
  total: number;
  values: { value: string; count: number }[];
}

export interface RatesMessage {
  at: string;
  interval_ms: number;
  total: number;
  datasets: Record<string, number>;
  queue_depth: number;
}
export interface HealthMessage {
  at: string;
  queue_depth: number;
  congested: boolean;
  store: { events: number; bytes: number } | null;
  counters: Record<string, Record<string, number>>;
  stream: { clients: number; dropped_clients: number };
}
