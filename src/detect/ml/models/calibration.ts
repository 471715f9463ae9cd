// Severity thresholds calibrated on the training scores, and drift of live scores measured against them.
//
// Thresholds: the level `low` at quantile 0.999 is the score that 99.9% of training samples stay below. Where the
// training set is too small to resolve a quantile empirically (fewer than 10 samples above it), the tail is
// extrapolated the peaks-over-threshold way (Siffer et al., "Anomaly Detection in Streams with Extreme Value
// Theory", KDD 2017, with an exponential tail): above u = the 95th percentile, P(S > t) ≈ 0.05·exp(-(t - u)/σ)
// with σ the mean excess over u, so t(q) = u + σ·ln(0.05 / (1 - q)). Levels are kept strictly increasing and below 1.
//
// Drift: the population stability index PSI = Σ (a_i - e_i)·ln(a_i / e_i) over ten bins cut at the training
// deciles (e_i ≈ 0.1 each), a_i the share of live scores in bin i; shares are floored at 1e-4. 0.1 is commonly read
// as a small shift and 0.25 as a significant one.

export const LEVELS = ['anomaly', 'low', 'medium', 'high', 'critical'] as const;
export type Level = (typeof LEVELS)[number];
export type Thresholds = Record<Level, number>;

/** Empirical quantile with linear interpolation between order statistics (numpy's default, "type 7"). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Fewer training scores than this above a quantile, and it is extrapolated instead of read off the data. */
export const MIN_TAIL_COUNT = 10;
const TAIL_START = 0.95;
/** No threshold is set above this: scores never exceed 1, and a level must stay reachable. */
const CEILING = 1 - 1e-9;

export interface Calibration {
  thresholds: Thresholds;
  /** Which levels came from the exponential tail rather than the data. */
  extrapolated: Level[];
  tail: { u: number; sigma: number };
}

export function calibrate(scores: ArrayLike<number>, quantiles: Record<Level, number>): Calibration {
  const sorted = Float64Array.from(scores as ArrayLike<number>).sort();
  const n = sorted.length;
  const u = quantile(sorted, TAIL_START);
  let excess = 0;
  let above = 0;
  for (let i = 0; i < n; i++) {
    if (sorted[i]! > u) {
      excess += sorted[i]! - u;
      above++;
    }
  }
  // A flat tail (all equal) still needs a scale: take a small one so that levels remain ordered.
  const sigma = above > 0 && excess > 0 ? excess / above : 1e-3;
  const thresholds = {} as Thresholds;
  const extrapolated: Level[] = [];
  let previous = -Infinity;
  for (const level of LEVELS) {
    const q = quantiles[level];
    let t: number;
    if (n * (1 - q) >= MIN_TAIL_COUNT - 1e-9) t = quantile(sorted, q);
    else {
      t = u + sigma * Math.log((1 - TAIL_START) / (1 - q));
      extrapolated.push(level);
    }
    // Strictly increasing and below 1: a level never collapses onto the one before it, nor becomes unreachable.
    if (t >= CEILING) t = previous === -Infinity ? CEILING : previous + (CEILING - previous) / 2;
    if (t <= previous) t = previous + (Math.min(CEILING, 1) - previous) * 1e-3;
    thresholds[level] = t;
    previous = t;
  }
  return { thresholds, extrapolated, tail: { u, sigma } };
}

/** The level a score reaches, or undefined below the anomaly threshold. */
export function levelOf(score: number, t: Thresholds): Level | undefined {
  if (score >= t.critical) return 'critical';
  if (score >= t.high) return 'high';
  if (score >= t.medium) return 'medium';
  if (score >= t.low) return 'low';
  if (score >= t.anomaly) return 'anomaly';
  return undefined;
}

export interface ScoreHistogram {
  /** Inner bin edges (training deciles): bin i holds scores in [edges[i-1], edges[i]). */
  edges: number[];
  /** Share of training scores per bin. */
  expected: number[];
}

export function binOf(score: number, edges: readonly number[]): number {
  let i = 0;
  while (i < edges.length && score >= edges[i]!) i++;
  return i;
}

export function scoreHistogram(scores: ArrayLike<number>, bins = 10): ScoreHistogram {
  const sorted = Float64Array.from(scores as ArrayLike<number>).sort();
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = quantile(sorted, i / bins);
    // Ties make equal edges; keep them distinct so every bin is well defined.
    if (edges.length === 0 || e > edges[edges.length - 1]!) edges.push(e);
  }
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < sorted.length; i++) counts[binOf(sorted[i]!, edges)]!++;
  return { edges, expected: counts.map((c) => c / Math.max(1, sorted.length)) };
}

const PSI_FLOOR = 1e-4;

/** Population stability index of live bin counts against the training shares. */
export function psi(expected: readonly number[], liveCounts: readonly number[]): number {
  const total = liveCounts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(PSI_FLOOR, expected[i]!);
    const a = Math.max(PSI_FLOOR, (liveCounts[i] ?? 0) / total);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}
