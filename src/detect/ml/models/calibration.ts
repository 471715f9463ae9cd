// Severity thresholds calibrated on the training scores, and drift of live scores measured against them.
//
// Thresholds: the level `anomaly` at quantile 0.99 is the score that 99% of training samples stay below, read off the
// sorted training scores (linear interpolation, numpy's default). A training set of n samples resolves quantiles up
// to 1 - 1/n only; levels beyond that are placed evenly between the last resolvable level (or the highest training
// score) and the highest score the forest can give at all, 2^(-1/c(ψ)): a sample cut off by the first split of every
// tree. An Isolation Forest scores a value beyond the training range like the most extreme training values on that
// side, so "above every training score" is where the rarest levels belong, and every level stays reachable.
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

export interface Calibration {
  thresholds: Thresholds;
  /** Levels beyond what the training set resolves, placed between its highest scores and the forest's maximum. */
  extrapolated: Level[];
  /** The highest score the forest can give. */
  maxScore: number;
}

export function calibrate(scores: ArrayLike<number>, quantiles: Record<Level, number>, maxScore: number): Calibration {
  const sorted = Float64Array.from(scores as ArrayLike<number>).sort();
  const n = sorted.length;
  const top = n > 0 ? sorted[n - 1]! : 0.5;
  const thresholds = {} as Thresholds;
  const extrapolated: Level[] = [];
  let last = -Infinity;
  for (const level of LEVELS) {
    // At least one training score above the quantile: it is read off the data (with a little tolerance for rounding).
    if (n * (1 - quantiles[level]) >= 1 - 1e-9) {
      const t = quantile(sorted, quantiles[level]);
      thresholds[level] = Math.max(t, last);
      last = thresholds[level];
    } else extrapolated.push(level);
  }
  const from = Math.max(last === -Infinity ? top : last, top);
  const ceiling = Math.max(maxScore, from);
  extrapolated.forEach((level, i) => {
    thresholds[level] = from + ((ceiling - from) * (i + 1)) / (extrapolated.length + 1);
  });
  // Ties among training scores can make two read-off levels equal: nudge each above the one before.
  let previous = -Infinity;
  for (const level of LEVELS) {
    if (thresholds[level] <= previous) thresholds[level] = previous + 1e-9;
    previous = thresholds[level];
  }
  return { thresholds, extrapolated, maxScore };
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
