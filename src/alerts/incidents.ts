// Incidents: alerts that share an entity (an address, a user, a host) within the correlation window join one story.
// Its stage follows the alerts' ATT&CK tactics; credential attacks followed by access and then escalation on the same
// entities make it a critical "possible compromise". Unacknowledged high incidents escalate on a timer.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Alert, AlertStatus, AttackStage, AuditEntry, Incident } from '../core/alert.js';
import { ALERT_STATUSES } from '../core/alert.js';
import type { Clock } from '../core/clock.js';
import { SEVERITIES, type Severity } from '../core/detection.js';
import { VigilError } from '../core/errors.js';
import { combineConfidence } from './confidence.js';
import { BoundedMap } from '../core/bounded-map.js';
import { Journal } from './journal.js';

export interface IncidentOptions {
  dataDir: string;
  clock: Clock;
  /** An alert this close (event time) to an incident's last activity joins it when they share an entity. Default 2 h. */
  windowMs?: number;
  /** An open high or critical incident not acknowledged for this long escalates one level. Default 15 min. */
  escalateAfterMs?: number;
  /** Highest escalation level (0 is the first notification). Default 2. */
  maxEscalation?: number;
  /** Incidents kept; the oldest resolved go first. Default 20,000. */
  maxIncidents?: number;
  /** How often changes are written and escalations checked. Default 1 s; 0 for no timer (tests call flush/tick). */
  tickMs?: number;
  /** Entries of each index (entity → incident, alert → incident, alert confidences). Default 200,000. */
  maxIndexed?: number;
}

/**
 * Alerts listed (and on the timeline) per incident, and entities per incident: a flood of alerts that share one
 * entity (every brute-forcing address tries `root`) joins one incident, which must not grow without end. Alerts
 * beyond the list are counted in `unlisted_alerts`.
 */
export const MAX_INCIDENT_ALERTS = 1000;
export const MAX_INCIDENT_ENTITIES = 1000;

/** Called when an incident is opened (level 0), worsens, or escalates (level > 0). */
export type EscalationListener = (incident: Incident, level: number, why: 'opened' | 'worsened' | 'unacknowledged') => void;

type Record_ = { type: 'incident'; incident: Incident };

const STAGE_ORDER: AttackStage[] = ['activity', 'reconnaissance', 'credential_access', 'initial_access', 'privilege_escalation', 'compromise'];
const SEVERITY_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;

/** ATT&CK tactics and techniques (Sigma tags) to stages; the highest found wins. */
const STAGE_TAGS: [AttackStage, RegExp][] = [
  ['privilege_escalation', /^attack\.(privilege[_-]escalation|persistence|execution|t1548|t1068|t1543|t1053|t1136|t1098)/],
  ['initial_access', /^attack\.(initial[_-]access|t1078|t1133)/],
  ['credential_access', /^attack\.(credential[_-]access|t1110)/],
  ['reconnaissance', /^attack\.(reconnaissance|discovery|t1046|t1595|t1590)/],
];

/** The stage one alert shows, from its tags. */
export function alertStage(alert: Pick<Alert, 'tags'>): AttackStage {
  let best: AttackStage = 'activity';
  for (const tag of alert.tags) {
    const lower = tag.toLowerCase();
    for (const [stage, pattern] of STAGE_TAGS) {
      if (pattern.test(lower) && STAGE_ORDER.indexOf(stage) > STAGE_ORDER.indexOf(best)) best = stage;
    }
  }
  return best;
}

/** The entity values an alert is about: its entity, its group-by values, and the related addresses and users. */
function entityValues(alert: Alert): Map<string, string> {
  const values = new Map<string, string>();
  if (alert.entity) values.set(alert.entity.value, alert.entity.field);
  for (const [field, value] of Object.entries(alert.group ?? {})) if (value !== '' && !values.has(value)) values.set(value, field);
  for (const ip of alert.related?.ip ?? []) if (!values.has(ip)) values.set(ip, 'related.ip');
  for (const user of alert.related?.user ?? []) if (!values.has(user)) values.set(user, 'related.user');
  return values;
}

/**
 * The stage of a timeline: progress counts only in order — access after a credential attack, escalation after access.
 * Access and escalation without what comes before them show as themselves, not as a compromise.
 */
export function incidentStage(timeline: readonly { at: string; stage: AttackStage }[]): AttackStage {
  const sorted = [...timeline].sort((a, b) => a.at.localeCompare(b.at));
  let sawCredential = false;
  let sawAccessAfterCredential = false;
  let highest: AttackStage = 'activity';
  for (const { stage } of sorted) {
    if (STAGE_ORDER.indexOf(stage) > STAGE_ORDER.indexOf(highest)) highest = stage;
    if (stage === 'credential_access') sawCredential = true;
    else if (stage === 'initial_access' && sawCredential) sawAccessAfterCredential = true;
    else if (stage === 'privilege_escalation' && sawAccessAfterCredential) return 'compromise';
  }
  return highest;
}

export class IncidentTracker {
  private readonly incidents = new Map<string, Incident>();
  /** Entity value → open incident holding it. Bounded: a forgotten entity opens a new incident rather than joining. */
  private readonly byEntity: BoundedMap<string, string>;
  /** Alert id → its incident. */
  private readonly byAlert: BoundedMap<string, string>;
  /** The alerts seen, by id: their latest confidence. */
  private readonly alertConfidence: BoundedMap<string, number>;
  private readonly listeners: EscalationListener[] = [];
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly journal: Journal<Record_>;
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly escalateAfterMs: number;
  private readonly maxEscalation: number;
  private readonly maxIncidents: number;

  constructor(options: IncidentOptions) {
    this.clock = options.clock;
    this.windowMs = options.windowMs ?? 2 * 3_600_000;
    this.escalateAfterMs = options.escalateAfterMs ?? 15 * 60_000;
    this.maxEscalation = options.maxEscalation ?? 2;
    this.maxIncidents = options.maxIncidents ?? 20_000;
    const maxIndexed = options.maxIndexed ?? 200_000;
    this.byEntity = new BoundedMap(maxIndexed);
    this.byAlert = new BoundedMap(maxIndexed);
    this.alertConfidence = new BoundedMap(maxIndexed);
    const path = join(options.dataDir, 'incidents.jsonl');
    this.journal = Journal.open<Record_>(path, (records) => {
      for (const r of records) if (r.type === 'incident') this.incidents.set(r.incident.id, r.incident);
      this.evict();
      for (const incident of this.incidents.values()) this.index(incident);
      return [...this.incidents.values()].map((incident) => ({ type: 'incident' as const, incident }));
    }).journal;
    const tickMs = options.tickMs ?? 1000;
    if (tickMs > 0) {
      this.timer = setInterval(() => {
        this.flush();
        this.tick();
      }, tickMs);
      this.timer.unref();
    }
  }

  private index(incident: Incident): void {
    for (const id of incident.alerts) this.byAlert.set(id, incident.id);
    if (incident.status === 'resolved') return;
    for (const entry of incident.timeline) this.byAlert.set(entry.alert, incident.id);
    for (const value of incident.entities) this.byEntity.set(value, incident.id);
  }

  onEscalation(listener: EscalationListener): void {
    this.listeners.push(listener);
  }

  private emit(incident: Incident, level: number, why: 'opened' | 'worsened' | 'unacknowledged'): void {
    for (const listener of this.listeners) {
      try {
        listener(incident, level, why);
      } catch (err) {
        console.error(`vigil: an incident listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Takes an alert that was created or updated; answers the incident it belongs to. */
  observe(alert: Alert): Incident {
    this.alertConfidence.set(alert.id, alert.confidence);
    const known = this.incidents.get(this.byAlert.get(alert.id) ?? '');
    const stage = alertStage(alert);
    const now = this.now();
    if (known) {
      this.refresh(known, alert, now);
      return known;
    }
    const values = entityValues(alert);
    let incident: Incident | undefined;
    for (const value of values.keys()) {
      const candidate = this.incidents.get(this.byEntity.get(value) ?? '');
      if (candidate && candidate.status !== 'resolved' && Date.parse(alert.first_seen) - Date.parse(candidate.last_seen) <= this.windowMs) {
        incident = candidate;
        break;
      }
    }
    const entry = { at: alert.first_seen, alert: alert.id, rule: alert.rule.title, severity: alert.severity, stage, summary: alert.reason };
    if (!incident) {
      const [value, field] = values.entries().next().value ?? [`${alert.rule.id}`, 'rule.id'];
      incident = {
        id: randomUUID(),
        title: `${alert.rule.title} (${value})`,
        entity: { field, value },
        entities: [],
        severity: alert.severity,
        confidence: alert.confidence,
        confidence_explanation: '',
        stage,
        status: 'open',
        assignee: null,
        alerts: [],
        first_seen: alert.first_seen,
        last_seen: alert.last_seen,
        timeline: [],
        escalation: 0,
        notified: null,
        history: [{ at: now, by: 'vigil', action: 'created', to: 'open' }],
        created: now,
        updated: now,
      };
      this.incidents.set(incident.id, incident);
      this.evict();
    }
    if (incident.alerts.length < MAX_INCIDENT_ALERTS) {
      incident.alerts.push(alert.id);
      incident.timeline.push(entry);
      incident.timeline.sort((a, b) => a.at.localeCompare(b.at));
    } else {
      incident.unlisted_alerts = (incident.unlisted_alerts ?? 0) + 1;
      this.alertConfidence.delete(alert.id); // only listed alerts count towards the incident's confidence
    }
    for (const value of values.keys()) {
      if (incident.entities.length >= MAX_INCIDENT_ENTITIES && !incident.entities.includes(value)) continue;
      if (!incident.entities.includes(value)) incident.entities.push(value);
      this.byEntity.set(value, incident.id);
    }
    this.byAlert.set(alert.id, incident.id);
    const isNew = incident.alerts.length === 1;
    const before = { stage: incident.stage, severity: incident.severity };
    this.refresh(incident, alert, now);
    if (isNew) this.emit(incident, 0, 'opened');
    else if (incident.stage !== before.stage && incident.stage === 'compromise') this.emit(incident, incident.escalation, 'worsened');
    return incident;
  }

  /** Recomputes what follows from the alerts: stage, severity, confidence, times; writes the incident. */
  private refresh(incident: Incident, alert: Alert, now: string): void {
    if (alert.last_seen > incident.last_seen) incident.last_seen = alert.last_seen;
    if (alert.first_seen < incident.first_seen) incident.first_seen = alert.first_seen;
    incident.stage = incidentStage(incident.timeline);
    let severity: Severity = 'informational';
    for (const entry of incident.timeline) if (SEVERITY_RANK[entry.severity] > SEVERITY_RANK[severity]) severity = entry.severity;
    if (alert.severity && SEVERITY_RANK[alert.severity] > SEVERITY_RANK[severity]) severity = alert.severity;
    if (incident.stage === 'compromise') {
      severity = 'critical';
      incident.title = `Possible compromise: ${incident.entity.value}`;
    }
    incident.severity = severity;
    const confidences = incident.alerts.map((id) => this.alertConfidence.get(id)).filter((c): c is number => c !== undefined);
    incident.confidence = combineConfidence(confidences);
    incident.confidence_explanation = `${confidences.length} alert${confidences.length === 1 ? '' : 's'} (${confidences.join(', ')}) combined in log-odds over a 0.5 base rate`;
    incident.updated = now;
    this.dirty.add(incident.id);
  }

  /** Writes the incidents changed by alerts since the last flush (analysts' changes are written at once). */
  flush(): void {
    if (this.dirty.size === 0) return;
    const records = [...this.dirty].map((id) => this.incidents.get(id)).filter((i): i is Incident => i !== undefined);
    this.dirty.clear();
    try {
      this.journal.append(records.map((incident) => ({ type: 'incident' as const, incident })));
      this.journal.compact(this.incidents.size, () => [...this.incidents.values()].map((incident) => ({ type: 'incident' as const, incident })));
    } catch (err) {
      console.error(`vigil: could not write incidents: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * Escalates open high or critical incidents nobody acknowledged in time: each `escalateAfterMs` without an
   * acknowledgement raises the level (re-notify, then the next channel). Call periodically; time from the clock.
   */
  tick(): Incident[] {
    const escalated: Incident[] = [];
    const nowMs = this.clock.now();
    for (const incident of this.incidents.values()) {
      if (incident.status !== 'open' || SEVERITY_RANK[incident.severity] < SEVERITY_RANK.high || incident.escalation >= this.maxEscalation) continue;
      const since = Date.parse(incident.notified ?? incident.created);
      if (nowMs - since < this.escalateAfterMs) continue;
      incident.escalation++;
      incident.history.push({ at: this.now(), by: 'vigil', action: 'status', from: `escalation ${incident.escalation - 1}`, to: `escalation ${incident.escalation}` });
      incident.notified = this.now();
      this.journal.append([{ type: 'incident', incident }]);
      this.emit(incident, incident.escalation, 'unacknowledged');
      escalated.push(incident);
    }
    return escalated;
  }

  /** Marks that a notification about the incident went out (the escalation timer counts from here). */
  markNotified(id: string): void {
    const incident = this.get(id);
    incident.notified = this.now();
    this.journal.append([{ type: 'incident', incident }]);
  }

  get(id: string): Incident {
    const incident = this.incidents.get(id);
    if (!incident) throw new VigilError('not_found', `no incident ${JSON.stringify(id.slice(0, 100))}`);
    return incident;
  }

  /** Incidents by status and severity; `from`/`to` (ms, event time) keep those active in [from, to). */
  list(filter: { status?: AlertStatus[]; severity?: Severity[]; from?: number; to?: number; limit?: number; offset?: number } = {}): { total: number; incidents: Incident[] } {
    const matches = [...this.incidents.values()].filter(
      (i) =>
        (!filter.status || filter.status.includes(i.status)) &&
        (!filter.severity || filter.severity.includes(i.severity)) &&
        (filter.from === undefined || Date.parse(i.last_seen) >= filter.from) &&
        (filter.to === undefined || Date.parse(i.first_seen) < filter.to),
    );
    matches.sort((a, b) => b.last_seen.localeCompare(a.last_seen) || b.id.localeCompare(a.id));
    const offset = Math.max(0, filter.offset ?? 0);
    return { total: matches.length, incidents: matches.slice(offset, offset + Math.min(1000, Math.max(0, filter.limit ?? 100))) };
  }

  update(id: string, patch: { status?: AlertStatus; assignee?: string | null; note?: string }, by: string): Incident {
    const incident = this.get(id);
    const at = this.now();
    const entries: AuditEntry[] = [];
    if (patch.status !== undefined && patch.status !== incident.status) {
      if (!ALERT_STATUSES.includes(patch.status)) throw new VigilError('bad_request', `status must be one of ${ALERT_STATUSES.join(', ')}`);
      entries.push({ at, by, action: 'status', from: incident.status, to: patch.status });
      incident.status = patch.status;
      if (patch.status === 'resolved') for (const value of incident.entities) if (this.byEntity.get(value) === id) this.byEntity.delete(value);
    }
    if (patch.assignee !== undefined && patch.assignee !== incident.assignee) {
      entries.push({ at, by, action: 'assignee', from: incident.assignee, to: patch.assignee });
      incident.assignee = patch.assignee;
    }
    if (patch.note !== undefined) {
      if (patch.note.trim() === '') throw new VigilError('bad_request', 'a note cannot be empty');
      entries.push({ at, by, action: 'note', note: patch.note.slice(0, 10_000) });
    }
    if (entries.length === 0) return incident;
    incident.history.push(...entries);
    incident.updated = at;
    this.journal.append([{ type: 'incident', incident }]);
    return incident;
  }

  /**
   * Beyond the cap, the oldest incidents (resolved first) go, with their index entries. A twentieth more than needed
   * goes at once, so that a flood of new incidents sorts the whole set once per many incidents, not once each.
   */
  private evict(): void {
    if (this.incidents.size <= this.maxIncidents) return;
    const target = Math.max(0, this.maxIncidents - Math.floor(this.maxIncidents / 20));
    const byAge = [...this.incidents.values()].sort((a, b) => Number(b.status === 'resolved') - Number(a.status === 'resolved') || a.last_seen.localeCompare(b.last_seen));
    for (const incident of byAge.slice(0, this.incidents.size - target)) {
      this.incidents.delete(incident.id);
      this.dirty.delete(incident.id);
      for (const value of incident.entities) if (this.byEntity.get(value) === incident.id) this.byEntity.delete(value);
      for (const id of incident.alerts) {
        if (this.byAlert.get(id) === incident.id) this.byAlert.delete(id);
        this.alertConfidence.delete(id);
      }
    }
  }

  /** Sizes of the incidents and of each index, for health and the flood test. */
  stats(): { incidents: number; indexedEntities: number; indexedAlerts: number; confidences: number } {
    return { incidents: this.incidents.size, indexedEntities: this.byEntity.size, indexedAlerts: this.byAlert.size, confidences: this.alertConfidence.size };
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
    this.journal.close();
  }
}
