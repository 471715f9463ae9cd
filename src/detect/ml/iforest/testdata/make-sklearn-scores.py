#!/usr/bin/env python3
# Run with /usr/bin/python3 (Debian python3-sklearn, scikit-learn 1.2.1) to regenerate sklearn-scores.json.
# Synthetic data; the scores are scikit-learn's, for forest.test.ts.
import json, warnings
import numpy as np
from sklearn.ensemble import IsolationForest
warnings.simplefilter('ignore')
rng = np.random.RandomState(1)
n = 300
X = np.column_stack([
    rng.normal(size=n),                    # continuous
    rng.randint(0, 3, size=n),             # few distinct values: constant in many nodes
    np.full(n, 7.0),                       # constant
    np.r_[rng.exponential(size=n - 5), [25, 30, 40, 50, 60]],  # heavy tail with outliers
]).astype(np.float32).astype(np.float64)
cases = []
for seed, trees, samples in [(0, 20, 64), (42, 20, 64), (7, 10, 1000)]:
    f = IsolationForest(n_estimators=trees, max_samples=samples, random_state=seed).fit(X)
    cases.append({'seed': seed, 'trees': trees, 'max_samples': samples, 'scores': (-f.score_samples(X)).tolist()})
json.dump({'generator': 'scikit-learn 1.2.1 IsolationForest, -score_samples(X)', 'X': X.tolist(), 'cases': cases}, open(__file__.replace('make-sklearn-scores.py', 'sklearn-scores.json'), 'w'))
