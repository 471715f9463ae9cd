// c(n): the average path length of an unsuccessful search in a binary search tree of n points, which normalises
// isolation depths (Liu, Ting & Zhou, "Isolation Forest", ICDM 2008, eq. 1). Written as scikit-learn writes it
// (sklearn/ensemble/_iforest.py, `_average_path_length`), so that scores agree: c(n) = 2 H(n-1) - 2 (n-1)/n with
// H(i) ≈ ln(i) + γ, and c(1) = 0, c(2) = 1.

export const EULER_GAMMA = 0.5772156649015329;

export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** The anomaly score s(x, n) = 2^(-E[h(x)] / c(n)) (eq. 2); with c(n) = 0 (one training row) every score is 0.5. */
export function anomalyScore(meanPathLength: number, sampleSize: number): number {
  const c = averagePathLength(sampleSize);
  return c === 0 ? 0.5 : Math.pow(2, -meanPathLength / c);
}
