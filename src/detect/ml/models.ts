// The models handle: every configured anomaly detector, run as one Detector for the detection stage, plus what the
// API, the CLI and the wiring need — list, retrain, roll back, exclude rule-alerted evidence, the retraining
// schedule, and health.
import { join } from 'node:path';
import type { MlConfig } from '../../config/ml.js';
import type { Clock } from '../../core/clock.js';
import type { Detection, Detector } from '../../core/detection.js';
import type { EcsEvent } from '../../core/event.js';
import { VigilError, errorMessage } from '../../core/errors.js';
import type { DetectionState } from '../../core/telemetry.js';
import { ModelDetector } from './detector.js';
import { ExclusionIndex } from './features/types.js';
import type { ModelMeta } from './models/model.js';
import { ModelRegistry } from './models/registry.js';
import { resolveDetector } from './presets.js';

/** How often the retraining schedule is checked. */
const TICK_MS = 15_000;

export interface ModelsOptions {
  ml: MlConfig;
  /** Models live in <dataDir>/models. */
  dataDir: string;
  clock: Clock;
  log?: (message: string) => void;
}

export class Models implements Detector {
  readonly name = 'models';
  private readonly detectors = new Map<string, ModelDetector>();
  /** Rule-alerted events, one index for every detector (an event feeds several). */
  private readonly exclusions = new ExclusionIndex();
  private timer: NodeJS.Timeout | undefined;

  /** Compiles the configured detectors (bad configuration throws here, at load) and loads their active models. */
  constructor(options: ModelsOptions) {
    if (!options.ml.enabled) return;
    const root = join(options.dataDir, 'models');
    for (const config of options.ml.detectors) {
      if (!config.enabled) continue;
      const spec = resolveDetector(config, options.ml);
      const registry = new ModelRegistry(root, spec.id, spec.maxVersions);
      this.detectors.set(spec.id, new ModelDetector({ spec, registry, clock: options.clock, exclusions: this.exclusions, ...(options.log ? { log: options.log } : {}) }));
    }
  }

  get ids(): string[] {
    return [...this.detectors.keys()];
  }

  /** Scores a batch with every detector; one failing detector costs only its own detections. */
  process(events: readonly EcsEvent[]): Detection[] {
    const out: Detection[] = [];
    for (const detector of this.detectors.values()) {
      try {
        out.push(...detector.process(events));
      } catch (err) {
        console.error(`vigil: model ${detector.name} failed on a batch: ${errorMessage(err)}`);
      }
    }
    return out;
  }

  /** Events rules alerted on: samples holding them are not trained on (those not yet trained on, and in future trainings). */
  excludeEvidence(eventIds: Iterable<string>): void {
    this.exclusions.exclude(eventIds);
  }

  detector(id: string): ModelDetector {
    const detector = this.detectors.get(id);
    if (!detector) throw new VigilError('not_found', `no model "${id}"; models: ${this.ids.join(', ') || 'none (ml disabled)'}`);
    return detector;
  }

  list(): Record<string, unknown>[] {
    return [...this.detectors.values()].map((d) => d.info());
  }

  get(id: string): Record<string, unknown> {
    return this.detector(id).info({ recent: true });
  }

  retrain(id: string): Promise<ModelMeta> {
    return this.detector(id).retrain('manual');
  }

  rollback(id: string, version?: number): ModelMeta {
    return this.detector(id).rollback(version);
  }

  /** Checks every detector's retraining schedule against the clock. */
  tick(): void {
    for (const detector of this.detectors.values()) detector.tick();
  }

  /** Starts checking the schedules. */
  start(): void {
    if (this.timer || this.detectors.size === 0) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Waits for running trainings (their models are saved) and stops the schedule. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
  }

  async idle(): Promise<void> {
    for (const detector of this.detectors.values()) await detector.idle();
  }

  /** Entity windows of each entity detector, for `vigil_detection_state_*`. */
  state(): DetectionState[] {
    const out: DetectionState[] = [];
    for (const d of this.detectors.values()) {
      if (d.spec.kind !== 'entity') continue;
      const stats = d.stats();
      out.push({ detector: `model:${d.name}`, entries: stats.entities ?? 0, limit: d.spec.maxEntities, evictions: stats.evicted ?? 0 });
    }
    return out;
  }

  /** The health section: each detector's state, active version, samples and last error (no disk access). */
  health(): { ok: boolean; [key: string]: unknown } {
    const detectors: Record<string, unknown> = {};
    for (const d of this.detectors.values()) detectors[d.name] = d.status();
    return { ok: true, detectors };
  }
}
