// What a notification says, whatever the channel: one alert or incident, or a digest of several. Channels render it
// (Slack Block Kit, a JSON webhook, an email); every value taken from events is data and each channel escapes it.
import type { Alert, AttackStage, Incident } from '../core/alert.js';
import type { Severity } from '../core/detection.js';

export interface Notice {
  kind: 'alert' | 'incident';
  id: string;
  title: string;
  severity: Severity;
  confidence: number;
  entity: { field: string; value: string } | null;
  /** Why, in one line (the alert's reason, the incident's latest step). */
  summary: string;
  /** Alerts folded into it, or the incident's alerts. */
  count: number;
  first_seen: string;
  last_seen: string;
  /** The rule or model, and its author (shown wherever a Sigma match is shown, as the Detection Rule License asks). */
  rule?: { id: string; title: string; author?: string };
  stage?: AttackStage;
  escalation?: number;
  /** The dashboard page about it. */
  link: string;
}

export interface Message {
  notices: Notice[];
  /** True when several notices were collapsed into one message. */
  digest: boolean;
  /** Notices the digest stands for (it lists at most a few). */
  total: number;
  /** The alert or incident in full, for a single notice (the webhook sends it). */
  subject?: { alert: Alert } | { incident: Incident; escalation: number };
}

const base = (publicUrl: string) => publicUrl.replace(/\/+$/, '');

export function alertNotice(alert: Alert, publicUrl: string): Notice {
  return {
    kind: 'alert',
    id: alert.id,
    title: alert.rule.title,
    severity: alert.severity,
    confidence: alert.confidence,
    entity: alert.entity,
    summary: alert.reason,
    count: alert.count,
    first_seen: alert.first_seen,
    last_seen: alert.last_seen,
    rule: { id: alert.rule.id, title: alert.rule.title, ...(alert.rule.author ? { author: alert.rule.author } : {}) },
    link: `${base(publicUrl)}/alerts/${encodeURIComponent(alert.id)}`,
  };
}

export function incidentNotice(incident: Incident, escalation: number, publicUrl: string): Notice {
  const latest = incident.timeline[incident.timeline.length - 1];
  return {
    kind: 'incident',
    id: incident.id,
    title: incident.title,
    severity: incident.severity,
    confidence: incident.confidence,
    entity: incident.entity,
    summary: latest ? latest.summary : incident.title,
    count: incident.alerts.length,
    first_seen: incident.first_seen,
    last_seen: incident.last_seen,
    stage: incident.stage,
    escalation,
    link: `${base(publicUrl)}/incidents/${encodeURIComponent(incident.id)}`,
  };
}

/** Shortens text for fields with a length limit, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function percent(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

/** `source.ip 203.0.113.7`, or `-`. */
export function entityText(entity: Notice['entity']): string {
  return entity ? `${entity.field} ${entity.value}` : '-';
}

/** One line for a notice, as a digest lists it. */
export function noticeLine(n: Notice): string {
  const what = n.kind === 'incident' ? `incident ${n.title}${n.stage ? ` (${n.stage})` : ''}` : n.title;
  return `[${n.severity.toUpperCase()}] ${what} — ${entityText(n.entity)}${n.count > 1 ? ` ×${n.count}` : ''}`;
}

export function messageTitle(m: Message): string {
  if (m.digest) return `${m.total} notifications from Vigil`;
  const n = m.notices[0]!;
  const escalated = n.kind === 'incident' && (n.escalation ?? 0) > 0 ? ` (escalation ${n.escalation})` : '';
  return `${n.severity.toUpperCase()}: ${n.kind === 'incident' ? 'incident ' : ''}${n.title}${escalated} — ${entityText(n.entity)}`;
}
