// Evaluation helpers: ROC AUC (the measure the Isolation Forest paper and scikit-learn report) and summary statistics.

/**
 * Area under the ROC curve of `scores` for binary `labels` (1 = positive), higher scores meaning more positive.
 * Computed as the Mann-Whitney U statistic with tied scores sharing their average rank, which equals the trapezoidal
 * area scikit-learn's `roc_auc_score` computes. NaN when one class is absent.
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new Error(`rocAuc: ${labels.length} labels for ${n} scores`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const s = Float64Array.from(scores as ArrayLike<number>);
  order.sort((a, b) => s[a]! - s[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && s[order[j + 1]!] === s[order[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n - 1), as the reference figures use. */
export function sampleStd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
}
