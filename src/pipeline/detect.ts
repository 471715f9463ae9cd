// The detection stage: runs every detector on each submission as it is accepted — the last stage before the store, so
// that an alert does not wait for the write (nor for a checkpoint that holds writes up for a second) — records each
// detection as an event (searchable, `event.kind: alert`) and hands the alerting ones to the alert manager.
// Detections of detections are not sought. As with analyze workers on the bus, what detection saw is not tied to
// the write: a batch the store then refuses was seen once, and is seen again when its sender retries it.
import type { Alert } from '../core/alert.js';
import type { Clock } from '../core/clock.js';
import type { Detection, Detector } from '../core/detection.js';
import { SEVERITIES } from '../core/detection.js';
import { errorMessage } from '../core/errors.js';
import type { EcsEvent } from '../core/event.js';
import type { Ingest } from '../core/ingest.js';
import type { Telemetry } from '../core/telemetry.js';
import type { AlertManager } from '../alerts/manager.js';
import type { EventStage } from './pipeline.js';

export interface DetectStageOptions {
  detectors: Detector[];
  alerts: AlertManager;
  /** Where detection events go: the pipeline itself. */
  ingest: Ingest;
  telemetry: Telemetry;
  clock: Clock;
}

/** Datasets of the events this stage writes. */
export const DETECTION_DATASETS = { rule: 'vigil.alert', model: 'vigil.anomaly' } as const;
const OWN_DETECTIONS: ReadonlySet<unknown> = new Set(Object.values(DETECTION_DATASETS));

/** ECS form of a detection: `rule.*` names the rule, `event.severity` is 0-4 by level, evidence in `vigil.evidence`. */
export function detectionEvent(d: Detection): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    '@timestamp': d.timestamp,
    event: {
      kind: 'alert',
      dataset: d.source.kind === 'model' ? DETECTION_DATASETS.model : DETECTION_DATASETS.rule,
      severity: SEVERITIES.indexOf(d.severity),
      reason: d.reason,
      ...(d.score !== undefined ? { risk_score: Math.round(d.score * 100) } : {}),
    },
    rule: { id: d.source.id, name: d.source.title, ruleset: d.source.kind, ...(d.source.author ? { author: [d.source.author] } : {}) },
    message: `${d.source.title}: ${d.reason}`,
    vigil: {
      severity: d.severity,
      alert: d.alert !== false,
      evidence: d.evidence,
      ...(d.entity ? { entity: d.entity } : {}),
      ...(d.group ? { group: d.group } : {}),
      ...(d.score !== undefined ? { score: d.score } : {}),
      ...(d.details ? { details: d.details } : {}),
    },
  };
  if (d.tags && d.tags.length > 0) doc.tags = d.tags;
  if (d.related && (d.related.ip.length > 0 || d.related.user.length > 0)) doc.related = d.related;
  // The entity in its own ECS field, so `source.ip:…` finds the detections about an address too.
  if (d.entity && /^(source|destination|client|host|user)\.[a-z_]+$/.test(d.entity.field)) {
    const [parent, child] = d.entity.field.split('.') as [string, string];
    doc[parent] = { [child]: d.entity.value };
  }
  return doc;
}

/** Each detection's trigger: its newest evidence event found in the batch (the one that completed it). */
export function triggers(detections: readonly Detection[], events: readonly EcsEvent[]): (EcsEvent | undefined)[] {
  let byId: Map<string, EcsEvent> | undefined;
  return detections.map((d) => {
    byId ??= new Map(events.map((e) => [e.event.id, e]));
    let trigger: EcsEvent | undefined;
    for (let i = d.evidence.length - 1; i >= 0 && !trigger; i--) trigger = byId.get(d.evidence[i]!);
    return trigger;
  });
}

/** Fills `related` from each detection's trigger event (see triggers). */
export function relate(detections: Detection[], trigger: readonly (EcsEvent | undefined)[]): void {
  detections.forEach((d, k) => {
    const event = trigger[k];
    if (d.related || !event) return;
    // The source only: a destination is mostly this host, and would tie every attack on it into one incident.
    const ip = typeof event.source?.ip === 'string' && event.source.ip !== '' ? [event.source.ip] : [];
    const user = typeof event.user?.name === 'string' && event.user.name !== '' ? [event.user.name] : [];
    d.related = { ip, user };
  });
}

/** Runs every detector on a batch (events, not detections); a failing detector costs only its own findings. */
export function runDetectors(detectors: readonly Detector[], input: readonly EcsEvent[], telemetry: Telemetry): Detection[] {
  const found: Detection[] = [];
  for (const detector of detectors) {
    try {
      const detections = detector.process(input);
      if (detections.length > 0) telemetry.detections.inc({ detector: detector.name }, detections.length);
      found.push(...detections);
    } catch (err) {
      telemetry.detectorErrors.inc({ detector: detector.name });
      console.error(`vigil: detector ${detector.name} failed on a batch: ${errorMessage(err)}`);
    }
  }
  return found;
}

/** Sender-given event ids remembered, so that a retried batch (an agent's, a shipper's `_bulk`) is not counted twice. */
const SENDER_IDS_KEPT = 100_000;

export class DetectStage implements EventStage {
  readonly name = 'detect';
  private detectors: Detector[];
  /** Ids senders gave to events already detected on, oldest first. */
  private readonly senderIds = new Set<string>();
  private readonly alerts: AlertManager;
  private readonly ingest: Ingest;
  private readonly telemetry: Telemetry;
  private readonly clock: Clock;

  constructor(options: DetectStageOptions) {
    this.detectors = options.detectors;
    this.alerts = options.alerts;
    this.ingest = options.ingest;
    this.telemetry = options.telemetry;
    this.clock = options.clock;
  }

  setDetectors(detectors: Detector[]): void {
    this.detectors = detectors;
  }

  /** Runs on each accepted submission (a pipeline stage); answers the alerts it created or updated. */
  process(events: readonly EcsEvent[], unique?: readonly number[]): Alert[] {
    const repeated = unique && unique.length > 0 ? this.repeats(events, unique) : undefined;
    // By dataset, not by `event.kind`: a sender could mark its events `kind: alert` to slip past detection, but it
    // cannot use Vigil's own datasets (pipeline/normalize.ts renames them).
    const input = events.filter((e, i) => !OWN_DETECTIONS.has(e.event?.dataset) && !repeated?.has(i));
    if (input.length === 0 || this.detectors.length === 0) return [];
    const found = runDetectors(this.detectors, input, this.telemetry);
    if (found.length === 0) return [];
    const trigger = triggers(found, input);
    relate(found, trigger);
    this.observeLatency(trigger);
    this.record(found);
    return this.alerts.handle(found);
  }

  /** Positions of sender-identified events already detected on (remembering the new ones). */
  private repeats(events: readonly EcsEvent[], unique: readonly number[]): Set<number> {
    const repeated = new Set<number>();
    for (const i of unique) {
      const id = events[i]?.event.id;
      if (typeof id !== 'string') continue;
      if (this.senderIds.has(id)) repeated.add(i);
      else {
        this.senderIds.add(id);
        if (this.senderIds.size > SENDER_IDS_KEPT) this.senderIds.delete(this.senderIds.values().next().value!);
      }
    }
    return repeated;
  }

  /**
   * Arrival-to-detection time of each detection: from its trigger event's `event.ingested` (set when an input
   * handed the event to the pipeline) to now, once the detectors have run and the alert is raised. Detections
   * without a trigger in the batch (chained correlations) are not timed.
   */
  private observeLatency(trigger: readonly (EcsEvent | undefined)[]): void {
    const now = this.clock.now();
    for (const event of trigger) {
      const ingested = Date.parse(event?.event.ingested ?? '');
      if (Number.isFinite(ingested)) this.telemetry.detectionLatency.observe(Math.max(0, now - ingested) / 1000);
    }
  }

  private record(detections: readonly Detection[]): void {
    this.ingest.ingestDocuments(detections.map(detectionEvent), { input: 'detect', trusted: true }).catch((err: unknown) => {
      this.ingest.countDropped('detect', 'detection_not_stored', detections.length);
      console.error(`vigil: could not store ${detections.length} detection events: ${errorMessage(err)}`);
    });
  }
}
