// What a model remembers about each feature in its training data: the median (which stands in for a missing
// value), the percentiles (to say how unusual a value is), the share that was missing, and whether the forest sees
// log(1 + x). Explanations compare a sample's raw values with these.

export interface FeatureProfile {
  name: string;
  log: boolean;
  /** Stands in for a missing value; 0 when the feature was always missing in training. */
  median: number;
  /** Percentiles 0, 1, …, 100 of the present training values (empty when always missing). */
  percentiles: number[];
  /** Share of training samples where the feature was missing. */
  missing: number;
}

export function buildProfile(names: readonly string[], logs: readonly boolean[], raw: Float64Array, rows: number): FeatureProfile[] {
  const cols = names.length;
  return names.map((name, f) => {
    const present: number[] = [];
    for (let r = 0; r < rows; r++) {
      const v = raw[r * cols + f]!;
      if (Number.isFinite(v)) present.push(v);
    }
    present.sort((a, b) => a - b);
    const percentiles: number[] = [];
    if (present.length > 0) {
      for (let p = 0; p <= 100; p++) {
        const pos = ((present.length - 1) * p) / 100;
        const lo = Math.floor(pos);
        const hi = Math.min(present.length - 1, lo + 1);
        percentiles.push(present[lo]! + (present[hi]! - present[lo]!) * (pos - lo));
      }
    }
    return { name, log: logs[f] ?? false, median: percentiles[50] ?? 0, percentiles, missing: rows === 0 ? 0 : 1 - present.length / rows };
  });
}

/**
 * The forest's view of raw values: missing (NaN) and infinite values become the training median, negative values
 * under a log transform are clamped at 0, then log(1 + x) where configured. Writes `cols` values at `offset`.
 */
export function prepare(raw: ArrayLike<number>, profile: readonly FeatureProfile[], out: Float64Array, offset = 0): boolean {
  let imputed = false;
  for (let f = 0; f < profile.length; f++) {
    const p = profile[f]!;
    let v = raw[f]!;
    if (!Number.isFinite(v)) {
      v = p.median;
      imputed = true;
    }
    out[offset + f] = p.log ? Math.log1p(Math.max(0, v)) : v;
  }
  return imputed;
}

/** Where a value falls among the training values, 0-100 (interpolated between percentiles). */
export function percentileOf(value: number, p: FeatureProfile): number | undefined {
  const pc = p.percentiles;
  if (pc.length === 0 || !Number.isFinite(value)) return undefined;
  if (value < pc[0]!) return 0;
  if (value > pc[100]!) return 100;
  // Ties span several percentiles: take the middle of the run.
  let lo = 0;
  while (lo < 100 && pc[lo + 1]! < value) lo++;
  if (pc[lo]! === value || pc[lo + 1] === value) {
    let first = pc[lo] === value ? lo : lo + 1;
    let last = first;
    while (last < 100 && pc[last + 1] === value) last++;
    while (first > 0 && pc[first - 1] === value) first--;
    return (first + last) / 2;
  }
  const a = pc[lo]!;
  const b = pc[lo + 1]!;
  return lo + (value - a) / (b - a);
}
