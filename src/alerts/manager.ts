// Turns detections into alerts: the same rule and group within the suppression window updates one alert instead of
// raising many; analysts' changes are audited and their verdicts teach the confidence model. State lives in a journal.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Alert, AlertStatus, AuditEntry, Verdict } from '../core/alert.js';
import { ALERT_STATUSES, VERDICTS } from '../core/alert.js';
import type { Clock } from '../core/clock.js';
import { SEVERITIES, type Detection, type Severity } from '../core/detection.js';
import { VigilError } from '../core/errors.js';
import { ConfidenceModel, type SourceConfidence } from './confidence.js';
import { Journal } from './journal.js';
import { matchesSuppression, validateSuppression, type Suppression, type SuppressionInput } from './suppression.js';

export interface AlertManagerOptions {
  /** Where `alerts.jsonl` lives. */
  dataDir: string;
  clock: Clock;
  /** A detection this close (event time) to its alert's last one updates it. Default one hour. */
  suppressionWindowMs?: number;
  /** Evidence ids kept per alert: the first ones and the newest. Default 50. */
  evidenceCap?: number;
  /** Alerts kept in memory and in the journal; the oldest resolved ones go first. Default 100,000. */
  maxAlerts?: number;
  /** Coalesces count updates into one journal write per interval. Default 1 s. */
  flushIntervalMs?: number;
}

export interface AlertFilter {
  status?: AlertStatus[];
  severity?: Severity[];
  rule?: string;
  entity?: string;
  min_confidence?: number;
  /** Alerts active in [from, to) (ms, event time): last seen at or after `from`, first seen before `to`. */
  from?: number;
  to?: number;
  limit?: number;
  offset?: number;
}

export interface AlertPatch {
  status?: AlertStatus;
  verdict?: Verdict | null;
  assignee?: string | null;
  note?: string;
}

export type AlertListener = (alert: Alert, change: 'created' | 'updated') => void;

type JournalRecord =
  | { type: 'alert'; alert: Alert }
  | { type: 'confidence'; id: string; record: SourceConfidence }
  | { type: 'suppression'; suppression: Suppression }
  | { type: 'unsuppress'; id: string };

const SEVERITY_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;
const MAX_NOTE_CHARS = 10_000;
/** Related addresses and users kept per alert. */
const MAX_RELATED = 20;

/** The deduplication key: the source and its group (or entity), whatever the order of group fields. */
function dedupeKey(d: Detection): string {
  const group = d.group ? Object.entries(d.group).sort(([a], [b]) => a.localeCompare(b)) : d.entity ? [[d.entity.field, d.entity.value]] : [];
  return `${d.source.kind}:${d.source.id}:${JSON.stringify(group)}`;
}

function keyOf(alert: Alert): string {
  const group = alert.group ? Object.entries(alert.group).sort(([a], [b]) => a.localeCompare(b)) : alert.entity ? [[alert.entity.field, alert.entity.value]] : [];
  return `${alert.rule.kind}:${alert.rule.id}:${JSON.stringify(group)}`;
}

export class AlertManager {
  private readonly alerts = new Map<string, Alert>();
  /** Dedupe key → id of the newest unresolved alert with that key. */
  private readonly byKey = new Map<string, string>();
  private readonly confidence = new ConfidenceModel();
  private readonly suppressions = new Map<string, Suppression>();
  private readonly dirty = new Set<string>();
  private readonly listeners: AlertListener[] = [];
  private readonly journal: Journal<JournalRecord>;
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly evidenceCap: number;
  private readonly maxAlerts: number;
  private readonly timer: NodeJS.Timeout;
  /** Detections dropped by suppression rules, for health. */
  suppressed = 0;

  constructor(options: AlertManagerOptions) {
    this.clock = options.clock;
    this.windowMs = options.suppressionWindowMs ?? 3_600_000;
    this.evidenceCap = Math.max(2, options.evidenceCap ?? 50);
    this.maxAlerts = options.maxAlerts ?? 100_000;
    const path = join(options.dataDir, 'alerts.jsonl');
    const { journal, records } = Journal.open<JournalRecord>(path, (all) => this.replay(all), (line, reason) =>
      console.error(`vigil: skipped a damaged record at ${path}:${line} (${reason})`),
    );
    this.journal = journal;
    void records;
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Rebuilds state from the journal and answers the records that describe it now (compaction). */
  private replay(records: JournalRecord[]): JournalRecord[] {
    const confidence = new Map<string, SourceConfidence>();
    for (const record of records) {
      switch (record.type) {
        case 'alert':
          this.alerts.set(record.alert.id, record.alert);
          break;
        case 'confidence':
          confidence.set(record.id, record.record);
          break;
        case 'suppression':
          this.suppressions.set(record.suppression.id, record.suppression);
          break;
        case 'unsuppress':
          this.suppressions.delete(record.id);
          break;
      }
    }
    this.confidence.restore(Object.fromEntries(confidence));
    this.evict();
    for (const alert of [...this.alerts.values()].sort((a, b) => a.last_seen.localeCompare(b.last_seen))) {
      if (alert.status !== 'resolved') this.byKey.set(keyOf(alert), alert.id);
    }
    return this.current();
  }

  /** The records that describe the state now: what a compacted journal holds. */
  private current(): JournalRecord[] {
    return [
      ...Object.entries(this.confidence.snapshot()).map(([id, record]) => ({ type: 'confidence' as const, id, record })),
      ...[...this.suppressions.values()].map((suppression) => ({ type: 'suppression' as const, suppression })),
      ...[...this.alerts.values()].map((alert) => ({ type: 'alert' as const, alert })),
    ];
  }

  onChange(listener: AlertListener): void {
    this.listeners.push(listener);
  }

  private emit(alert: Alert, change: 'created' | 'updated'): void {
    for (const listener of this.listeners) {
      try {
        listener(alert, change);
      } catch (err) {
        console.error(`vigil: an alert listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** Folds detections into alerts; answers the alerts created or updated. Non-alerting detections are ignored. */
  handle(detections: readonly Detection[]): Alert[] {
    const changed = new Map<string, 'created' | 'updated'>();
    const now = new Date(this.clock.now()).toISOString();
    for (const d of detections) {
      if (d.alert === false) continue;
      if (this.isSuppressed(d)) {
        this.suppressed++;
        continue;
      }
      const key = dedupeKey(d);
      const existing = this.alerts.get(this.byKey.get(key) ?? '');
      const seenMs = Date.parse(d.timestamp);
      if (existing && existing.status !== 'resolved' && Math.abs(seenMs - Date.parse(existing.last_seen)) <= this.windowMs) {
        this.fold(existing, d, now);
        if (!changed.has(existing.id)) changed.set(existing.id, 'updated');
        continue;
      }
      const alert = this.create(d, now);
      this.byKey.set(key, alert.id);
      changed.set(alert.id, 'created');
    }
    if (changed.size > 0) this.evict();
    const result: Alert[] = [];
    for (const [id, change] of changed) {
      const alert = this.alerts.get(id);
      if (!alert) continue;
      this.dirty.add(id);
      this.emit(alert, change);
      result.push(alert);
    }
    return result;
  }

  private create(d: Detection, now: string): Alert {
    const { value, explanation } = this.confidence.confidence(d.source.id, d.severity);
    const alert: Alert = {
      id: randomUUID(),
      rule: { ...d.source },
      severity: d.severity,
      confidence: value,
      confidence_explanation: explanation,
      entity: d.entity ?? null,
      group: d.group ?? null,
      status: 'open',
      verdict: null,
      assignee: null,
      first_seen: d.timestamp,
      last_seen: d.timestamp,
      count: 1,
      related: { ip: (d.related?.ip ?? []).slice(0, MAX_RELATED), user: (d.related?.user ?? []).slice(0, MAX_RELATED) },
      evidence: d.evidence.slice(0, this.evidenceCap),
      reason: d.reason,
      score: d.score ?? null,
      tags: d.tags ?? [],
      details: d.details ?? null,
      notes: [],
      history: [{ at: now, by: 'vigil', action: 'created', to: 'open' }],
      created: now,
      updated: now,
    };
    this.alerts.set(alert.id, alert);
    return alert;
  }

  private fold(alert: Alert, d: Detection, now: string): void {
    alert.count++;
    if (d.timestamp > alert.last_seen) alert.last_seen = d.timestamp;
    if (d.timestamp < alert.first_seen) alert.first_seen = d.timestamp;
    if (SEVERITY_RANK[d.severity] > SEVERITY_RANK[alert.severity]) alert.severity = d.severity;
    if (d.score !== undefined && (alert.score === null || d.score > alert.score)) alert.score = d.score;
    alert.reason = d.reason;
    if (d.details) alert.details = d.details;
    alert.related ??= { ip: [], user: [] }; // alerts written before `related` existed
    for (const kind of ['ip', 'user'] as const) {
      for (const value of d.related?.[kind] ?? []) if (alert.related[kind].length < MAX_RELATED && !alert.related[kind].includes(value)) alert.related[kind].push(value);
    }
    // Keep the first evidence (how it started) and the newest (what it is doing now).
    const merged = [...alert.evidence, ...d.evidence.filter((id) => !alert.evidence.includes(id))];
    const head = Math.floor(this.evidenceCap / 5);
    alert.evidence = merged.length <= this.evidenceCap ? merged : [...merged.slice(0, head), ...merged.slice(merged.length - (this.evidenceCap - head))];
    alert.updated = now;
  }

  /** Drops the oldest resolved alerts (then the oldest of any status) beyond the cap. */
  /** Alerts held now. */
  get size(): number {
    return this.alerts.size;
  }

  /**
   * Beyond the cap, the oldest alerts (resolved first) go. A twentieth more than needed goes at once, so that a flood
   * of new alerts sorts the whole set once per many batches rather than on every one.
   */
  private evict(): void {
    if (this.alerts.size <= this.maxAlerts) return;
    const target = Math.max(0, this.maxAlerts - Math.floor(this.maxAlerts / 20));
    const byAge = [...this.alerts.values()].sort((a, b) => Number(b.status === 'resolved') - Number(a.status === 'resolved') || a.last_seen.localeCompare(b.last_seen));
    for (const alert of byAge.slice(0, this.alerts.size - target)) {
      this.dirty.delete(alert.id);
      this.alerts.delete(alert.id);
      if (this.byKey.get(keyOf(alert)) === alert.id) this.byKey.delete(keyOf(alert));
    }
  }

  get(id: string): Alert {
    const alert = this.alerts.get(id);
    if (!alert) throw new VigilError('not_found', `no alert ${JSON.stringify(id.slice(0, 100))}`);
    return alert;
  }

  list(filter: AlertFilter = {}): { total: number; alerts: Alert[] } {
    const entity = filter.entity;
    const matches = [...this.alerts.values()].filter(
      (a) =>
        (!filter.status || filter.status.includes(a.status)) &&
        (!filter.severity || filter.severity.includes(a.severity)) &&
        (!filter.rule || a.rule.id === filter.rule || a.rule.title === filter.rule) &&
        (!entity || a.entity?.value === entity || Object.values(a.group ?? {}).includes(entity)) &&
        (filter.min_confidence === undefined || a.confidence >= filter.min_confidence) &&
        (filter.from === undefined || Date.parse(a.last_seen) >= filter.from) &&
        (filter.to === undefined || Date.parse(a.first_seen) < filter.to),
    );
    matches.sort((a, b) => b.last_seen.localeCompare(a.last_seen) || b.id.localeCompare(a.id));
    const offset = Math.max(0, filter.offset ?? 0);
    const limit = Math.min(1000, Math.max(0, filter.limit ?? 100));
    return { total: matches.length, alerts: matches.slice(offset, offset + limit) };
  }

  /** An analyst's change, audited and durable before it returns. */
  update(id: string, patch: AlertPatch, by: string): Alert {
    const alert = this.get(id);
    const now = new Date(this.clock.now()).toISOString();
    const entries: AuditEntry[] = [];
    const records: JournalRecord[] = [];
    if (patch.status !== undefined && patch.status !== alert.status) {
      if (!ALERT_STATUSES.includes(patch.status)) throw new VigilError('bad_request', `status must be one of ${ALERT_STATUSES.join(', ')}`);
      entries.push({ at: now, by, action: 'status', from: alert.status, to: patch.status });
      alert.status = patch.status;
      if (patch.status === 'resolved' && this.byKey.get(keyOf(alert)) === alert.id) this.byKey.delete(keyOf(alert));
    }
    if (patch.verdict !== undefined && patch.verdict !== alert.verdict) {
      if (patch.verdict !== null && !VERDICTS.includes(patch.verdict)) throw new VigilError('bad_request', `verdict must be one of ${VERDICTS.join(', ')} or null`);
      entries.push({ at: now, by, action: 'verdict', from: alert.verdict, to: patch.verdict });
      this.confidence.applyVerdict(alert.rule.id, alert.severity, alert.verdict, patch.verdict);
      alert.verdict = patch.verdict;
      records.push({ type: 'confidence', id: alert.rule.id, record: this.confidence.source(alert.rule.id, alert.severity) });
      this.refreshConfidence(alert.rule.id);
    }
    if (patch.assignee !== undefined && patch.assignee !== alert.assignee) {
      entries.push({ at: now, by, action: 'assignee', from: alert.assignee, to: patch.assignee });
      alert.assignee = patch.assignee;
    }
    if (patch.note !== undefined) {
      const text = patch.note.slice(0, MAX_NOTE_CHARS);
      if (text.trim() === '') throw new VigilError('bad_request', 'a note cannot be empty');
      alert.notes.push({ at: now, by, text });
      entries.push({ at: now, by, action: 'note', note: text });
    }
    if (entries.length === 0) return alert;
    alert.history.push(...entries);
    alert.updated = now;
    this.dirty.delete(alert.id);
    // Every open alert of the rule whose confidence moved is written too, so a restart shows the same numbers.
    const moved = records.length === 0 ? [] : [...this.alerts.values()].filter((a) => a.rule.id === alert.rule.id && a.id !== alert.id && a.verdict === null);
    for (const a of moved) this.dirty.delete(a.id);
    this.journal.append([...records, { type: 'alert', alert }, ...moved.map((a) => ({ type: 'alert' as const, alert: a }))]);
    this.emit(alert, 'updated');
    return alert;
  }

  /** New evidence of a rule's precision changes the confidence of its alerts not yet judged. */
  private refreshConfidence(ruleId: string): void {
    for (const alert of this.alerts.values()) {
      if (alert.rule.id !== ruleId || alert.verdict !== null) continue;
      const { value, explanation } = this.confidence.confidence(ruleId, alert.severity);
      alert.confidence = value;
      alert.confidence_explanation = explanation;
    }
  }

  /** The confidence the next alert of a rule would get. */
  ruleConfidence(ruleId: string, severity: Severity): { value: number; explanation: string } {
    return this.confidence.confidence(ruleId, severity);
  }

  addSuppression(input: SuppressionInput, by: string): Suppression {
    const suppression: Suppression = { ...validateSuppression(input), id: randomUUID(), created_by: by, created: new Date(this.clock.now()).toISOString() };
    this.suppressions.set(suppression.id, suppression);
    this.journal.append([{ type: 'suppression', suppression }]);
    return suppression;
  }

  removeSuppression(id: string): void {
    if (!this.suppressions.delete(id)) throw new VigilError('not_found', `no suppression ${JSON.stringify(id.slice(0, 100))}`);
    this.journal.append([{ type: 'unsuppress', id }]);
  }

  listSuppressions(): Suppression[] {
    return [...this.suppressions.values()];
  }

  private isSuppressed(d: Detection): boolean {
    if (this.suppressions.size === 0) return false;
    for (const s of this.suppressions.values()) if (matchesSuppression(s, d)) return true;
    return false;
  }

  /** Writes the alerts changed by detections since the last flush. */
  flush(): void {
    if (this.dirty.size === 0) return;
    const records: JournalRecord[] = [];
    for (const id of this.dirty) {
      const alert = this.alerts.get(id);
      if (alert) records.push({ type: 'alert', alert });
    }
    this.dirty.clear();
    try {
      this.journal.append(records);
      this.journal.compact(this.alerts.size + this.suppressions.size, () => this.current());
    } catch (err) {
      console.error(`vigil: could not write alerts to ${this.journal.toString()}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
    this.journal.close();
  }
}
