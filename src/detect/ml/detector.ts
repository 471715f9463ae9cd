// One anomaly detector: features from the stream, a buffer of training samples, the active Isolation Forest model,
// scoring with explanations, and retraining (first as soon as there are enough samples, then as the buffer grows,
// on a cron schedule, on demand, and when live scores drift from training). Training runs in slices and the new
// model replaces the old one between two batches, so the pipeline never waits for it.
import { Cron } from 'croner';
import type { Clock } from '../../core/clock.js';
import type { Detection, Detector, Severity } from '../../core/detection.js';
import type { EcsEvent } from '../../core/event.js';
import { VigilError, errorMessage } from '../../core/errors.js';
import { EntityWindows } from './features/entity-windows.js';
import { EventFeatures } from './features/event-features.js';
import { compileSelection } from './features/read.js';
import { ExclusionIndex, isExcluded, type Extractor, type ExtractorStats, type Sample } from './features/types.js';
import { binOf, levelOf, psi, type Level } from './models/calibration.js';
import { trainModel, type ModelMeta, type TrainedModel, type TrainReason } from './models/model.js';
import { percentileOf, prepare } from './models/profile.js';
import type { ModelRegistry } from './models/registry.js';
import type { DetectorSpec } from './presets.js';

/**
 * Drift retrains a model at most this often. Until the training window has filled with the new traffic, a model
 * trained again sees the same drift: at 10,000 events/s it retrained every second, a new version each time (bench/stream.ts).
 */
const DRIFT_COOLDOWN_MS = 10 * 60_000;

/** Anomalies kept for the models API. */
const RECENT = 50;
/** Features named in an explanation. */
const TOP_FEATURES = 3;
/** While the model was trained on fewer samples than the buffer may hold, retrain when the usable samples grow this much. */
const GROWTH = 4;

const LEVEL_SEVERITY: Record<Level, Severity> = { anomaly: 'informational', low: 'low', medium: 'medium', high: 'high', critical: 'critical' };
/** Bins of the live score histogram (info().live_scores). */
const LIVE_BINS = 20;
const SEVERITY_RANK: Record<Severity, number> = { informational: 0, low: 1, medium: 2, high: 3, critical: 4 };

export interface FeatureExplanation {
  feature: string;
  /** The raw value (null when missing and the training median stood in). */
  value: number | null;
  median: number;
  p01: number | null;
  p99: number | null;
  /** Where the value falls among training values, 0-100. */
  percentile: number | null;
  /** Share of the isolating splits made on this feature (sums to 1 over all features). */
  share: number;
}

export interface ModelDetectorOptions {
  spec: DetectorSpec;
  registry: ModelRegistry;
  clock: Clock;
  /** Where background problems (failed scheduled training, fallbacks) are reported. */
  log?: (message: string) => void;
  /** The index of rule-alerted events, shared by a process's detectors; default: the detector's own. */
  exclusions?: ExclusionIndex;
}

export interface DetectorCounters {
  samples: number;
  scored: number;
  anomalies: number;
  alerts: number;
  /** Values that were missing or infinite and replaced by the training median while scoring. */
  imputed: number;
  trainings: number;
  training_failures: number;
  /** Samples marked as excluded from training because a rule alerted on their events. */
  excluded: number;
}

/** A bounded ring of samples, oldest first. */
class SampleBuffer {
  private readonly items: (Sample | undefined)[];
  private start = 0;
  count = 0;
  constructor(readonly capacity: number) {
    this.items = new Array<Sample | undefined>(capacity);
  }
  push(s: Sample): void {
    if (this.count < this.capacity) this.items[(this.start + this.count++) % this.capacity] = s;
    else {
      this.items[this.start] = s;
      this.start = (this.start + 1) % this.capacity;
    }
  }
  *[Symbol.iterator](): Generator<Sample> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.start + i) % this.capacity]!;
  }
  newest(): Sample | undefined {
    return this.count === 0 ? undefined : this.items[(this.start + this.count - 1) % this.capacity];
  }
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function fmt(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2);
}

function describePercentile(p: number | null): string {
  if (p === null) return 'never seen in training';
  if (p >= 100) return 'above every training value';
  if (p <= 0) return 'below every training value';
  return `percentile ${p.toFixed(p >= 99 || p <= 1 ? 1 : 0)}`;
}

export class ModelDetector implements Detector {
  readonly name: string;
  readonly spec: DetectorSpec;
  private readonly registry: ModelRegistry;
  private readonly clock: Clock;
  /** When drift last started a retraining (clock ms). */
  private lastDriftRetrain = -Infinity;
  private readonly log: (message: string) => void;
  private readonly exclusions: ExclusionIndex;
  private readonly extractor: Extractor;
  private readonly buffer: SampleBuffer;
  private readonly scratch: Float64Array;
  private readonly cron: Cron | undefined;
  private model: TrainedModel | undefined;
  private training: Promise<ModelMeta> | undefined;
  /** Samples added since start, and the count at which training should next be tried. */
  private added = 0;
  private tryTrainAt: number;
  private liveCounts: number[] = [];
  private liveTotal = 0;
  /** Every live score since the active model came in, in LIVE_BINS equal bins over [0, 1], for the dashboard. */
  private liveScores: number[] = new Array<number>(LIVE_BINS).fill(0);
  /** Share of the running training done (0..1), while one runs. */
  private progress: number | undefined;
  private lastPsi: number | null = null;
  private nextRetrain: number | undefined;
  private lastError: string | undefined;
  private readonly recent: Detection[] = [];
  private readonly counters: DetectorCounters = { samples: 0, scored: 0, anomalies: 0, alerts: 0, imputed: 0, trainings: 0, training_failures: 0, excluded: 0 };

  constructor(options: ModelDetectorOptions) {
    const { spec } = options;
    this.spec = spec;
    this.name = spec.id;
    this.registry = options.registry;
    this.clock = options.clock;
    this.log = options.log ?? ((message) => console.error(`vigil: model ${spec.id}: ${message}`));
    this.exclusions = options.exclusions ?? new ExclusionIndex();
    const select = compileSelection(spec.datasets, spec.where);
    this.extractor =
      spec.kind === 'event'
        ? new EventFeatures(spec.features, select, spec.entity, this.exclusions, spec.id, this.counters)
        : new EntityWindows({
            features: spec.features,
            select,
            entityField: spec.entity!,
            windowMs: spec.windowMs,
            stepMs: spec.stepMs,
            latenessMs: spec.latenessMs,
            maxEntities: spec.maxEntities,
            exclusions: this.exclusions,
            tally: this.counters,
            detector: spec.id,
          });
    this.buffer = new SampleBuffer(spec.maxTrainingSamples);
    this.scratch = new Float64Array(spec.features.length);
    this.tryTrainAt = spec.minSamples;
    this.cron = spec.retrainCron.trim() === '' ? undefined : new Cron(spec.retrainCron, { paused: true, ...(spec.retrainTimezone ? { timezone: spec.retrainTimezone } : {}) });
    const { model, problems } = this.registry.loadActive();
    for (const problem of problems) this.log(problem);
    if (model) {
      if (model.meta.features.map((f) => f.name).join(',') !== spec.features.map((f) => f.name).join(',')) {
        this.log(`the saved model (version ${model.meta.version}) has other features than the configuration; it is set aside until the detector retrains`);
      } else this.swap(model);
    }
  }

  /** The active model's description, if it has one. */
  get active(): ModelMeta | undefined {
    return this.model?.meta;
  }

  process(events: readonly EcsEvent[]): Detection[] {
    const out: Detection[] = [];
    let samples: Sample[];
    try {
      samples = this.extractor.push(events);
    } catch (err) {
      // Extraction is written not to throw; if it ever does, the batch is lost to this detector only.
      this.lastError = `feature extraction failed: ${errorMessage(err)}`;
      return out;
    }
    for (const sample of samples) {
      this.buffer.push(sample);
      this.added++;
      this.counters.samples++;
      if (this.model) {
        const detection = this.score(sample, this.model);
        if (detection) out.push(detection);
      }
    }
    this.maybeTrain();
    return out;
  }

  /** Samples holding these events (rule-alerted ones) are left out of training. */
  excludeEvidence(eventIds: Iterable<string>): void {
    this.exclusions.exclude(eventIds); // each newly marked sample counts in its detector's `excluded`
  }

  private score(sample: Sample, model: TrainedModel): Detection | undefined {
    const { meta, forest } = model;
    if (prepare(sample.values, meta.features, this.scratch)) {
      for (const v of sample.values) if (!Number.isFinite(v)) this.counters.imputed++;
    }
    const score = forest.scoreRowRangeAware(this.scratch);
    this.counters.scored++;
    this.observeDrift(score, meta);
    const level = levelOf(score, meta.thresholds);
    if (level === undefined) return undefined;
    const severity = LEVEL_SEVERITY[level];
    const alert = severity !== 'informational' && SEVERITY_RANK[severity] >= SEVERITY_RANK[this.spec.alertSeverity];
    this.counters.anomalies++;
    if (alert) this.counters.alerts++;
    const shares = forest.contributions(this.scratch);
    const order = Array.from(shares.keys()).sort((a, b) => shares[b]! - shares[a]!);
    const top: FeatureExplanation[] = order.slice(0, TOP_FEATURES).filter((f) => shares[f]! > 0).map((f) => {
      const profile = meta.features[f]!;
      const raw = sample.values[f]!;
      const present = Number.isFinite(raw);
      const pct = present ? percentileOf(raw, profile) : undefined;
      return {
        feature: profile.name,
        value: present ? raw : null,
        median: profile.median,
        p01: profile.percentiles[1] ?? null,
        p99: profile.percentiles[99] ?? null,
        percentile: pct === undefined ? null : round(pct, 2),
        share: round(shares[f]!, 3),
      };
    });
    const who = sample.entity !== undefined && this.spec.entity ? `${this.spec.entity} ${sample.entity}` : 'event';
    const parts = top.map((t) => `${t.feature} ${t.value === null ? 'missing' : fmt(t.value)} (training median ${fmt(t.median)}, ${t.value === null ? 'imputed' : describePercentile(t.percentile)})`);
    const detection: Detection = {
      source: { kind: 'model', id: this.spec.id, title: this.spec.title },
      severity,
      timestamp: new Date(sample.time).toISOString(),
      evidence: sample.evidence,
      reason: `${who}: unusual ${parts.join('; ')}`,
      score: round(score, 6),
      alert,
      details: {
        model_version: meta.version,
        level,
        thresholds: meta.thresholds,
        features: top,
        values: Object.fromEntries(meta.features.map((p, i) => [p.name, Number.isFinite(sample.values[i]!) ? sample.values[i]! : null])),
        ...(sample.windowStart !== undefined ? { window: { start: new Date(sample.windowStart).toISOString(), end: new Date(sample.windowEnd!).toISOString() } } : {}),
      },
    };
    if (sample.entity !== undefined && this.spec.entity) detection.entity = { field: this.spec.entity, value: sample.entity };
    this.recent.push(detection);
    if (this.recent.length > RECENT) this.recent.shift();
    return detection;
  }

  private observeDrift(score: number, meta: ModelMeta): void {
    this.liveScores[Math.min(LIVE_BINS - 1, Math.max(0, Math.floor(score * LIVE_BINS)))]!++;
    const bin = binOf(score, meta.histogram.edges);
    this.liveCounts[bin] = (this.liveCounts[bin] ?? 0) + 1;
    this.liveTotal++;
    if (this.liveTotal < this.spec.driftSamples) return;
    const counts = meta.histogram.expected.map((_, i) => this.liveCounts[i] ?? 0);
    this.lastPsi = psi(meta.histogram.expected, counts);
    this.liveCounts = [];
    this.liveTotal = 0;
    const now = this.clock.now();
    if (this.lastPsi > this.spec.psiThreshold && this.training === undefined && now - this.lastDriftRetrain >= DRIFT_COOLDOWN_MS) {
      this.lastDriftRetrain = now;
      this.background('drift', `live scores drifted (PSI ${this.lastPsi.toFixed(3)} > ${this.spec.psiThreshold})`);
    }
  }

  /** First training once there are enough samples, then again while the buffer grows well past the last training set. */
  private maybeTrain(): void {
    if (this.training !== undefined || this.added < this.tryTrainAt) return;
    if (!this.model) this.background('initial');
    else if (this.model.meta.training.samples < this.spec.maxTrainingSamples) this.background('growth');
    else this.tryTrainAt = Infinity;
  }

  private background(reason: TrainReason, why?: string): void {
    if (why) this.log(`retraining: ${why}`);
    this.retrain(reason).catch((err: unknown) => {
      // Not enough usable samples yet (many excluded, or outside the training window): try again later.
      if (err instanceof VigilError && err.id === 'conflict') return;
      this.log(`training failed: ${errorMessage(err)}`);
    });
  }

  /** Usable samples: not excluded, within the training window of the newest one. */
  private eligible(): { samples: Sample[]; excluded: number } {
    const newest = this.buffer.newest();
    const from = newest === undefined ? 0 : newest.time - this.spec.trainingWindowMs;
    const samples: Sample[] = [];
    let excluded = 0;
    for (const s of this.buffer) {
      if (s.time < from) continue;
      if (isExcluded(s)) excluded++;
      else samples.push(s);
    }
    return { samples, excluded };
  }

  /**
   * Trains a new version on the usable samples, saves it and makes it active. One training at a time: a request
   * while one runs waits for it and then trains again (with the samples that came meanwhile).
   */
  retrain(reason: TrainReason = 'manual'): Promise<ModelMeta> {
    const previous = this.training ?? Promise.resolve(undefined);
    const run = previous
      .catch(() => undefined)
      .then(async () => {
        const { samples, excluded } = this.eligible();
        if (samples.length < this.spec.minSamples) {
          this.tryTrainAt = this.added + Math.max(1, this.spec.minSamples - samples.length);
          throw new VigilError('conflict', `model ${this.spec.id} has ${samples.length} usable samples (${excluded} excluded); it trains from ${this.spec.minSamples} (min_samples)`);
        }
        const version = this.registry.nextVersion();
        let model: TrainedModel;
        try {
          this.progress = 0;
          model = await trainModel(this.spec, { samples, excluded, version, reason, now: this.clock.now(), onProgress: (done) => (this.progress = done) });
          this.registry.save(model);
        } catch (err) {
          this.counters.training_failures++;
          this.lastError = `training version ${version} failed: ${errorMessage(err)}`;
          // Do not try again on every batch.
          this.tryTrainAt = this.added + this.spec.minSamples;
          throw err instanceof VigilError ? err : new VigilError('unavailable', this.lastError, { cause: err });
        }
        this.counters.trainings++;
        this.lastError = undefined;
        this.swap(model);
        return model.meta;
      });
    const tracked = run.finally(() => {
      if (this.training === tracked) {
        this.training = undefined;
        this.progress = undefined;
      }
    });
    this.training = tracked;
    return tracked;
  }

  /** Makes an earlier version active again: the given one, or the newest loadable one before the active one. */
  rollback(version?: number): ModelMeta {
    const active = this.model?.meta.version ?? this.registry.activeVersion();
    let target = version;
    if (target === undefined) {
      const older = this.registry.versions().filter((v) => active === undefined || v < active).reverse();
      for (const v of older) {
        try {
          this.registry.load(v);
          target = v;
          break;
        } catch {
          // unusable: look further back
        }
      }
      if (target === undefined) throw new VigilError('conflict', `model ${this.spec.id} has no earlier usable version to roll back to`);
    }
    if (!this.registry.versions().includes(target)) throw new VigilError('not_found', `model ${this.spec.id} has no version ${target}`);
    const model = this.registry.load(target);
    if (model.meta.features.map((f) => f.name).join(',') !== this.spec.features.map((f) => f.name).join(',')) {
      throw new VigilError('conflict', `version ${target} of ${this.spec.id} was trained on other features than the configuration names`);
    }
    this.registry.setActive(target);
    this.swap(model);
    return model.meta;
  }

  private swap(model: TrainedModel): void {
    this.model = model;
    this.liveCounts = [];
    this.liveTotal = 0;
    this.liveScores = new Array<number>(LIVE_BINS).fill(0);
    const trainedOn = model.meta.training.samples;
    this.tryTrainAt = trainedOn >= this.spec.maxTrainingSamples ? Infinity : this.added + (GROWTH - 1) * trainedOn;
  }

  /** Runs a scheduled retraining when its time (from the injected clock) has come. */
  tick(): void {
    if (!this.cron) return;
    const now = this.clock.now();
    if (this.nextRetrain === undefined) {
      this.nextRetrain = this.cron.nextRun(new Date(now))?.getTime() ?? Infinity;
      return;
    }
    if (now < this.nextRetrain) return;
    this.nextRetrain = this.cron.nextRun(new Date(now))?.getTime() ?? Infinity;
    if (this.training === undefined && this.buffer.count >= this.spec.minSamples) this.background('schedule');
  }

  /** Resolves once no training is running. */
  async idle(): Promise<void> {
    while (this.training) await this.training.catch(() => undefined);
  }

  stats(): ExtractorStats {
    return this.extractor.stats();
  }

  /** A light summary for health checks. */
  status(): { state: string; version: number | null; samples: number; error: string | null } {
    return { state: this.training ? 'training' : this.model ? 'ready' : 'collecting', version: this.model?.meta.version ?? null, samples: this.buffer.count, error: this.lastError ?? null };
  }

  info(options: { recent?: boolean } = {}): Record<string, unknown> {
    const meta = this.model?.meta;
    return {
      id: this.spec.id,
      title: this.spec.title,
      kind: this.spec.kind,
      entity: this.spec.entity ?? null,
      datasets: this.spec.datasets,
      features: this.spec.features.map((f) => f.name),
      ...(this.spec.kind === 'entity' ? { window_ms: this.spec.windowMs, step_ms: this.spec.stepMs } : {}),
      state: this.training ? 'training' : meta ? 'ready' : 'collecting',
      ...(this.training ? { training_progress: this.progress ?? 0 } : {}),
      samples: this.buffer.count,
      min_samples: this.spec.minSamples,
      active_version: meta?.version ?? null,
      model: meta
        ? {
            version: meta.version,
            created_at: meta.created_at,
            reason: meta.reason,
            training: meta.training,
            thresholds: meta.thresholds,
            extrapolated: meta.extrapolated,
            score_quantiles: meta.score_quantiles,
            histogram: meta.histogram,
            features: meta.features.map((f) => ({ name: f.name, log: f.log, median: f.median, p01: f.percentiles[1] ?? null, p99: f.percentiles[99] ?? null, missing: f.missing })),
          }
        : null,
      versions: this.registry.list().map((v) => (v.meta ? { version: v.version, created_at: v.meta.created_at, reason: v.meta.reason, samples: v.meta.training.samples, seconds: v.meta.training.seconds, from: v.meta.training.from, to: v.meta.training.to } : { version: v.version, error: v.error })),
      alert_severity: this.spec.alertSeverity,
      live_scores: { bins: [...this.liveScores], total: this.liveScores.reduce((a, b) => a + b, 0) },
      drift: {
        psi: this.lastPsi,
        threshold: this.spec.psiThreshold,
        live_samples: this.liveTotal,
        window: this.spec.driftSamples,
      },
      retrain_cron: this.spec.retrainCron || null,
      next_retrain: this.nextRetrain !== undefined && Number.isFinite(this.nextRetrain) ? new Date(this.nextRetrain).toISOString() : null,
      counters: { ...this.counters },
      extraction: this.extractor.stats(),
      last_error: this.lastError ?? null,
      ...(options.recent ? { recent_anomalies: [...this.recent].reverse() } : {}),
    };
  }
}
