// Every stage reports the same counters (received, parsed, failed, stored, dropped, queue depth), exported as Prometheus text.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** State a stateful detector keeps (correlation groups, entity windows): how much, its cap, and evictions so far. */
export interface DetectionState {
  detector: string;
  entries: number;
  limit: number;
  evictions: number;
}

export class Telemetry {
  readonly registry = new Registry();
  /** Lines or documents an input handed to the pipeline. */
  readonly received: Counter<'input'>;
  /** Events a parser understood, by dataset. */
  readonly parsed: Counter<'dataset'>;
  /** Lines no parser understood (stored with the parse-error tag), by bounded reason. */
  readonly failed: Counter<'input' | 'reason'>;
  /** Items refused at the door (not an object, back-pressure …): the sender was told. */
  readonly rejected: Counter<'input' | 'reason'>;
  /** Data lost or cut before or inside the pipeline, by reason (`intentional` when it was by policy). */
  readonly dropped: Counter<'input' | 'reason' | 'intentional'>;
  readonly stored: Counter<string>;
  readonly storeErrors: Counter<string>;
  readonly queueDepth: Gauge<'stage'>;
  readonly appendSeconds: Histogram<string>;
  /** Detections by detector, and the time from an event's arrival to its detection. */
  readonly detections: Counter<'detector'>;
  readonly detectorErrors: Counter<'detector'>;
  readonly detectionLatency: Histogram<string>;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.received = new Counter({ name: 'vigil_events_received_total', help: 'Lines or documents received, by input.', labelNames: ['input'], registers });
    this.parsed = new Counter({ name: 'vigil_events_parsed_total', help: 'Events parsed, by dataset.', labelNames: ['dataset'], registers });
    this.failed = new Counter({ name: 'vigil_events_failed_total', help: 'Lines no parser understood (kept with a parse-error tag), by input and reason.', labelNames: ['input', 'reason'], registers });
    this.rejected = new Counter({ name: 'vigil_events_rejected_total', help: 'Items refused and reported to the sender, by input and reason.', labelNames: ['input', 'reason'], registers });
    this.dropped = new Counter({ name: 'vigil_events_dropped_total', help: 'Data lost or cut, by input and reason.', labelNames: ['input', 'reason', 'intentional'], registers });
    this.stored = new Counter({ name: 'vigil_events_stored_total', help: 'Events durably stored.', registers });
    this.storeErrors = new Counter({ name: 'vigil_store_errors_total', help: 'Failed store writes (the batch was not acknowledged).', registers });
    this.queueDepth = new Gauge({ name: 'vigil_queue_depth', help: 'Events waiting in a stage.', labelNames: ['stage'], registers });
    this.appendSeconds = new Histogram({
      name: 'vigil_store_append_seconds',
      help: 'Time to durably write one batch.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.detections = new Counter({ name: 'vigil_detections_total', help: 'Detections, by detector.', labelNames: ['detector'], registers });
    this.detectorErrors = new Counter({ name: 'vigil_detector_errors_total', help: 'Batches a detector failed on (the events are stored all the same).', labelNames: ['detector'], registers });
    this.detectionLatency = new Histogram({
      name: 'vigil_detection_latency_seconds',
      help: "Time from the arrival (event.ingested) of the event that completed a detection to the detection, per detection.",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'vigil_' });
  }

  /**
   * Exposes detection state as `vigil_detection_state_entries{detector}`, `vigil_detection_state_limit{detector}`
   * and `vigil_detection_state_evictions_total{detector}`, read from `read` at each scrape: a flood of new
   * addresses shows as evictions rising while the entries stay at their limit.
   */
  watchDetectionState(read: () => readonly DetectionState[]): void {
    const registers = [this.registry];
    const last = new Map<string, number>();
    new Gauge({
      name: 'vigil_detection_state_entries',
      help: 'Groups or entities a stateful detector keeps now.',
      labelNames: ['detector'],
      registers,
      collect() {
        for (const s of read()) this.set({ detector: s.detector }, s.entries);
      },
    });
    new Gauge({
      name: 'vigil_detection_state_limit',
      help: 'The most groups or entities a stateful detector keeps (its cap).',
      labelNames: ['detector'],
      registers,
      collect() {
        for (const s of read()) this.set({ detector: s.detector }, s.limit);
      },
    });
    new Counter({
      name: 'vigil_detection_state_evictions_total',
      help: 'Groups or entities evicted because a stateful detector was at its cap (least recently seen first).',
      labelNames: ['detector'],
      registers,
      collect() {
        for (const s of read()) {
          // The detectors count since start; a rule reloaded away takes its count with it, so only growth is added.
          const delta = s.evictions - (last.get(s.detector) ?? 0);
          if (delta > 0) this.inc({ detector: s.detector }, delta);
          last.set(s.detector, Math.max(s.evictions, last.get(s.detector) ?? 0));
        }
      },
    });
  }

  /** Prometheus text exposition format. */
  async metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Totals per counter and label set, for the health endpoint. */
  async snapshot(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const metric of await this.registry.getMetricsAsJSON()) {
      const type = String(metric.type);
      if (type !== 'counter' && type !== 'gauge') continue;
      if (!metric.name.startsWith('vigil_events_') && !metric.name.startsWith('vigil_queue') && !metric.name.startsWith('vigil_store_') && !metric.name.startsWith('vigil_detect') && !metric.name.startsWith('vigil_bus_')) continue;
      const values: Record<string, number> = {};
      for (const v of metric.values) {
        const labels = Object.entries(v.labels ?? {})
          .map(([k, val]) => `${k}=${String(val)}`)
          .join(',');
        values[labels || 'total'] = v.value;
      }
      out[metric.name.replace(/^vigil_/, '')] = values;
    }
    return out;
  }
}
