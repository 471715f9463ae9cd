// A trained model: the forest, what it learnt about each feature, its severity thresholds and its training score
// distribution, and how it was made (window, size, time taken). Training runs in slices so the pipeline keeps moving.
import { IsolationForest } from '../iforest/forest.js';
import type { Sample } from '../features/types.js';
import type { DetectorSpec } from '../presets.js';
import { anomalyScore } from '../iforest/path-length.js';
import { buildProfile, prepare, type FeatureProfile } from './profile.js';
import { calibrate, quantile, scoreHistogram, type Level, type ScoreHistogram, type Thresholds } from './calibration.js';

export const MODEL_FORMAT = 'vigil-model';
export const MODEL_FORMAT_VERSION = 1;

export type TrainReason = 'initial' | 'growth' | 'schedule' | 'drift' | 'manual';

export interface ModelMeta {
  format: typeof MODEL_FORMAT;
  format_version: number;
  detector: string;
  version: number;
  /** Wall-clock time of training (the injected clock). */
  created_at: string;
  reason: TrainReason;
  features: FeatureProfile[];
  training: {
    /** Event time of the oldest and newest training sample. */
    from: string;
    to: string;
    samples: number;
    /** Samples left out because a rule alerted on their events. */
    excluded: number;
    /** Missing or infinite feature values replaced by the median. */
    imputed: number;
    seconds: number;
  };
  forest: { trees: number; sample_size: number; seed: number; file: string };
  thresholds: Thresholds;
  /** Levels whose threshold was extrapolated from the tail (too few training samples to read it off). */
  extrapolated: Level[];
  score_quantiles: { p50: number; p90: number; p99: number; max: number };
  histogram: ScoreHistogram;
}

export interface TrainedModel {
  meta: ModelMeta;
  forest: IsolationForest;
}

const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface TrainInput {
  samples: readonly Sample[];
  excluded: number;
  version: number;
  reason: TrainReason;
  now: number;
  /** Hears the share of the work done (0..1): growing the trees, then scoring the training set. */
  onProgress?: (done: number) => void;
}

/** Fits, scores the training set and calibrates, yielding the event loop between slices. */
export async function trainModel(spec: DetectorSpec, input: TrainInput): Promise<TrainedModel> {
  const started = performance.now();
  const { samples } = input;
  const cols = spec.features.length;
  const rows = samples.length;
  const raw = new Float64Array(rows * cols);
  let from = Infinity;
  let to = -Infinity;
  samples.forEach((s, r) => {
    raw.set(s.values, r * cols);
    if (s.time < from) from = s.time;
    if (s.time > to) to = s.time;
  });
  const profile = buildProfile(
    spec.features.map((f) => f.name),
    spec.features.map((f) => f.log === true),
    raw,
    rows,
  );
  const prepared = new Float64Array(rows * cols);
  let imputed = 0;
  for (let r = 0; r < rows; r++) {
    const row = raw.subarray(r * cols, (r + 1) * cols);
    if (prepare(row, profile, prepared, r * cols)) for (const v of row) if (!Number.isFinite(v)) imputed++;
  }
  const m = { data: prepared, rows, cols };
  await yieldLoop();
  // Growing the trees is most of the work for small sets, scoring them for large ones: split the bar by rows.
  const growShare = rows < 20_000 ? 0.8 : 0.5;
  const forest = await IsolationForest.fitAsync(m, { trees: spec.trees, sampleSize: spec.sampleSize, seed: spec.seed }, 5, (grown, trees) => input.onProgress?.((growShare * grown) / trees));
  const scores = new Float64Array(rows);
  const SLICE = 2048;
  for (let r = 0; r < rows; r += SLICE) {
    const end = Math.min(rows, r + SLICE);
    scores.set(forest.score({ data: prepared.subarray(r * cols, end * cols), rows: end - r, cols }), r);
    input.onProgress?.(growShare + ((1 - growShare) * end) / rows);
    await yieldLoop();
  }
  const { thresholds, extrapolated } = calibrate(scores, spec.severity, anomalyScore(1, forest.params.sampleSize));
  const sorted = Float64Array.from(scores).sort();
  const version = input.version;
  return {
    forest,
    meta: {
      format: MODEL_FORMAT,
      format_version: MODEL_FORMAT_VERSION,
      detector: spec.id,
      version,
      created_at: new Date(input.now).toISOString(),
      reason: input.reason,
      features: profile,
      training: {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        samples: rows,
        excluded: input.excluded,
        imputed,
        seconds: (performance.now() - started) / 1000,
      },
      forest: { trees: forest.params.trees, sample_size: forest.params.sampleSize, seed: forest.params.seed, file: forestFile(version) },
      thresholds,
      extrapolated,
      score_quantiles: { p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted[rows - 1] ?? NaN },
      histogram: scoreHistogram(scores),
    },
  };
}

export function forestFile(version: number): string {
  return `v${String(version).padStart(6, '0')}.iforest`;
}

export function metaFile(version: number): string {
  return `v${String(version).padStart(6, '0')}.json`;
}
