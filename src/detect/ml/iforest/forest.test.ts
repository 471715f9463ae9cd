// The Isolation Forest: c(n) and path lengths against hand-computed values, determinism, AUC on known outliers,
// both scoring paths agreeing, serialization round trips and refusals, and every kind of bad input.
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../../core/errors.js';
import { rocAuc } from '../metrics.js';
import { IsolationForest } from './forest.js';
import { fromRows, matrix } from './matrix.js';
import { anomalyScore, averagePathLength } from './path-length.js';
import { Random } from './random.js';
import { NumpyRandomState, sampleWithoutReplacement, SklearnRandR } from './sklearn-random.js';
import { forestFromBinary, forestFromJson, forestToBinary, forestToJson, parseForest } from './serialize.js';

/** n points from a 2-D standard normal (Box-Muller), then `outliers` points far away, labelled 1. */
function blobWithOutliers(n: number, outliers: number, seed: number): { rows: number[][]; labels: number[] } {
  const rng = new Random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    rows.push([gauss(), gauss()]);
    labels.push(0);
  }
  for (let i = 0; i < outliers; i++) {
    const angle = (2 * Math.PI * i) / outliers;
    rows.push([6 * Math.cos(angle), 6 * Math.sin(angle)]);
    labels.push(1);
  }
  return { rows, labels };
}

describe('c(n) and the score formula', () => {
  test('match the definitions: c(1) = 0, c(2) = 1, c(n) = 2(ln(n-1) + γ) - 2(n-1)/n', () => {
    assert.equal(averagePathLength(0), 0);
    assert.equal(averagePathLength(1), 0);
    assert.equal(averagePathLength(2), 1);
    // H(2) = 1.5 exactly; the approximation ln(2) + γ = 1.2704 is what scikit-learn uses too.
    assert.ok(Math.abs(averagePathLength(3) - (2 * (Math.log(2) + 0.5772156649015329) - 4 / 3)) < 1e-15);
    assert.ok(Math.abs(averagePathLength(256) - (2 * (Math.log(255) + 0.5772156649015329) - 510 / 256)) < 1e-15);
    assert.ok(Math.abs(averagePathLength(256) - 10.2448) < 1e-4);
    assert.equal(anomalyScore(averagePathLength(256), 256), 0.5);
    assert.equal(anomalyScore(0, 256), 1);
    assert.equal(anomalyScore(3, 1), 0.5);
  });

  test('path lengths on a tiny set are the hand-computed ones, whatever the seed', () => {
    // Rows 0, 0, 10 (ψ = 3, height limit 2): the root must split 10 off (the only non-constant feature); the two
    // zeros stay together in a leaf of size 2. So h(0) = 1 + c(2) = 2 and h(10) = 1 + c(1) = 1.
    const m = fromRows([[0], [0], [10]]);
    for (const seed of [0, 1, 2, 99]) {
      const forest = IsolationForest.fit(m, { trees: 7, sampleSize: 3, seed });
      assert.equal(forest.pathLength([0]), 2);
      assert.equal(forest.pathLength([10]), 1);
      // Beyond the training range the same leaves are reached.
      assert.equal(forest.pathLength([-5]), 2);
      assert.equal(forest.pathLength([1000]), 1);
      const c3 = 2 * (Math.log(2) + 0.5772156649015329) - 4 / 3;
      const scores = forest.score(m);
      assert.ok(Math.abs(scores[0]! - 2 ** (-2 / c3)) < 1e-12);
      assert.ok(Math.abs(scores[2]! - 2 ** (-1 / c3)) < 1e-12);
    }
  });

  test('two distinct points: each isolated at depth 1, so every score is 2^(-1/c(2)) = 0.5', () => {
    const forest = IsolationForest.fit(fromRows([[0, 5], [1, 5]]), { trees: 3 });
    assert.deepEqual(Array.from(forest.score(fromRows([[0, 5], [1, 5], [0.5, 0]]))), [0.5, 0.5, 0.5]);
  });
});

describe('fitting and scoring', () => {
  const { rows, labels } = blobWithOutliers(1000, 12, 7);
  const m = fromRows(rows);

  test('the same seed grows the same forest; another seed another one', () => {
    const a = IsolationForest.fit(m, { seed: 42 });
    const b = IsolationForest.fit(m, { seed: 42 });
    const c = IsolationForest.fit(m, { seed: 43 });
    assert.deepEqual(a.arrays, b.arrays);
    assert.deepEqual(a.score(m), b.score(m));
    assert.notDeepEqual(a.arrays.threshold, c.arrays.threshold);
  });

  test('fitAsync grows exactly the forest fit grows', async () => {
    const a = IsolationForest.fit(m, { seed: 5, trees: 50 });
    const b = await IsolationForest.fitAsync(m, { seed: 5, trees: 50 }, 0);
    assert.deepEqual(a.arrays, b.arrays);
  });

  test('finds the known outliers: AUC above 0.98, outliers above 0.6, the blob below', () => {
    const forest = IsolationForest.fit(m, { seed: 1 });
    const scores = forest.score(m);
    assert.ok(rocAuc(labels, scores) > 0.98, `AUC ${rocAuc(labels, scores)}`);
    const outlierMin = Math.min(...Array.from(scores.subarray(1000)));
    assert.ok(outlierMin > 0.6, `lowest outlier score ${outlierMin}`);
    const sorted = Array.from(scores.subarray(0, 1000)).sort((x, y) => x - y);
    assert.ok(sorted[500]! < 0.5, `median inlier score ${sorted[500]}`);
  });

  test('the batch path and the single-row path give the same scores', () => {
    const forest = IsolationForest.fit(m, { seed: 3, sampleSize: 64 });
    const batch = forest.score(m);
    for (let r = 0; r < m.rows; r += 37) assert.ok(Math.abs(batch[r]! - forest.scoreRow(m.data, r * 2)) < 1e-12);
    // Ties with thresholds and values outside the training range take the same branches in both paths.
    const probes = fromRows([[-100, 100], [0, 0], [forest.arrays.threshold[0]!, forest.arrays.threshold[0]!], [1e300, -1e300]]);
    const probeScores = forest.score(probes);
    for (let r = 0; r < probes.rows; r++) assert.ok(Math.abs(probeScores[r]! - forest.scoreRow(probes.data, r * 2)) < 1e-12);
  });

  test('the trees respect the height limit ceil(log2 ψ) and hold ψ samples at each root', () => {
    const forest = IsolationForest.fit(m, { sampleSize: 100, trees: 20 });
    assert.equal(forest.params.maxDepth, 7);
    for (const root of forest.arrays.roots) assert.equal(forest.arrays.size[root], 100);
  });

  test('range-aware scoring equals the plain score inside the training ranges and rises with the distance beyond them', () => {
    // Every tree holds all 200 rows, so each row lies inside the range of every node on its path.
    const small = { data: m.data.subarray(0, 400), rows: 200, cols: 2 };
    const whole = IsolationForest.fit(small, { seed: 4 });
    for (let r = 0; r < 200; r++) assert.ok(Math.abs(whole.scoreRowRangeAware(small.data, r * 2) - whole.scoreRow(small.data, r * 2)) < 1e-12);
    const forest = IsolationForest.fit(m, { seed: 4 });
    const plain = [10, 100, 1000].map((x) => forest.scoreRow([x, 0]));
    const aware = [10, 100, 1000].map((x) => forest.scoreRowRangeAware([x, 0]));
    assert.ok(plain[0] === plain[1] && plain[1] === plain[2], 'the plain score cannot tell how far out a value is');
    assert.ok(aware[0]! > plain[0]! && aware[1]! > aware[0]! && aware[2]! > aware[1]!, aware.join(' '));
    assert.ok(aware[2]! < 2 ** (-1 / averagePathLength(256)) + 1e-12, 'never above a cut at the first split of every tree');
  });

  test('contributions point at the feature that isolates a row', () => {
    const forest = IsolationForest.fit(m, { seed: 2 });
    const shares = forest.contributions([0.1, 9]);
    assert.ok(shares[1]! > 0.7, `share of feature 1: ${shares[1]}`);
    assert.ok(Math.abs(shares[0]! + shares[1]! - 1) < 1e-12);
  });
});

describe('bad input', () => {
  test('NaN or infinity in training data is refused, naming row and column', () => {
    const rows = [[1, 2], [3, NaN], [5, 6]];
    assert.throws(() => IsolationForest.fit(fromRows(rows)), (err: unknown) => err instanceof VigilError && /row 2, column 2 is NaN/.test(err.message));
    assert.throws(() => IsolationForest.fit(fromRows([[1], [-Infinity]])), /row 2, column 1 is -Infinity/);
    assert.throws(() => IsolationForest.fit(fromRows([[1], [Infinity]])), /is Infinity/);
  });

  test('NaN in rows to score is refused too', () => {
    const forest = IsolationForest.fit(fromRows([[1], [2], [3]]));
    assert.throws(() => forest.score(fromRows([[1], [NaN]])), /cannot score: row 2, column 1 is NaN/);
  });

  test('constant columns are never split on; all constant: every score is 0.5', () => {
    const rows = Array.from({ length: 50 }, (_, i) => [7, i % 5, 7]);
    const forest = IsolationForest.fit(fromRows(rows), { seed: 1 });
    for (let i = 0; i < forest.arrays.feature.length; i++) assert.ok(forest.arrays.feature[i] === -1 || forest.arrays.feature[i] === 1);
    const flat = IsolationForest.fit(fromRows(Array.from({ length: 40 }, () => [1, 2])));
    for (const s of flat.score(fromRows([[1, 2], [100, -100]]))) assert.ok(Math.abs(s - 0.5) < 1e-12, String(s));
  });

  test('fewer rows than the sample size: ψ becomes the number of rows (as scikit-learn does)', () => {
    const forest = IsolationForest.fit(fromRows([[1], [2], [3], [50]]), { sampleSize: 256 });
    assert.equal(forest.params.sampleSize, 4);
    assert.equal(forest.params.maxDepth, 2);
    const scores = forest.score(fromRows([[2], [50]]));
    assert.ok(scores[1]! > scores[0]!);
  });

  test('one row: every score is 0.5; no rows: a clear error', () => {
    assert.deepEqual(Array.from(IsolationForest.fit(fromRows([[3, 4]])).score(fromRows([[3, 4], [9, 9]]))), [0.5, 0.5]);
    assert.throws(() => IsolationForest.fit(matrix(new Float64Array(0), 3)), /no rows/);
  });

  test('options out of range and wrong widths are refused', () => {
    const m = fromRows([[1], [2]]);
    assert.throws(() => IsolationForest.fit(m, { trees: 0 }), /number of trees/);
    assert.throws(() => IsolationForest.fit(m, { sampleSize: 1.5 }), /sample size/);
    assert.throws(() => IsolationForest.fit(m, { seed: -1 }), /seed/);
    assert.throws(() => IsolationForest.fit(m).score(fromRows([[1, 2]])), /expects 1 features per row, got 2/);
    assert.throws(() => matrix(new Float64Array(5), 2), /do not make rows/);
  });
});

describe('serialization', () => {
  const { rows } = blobWithOutliers(300, 5, 11);
  const m = fromRows(rows);
  const forest = IsolationForest.fit(m, { seed: 9, trees: 25 });
  const expected = forest.score(m);

  test('JSON round trip gives the same forest and the same scores', () => {
    const text = JSON.stringify(forestToJson(forest));
    const back = parseForest(Buffer.from(text));
    assert.deepEqual(back.arrays, forest.arrays);
    assert.deepEqual(back.params, forest.params);
    assert.deepEqual(back.score(m), expected);
  });

  test('binary round trip gives the same forest and the same scores', () => {
    const bin = forestToBinary(forest);
    const back = parseForest(bin);
    assert.deepEqual(back.arrays, forest.arrays);
    assert.deepEqual(forestFromBinary(new Uint8Array(bin)).score(m), expected);
  });

  test('a damaged binary file is refused: flipped byte, truncation, wrong magic', () => {
    const bin = forestToBinary(forest);
    const flipped = Buffer.from(bin);
    flipped[flipped.length - 100]! ^= 0xff;
    assert.throws(() => forestFromBinary(flipped, 'm.bin'), /m\.bin: not a usable Isolation Forest model: checksum mismatch/);
    assert.throws(() => forestFromBinary(bin.subarray(0, bin.length - 8)), /checksum mismatch|bytes, expected/);
    assert.throws(() => parseForest(Buffer.from('PK\x03\x04 definitely not a model')), /neither a binary model nor valid JSON/);
    assert.throws(() => forestFromBinary(Buffer.from('XXXX' + 'x'.repeat(60))), /bad magic/);
  });

  test('a newer or older format version is refused with advice', () => {
    const json = forestToJson(forest);
    assert.throws(() => forestFromJson({ ...json, version: 2 }), /format version 2 is newer than this Vigil reads \(1\)/);
    assert.throws(() => forestFromJson({ ...json, version: 0 }), /not supported; retrain/);
    assert.throws(() => forestFromJson({ ...json, format: 'pickle' }), /format is "pickle"/);
    const bin = Buffer.from(forestToBinary(forest));
    bin.writeUInt32LE(7, 4);
    assert.throws(() => forestFromBinary(bin), /format version 7 is newer/);
  });

  test('structurally broken trees are refused: cycles, bad features, sizes that do not add up', () => {
    const json = forestToJson(forest);
    const inner = json.trees.feature.findIndex((f) => f >= 0);
    const clone = () => JSON.parse(JSON.stringify(json)) as typeof json;
    const cycle = clone();
    cycle.trees.left[inner + 1 < cycle.trees.left.length && cycle.trees.feature[inner + 1]! >= 0 ? inner + 1 : inner] = 0;
    assert.throws(() => forestFromJson(cycle), /children outside its tree|two parents|not reached exactly once/);
    const badFeature = clone();
    badFeature.trees.feature[inner] = 5;
    assert.throws(() => forestFromJson(badFeature), /splits on feature 5 of 2/);
    const badSize = clone();
    badSize.trees.size[badSize.trees.left[inner]!]! += 1;
    assert.throws(() => forestFromJson(badSize), /do not hold its/);
    const nanThreshold = clone() as unknown as { trees: { threshold: unknown[] } };
    nanThreshold.trees.threshold[inner] = 'x';
    assert.throws(() => forestFromJson(nanThreshold), /threshold\[\d+\] is not a number/);
    const missing = clone() as unknown as { trees: Record<string, unknown> };
    delete missing.trees.left;
    assert.throws(() => forestFromJson(missing), /trees\.left must be an array/);
    assert.throws(() => forestFromJson({ ...json, params: { ...json.params, maxDepth: 30 } }), /maxDepth does not match/);
  });
});

describe('scikit-learn compatibility', () => {
  const fixture = JSON.parse(readFileSync(new URL('./testdata/sklearn-scores.json', import.meta.url), 'utf8')) as {
    X: number[][];
    cases: { seed: number; trees: number; max_samples: number; scores: number[] }[];
  };

  test('with rng "sklearn", seed s grows the forest of IsolationForest(random_state=s): the same scores to 1e-15', () => {
    const m = fromRows(fixture.X);
    for (const c of fixture.cases) {
      const forest = IsolationForest.fit(m, { trees: c.trees, sampleSize: c.max_samples, seed: c.seed, rng: 'sklearn' });
      const scores = forest.score(m);
      let worst = 0;
      for (let i = 0; i < m.rows; i++) worst = Math.max(worst, Math.abs(scores[i]! - c.scores[i]!));
      assert.ok(worst < 1e-15, `seed ${c.seed}: largest difference ${worst}`);
    }
  });

  test("numpy's MT19937, scikit-learn's sampling and rand_r, on known values", () => {
    // The first outputs of MT19937 seeded with init_genrand(0) and with the reference seed 5489.
    assert.equal(new NumpyRandomState(0).nextUint32(), 2357136044);
    assert.equal(new NumpyRandomState(5489).nextUint32(), 3499211612);
    const rs = new NumpyRandomState(1);
    const sample = sampleWithoutReplacement(1000, 10, rs);
    assert.equal(new Set(sample).size, 10);
    const r = new SklearnRandR(1);
    // 1 -> xorshift(13, 17, 5) -> 270369, below RAND_R_MAX.
    assert.equal(r.next(), 270369);
  });
});
