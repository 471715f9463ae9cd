// Severity calibration, drift (PSI), feature profiles, and the model registry on a real directory: atomic versions,
// pruning, rollback targets, and corrupt or foreign files.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsolationForest } from '../iforest/forest.js';
import { fromRows } from '../iforest/matrix.js';
import { Random } from '../iforest/random.js';
import { binOf, calibrate, levelOf, psi, quantile, scoreHistogram } from './calibration.js';
import { forestFile, metaFile, MODEL_FORMAT, type ModelMeta, type TrainedModel } from './model.js';
import { buildProfile, percentileOf, prepare } from './profile.js';
import { ModelRegistry } from './registry.js';

const QUANTILES = { anomaly: 0.99, low: 0.999, medium: 0.9999, high: 0.99999, critical: 0.999999 };

function uniform(n: number, seed = 1, lo = 0.3, hi = 0.7): Float64Array {
  const rng = new Random(seed);
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
}

describe('severity calibration', () => {
  test('quantile interpolates between order statistics like numpy', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([1, 2, 3, 4], 1), 4);
    assert.equal(quantile([5], 0.9), 5);
  });

  test('with enough samples the levels are the empirical quantiles of the training scores', () => {
    const scores = uniform(100_000);
    const sorted = Float64Array.from(scores).sort();
    // 100,000 samples resolve quantiles up to 0.99999.
    const { thresholds, extrapolated } = calibrate(scores, { anomaly: 0.99, low: 0.999, medium: 0.9999, high: 0.99999, critical: 0.999999 }, 0.93);
    assert.equal(thresholds.anomaly, quantile(sorted, 0.99));
    assert.equal(thresholds.low, quantile(sorted, 0.999));
    assert.equal(thresholds.high, quantile(sorted, 0.99999));
    assert.deepEqual(extrapolated, ['critical']);
    assert.ok(Math.abs(thresholds.anomaly - (0.3 + 0.4 * 0.99)) < 0.002);
    // The one level beyond the data sits halfway between the highest training score and the forest's maximum.
    const top = sorted[sorted.length - 1]!;
    assert.ok(Math.abs(thresholds.critical - (top + (0.93 - top) / 2)) < 1e-12);
  });

  test('levels the training set cannot resolve are spread between its top and the highest possible score', () => {
    // 256 samples: 2.56 above the 0.99 quantile (read off the data), less than one above the others.
    const scores = uniform(256);
    const sorted = Float64Array.from(scores).sort();
    const { thresholds, extrapolated } = calibrate(scores, QUANTILES, 0.9);
    assert.deepEqual(extrapolated, ['low', 'medium', 'high', 'critical']);
    assert.equal(thresholds.anomaly, quantile(sorted, 0.99));
    const top = sorted[255]!;
    assert.ok(Math.abs(thresholds.low - (top + (0.9 - top) / 5)) < 1e-12);
    assert.ok(Math.abs(thresholds.critical - (top + (4 * (0.9 - top)) / 5)) < 1e-12);
    const levels = [thresholds.anomaly, thresholds.low, thresholds.medium, thresholds.high, thresholds.critical];
    for (let i = 1; i < levels.length; i++) assert.ok(levels[i]! > levels[i - 1]!, `level ${i} above level ${i - 1}`);
    assert.ok(levels[4]! < 0.9);
  });

  test('ties and flat training scores still give strictly increasing levels', () => {
    const flat = calibrate(new Float64Array(100_000).fill(0.5), QUANTILES, 0.9).thresholds;
    assert.ok(flat.anomaly === 0.5 && flat.low > flat.anomaly && flat.medium > flat.low && flat.critical > flat.high);
    const tiny = calibrate([0.4, 0.6], QUANTILES, 0.8).thresholds;
    assert.ok(tiny.anomaly > 0.6 - 1e-9 && tiny.critical < 0.8);
  });

  test('levels map scores to severities', () => {
    const t = { anomaly: 0.6, low: 0.65, medium: 0.7, high: 0.75, critical: 0.8 };
    assert.equal(levelOf(0.59, t), undefined);
    assert.equal(levelOf(0.6, t), 'anomaly');
    assert.equal(levelOf(0.66, t), 'low');
    assert.equal(levelOf(0.72, t), 'medium');
    assert.equal(levelOf(0.79, t), 'high');
    assert.equal(levelOf(0.95, t), 'critical');
  });
});

describe('drift', () => {
  test('PSI is about 0 for the training distribution and large for a shifted one', () => {
    const training = uniform(5000, 3);
    const h = scoreHistogram(training);
    assert.equal(h.expected.length, 10);
    assert.ok(Math.abs(h.expected.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    const count = (scores: Float64Array) => {
      const counts = new Array<number>(h.expected.length).fill(0);
      for (const s of scores) counts[binOf(s, h.edges)]!++;
      return counts;
    };
    assert.ok(psi(h.expected, count(uniform(5000, 4))) < 0.02);
    assert.ok(psi(h.expected, count(uniform(5000, 5, 0.5, 0.9))) > 0.25);
    assert.equal(psi(h.expected, new Array(10).fill(0)), 0);
  });
});

describe('feature profiles', () => {
  test('median and percentiles of present values; missing values take the median; log1p where asked', () => {
    const raw = Float64Array.from([1, NaN, 3, 5, NaN, 7, 9, 100].flatMap((v) => [v, 1]));
    const [p, q] = buildProfile(['a', 'b'], [true, false], raw, 8);
    assert.equal(p!.median, 6);
    assert.equal(p!.missing, 0.25);
    assert.equal(p!.percentiles[0], 1);
    assert.equal(p!.percentiles[100], 100);
    assert.equal(q!.median, 1);
    const out = new Float64Array(2);
    assert.equal(prepare([NaN, 1], [p!, q!], out), true);
    assert.deepEqual(Array.from(out), [Math.log1p(6), 1]);
    assert.equal(prepare([Infinity, 2], [p!, q!], out), true);
    assert.equal(prepare([-5, 2], [p!, q!], out), false);
    assert.equal(out[0], 0, 'negative values under a log transform are clamped at 0');
    assert.equal(percentileOf(1000, p!), 100);
    assert.equal(percentileOf(0, p!), 0);
    assert.equal(percentileOf(1, q!), 50, 'a value every training sample had sits in the middle');
    const always = buildProfile(['c'], [false], Float64Array.from([NaN, NaN]), 2)[0]!;
    assert.equal(always.median, 0);
    assert.equal(always.missing, 1);
    assert.equal(percentileOf(3, always), undefined);
  });
});

function fakeModel(detector: string, version: number, seed = version): TrainedModel {
  const rng = new Random(seed);
  const rows = Array.from({ length: 64 }, () => [rng.next(), rng.next()]);
  const forest = IsolationForest.fit(fromRows(rows), { trees: 10, sampleSize: 32, seed });
  const meta: ModelMeta = {
    format: MODEL_FORMAT,
    format_version: 1,
    detector,
    version,
    created_at: new Date(0).toISOString(),
    reason: 'manual',
    features: buildProfile(['x', 'y'], [false, false], fromRows(rows).data, 64),
    training: { from: new Date(0).toISOString(), to: new Date(1).toISOString(), samples: 64, excluded: 0, imputed: 0, seconds: 0.01 },
    forest: { trees: 10, sample_size: 32, seed, file: forestFile(version) },
    thresholds: { anomaly: 0.6, low: 0.65, medium: 0.7, high: 0.75, critical: 0.8 },
    extrapolated: [],
    score_quantiles: { p50: 0.4, p90: 0.5, p99: 0.6, max: 0.7 },
    histogram: { edges: [0.5], expected: [0.5, 0.5] },
  };
  return { meta, forest };
}

describe('model registry', () => {
  const root = mkdtempSync(join(tmpdir(), 'vigil-models-'));
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));

  test('saves versions atomically, activates the newest, keeps at most max_versions (and the active one)', () => {
    const registry = new ModelRegistry(root, 'web', 3);
    for (let v = 1; v <= 5; v++) registry.save(fakeModel('web', v));
    assert.deepEqual(registry.versions(), [3, 4, 5]);
    assert.equal(registry.activeVersion(), 5);
    assert.equal(registry.nextVersion(), 6);
    assert.deepEqual(readdirSync(registry.dir).sort(), ['active.json', 'v000003.iforest', 'v000003.json', 'v000004.iforest', 'v000004.json', 'v000005.iforest', 'v000005.json']);
    const loaded = registry.load(4);
    assert.equal(loaded.meta.version, 4);
    assert.deepEqual(loaded.forest.arrays, fakeModel('web', 4).forest.arrays);
  });

  test('a corrupt active version is reported and the newest good older one is used instead', () => {
    const registry = new ModelRegistry(root, 'corrupt', 10);
    for (let v = 1; v <= 3; v++) registry.save(fakeModel('corrupt', v));
    writeFileSync(join(registry.dir, forestFile(3)), 'garbage');
    writeFileSync(join(registry.dir, metaFile(2)), '{"format": "vigil-model", "format_version": 1, "detector": "corrupt"');
    const { model, problems } = registry.loadActive();
    assert.equal(model?.meta.version, 1);
    assert.match(problems[0]!, /version 3: .*v000003\.iforest: not a usable Isolation Forest model/);
    assert.match(problems[1]!, /version 2: cannot read .*v000002\.json/);
    assert.equal(registry.activeVersion(), 1);
    const listed = registry.list();
    assert.deepEqual(listed.map((v) => [v.version, v.error === undefined]), [[1, true], [2, false], [3, false]]);
  });

  test('nothing usable: no model and the reasons, never a throw; foreign and newer descriptions are refused', () => {
    const registry = new ModelRegistry(root, 'broken', 10);
    registry.save(fakeModel('broken', 1));
    writeFileSync(join(registry.dir, forestFile(1)), Buffer.alloc(100));
    assert.equal(registry.loadActive().model, undefined);
    const other = new ModelRegistry(root, 'other', 10);
    other.save(fakeModel('other', 1));
    const meta = JSON.stringify({ ...fakeModel('other', 1).meta, format_version: 9 });
    writeFileSync(join(other.dir, metaFile(1)), meta);
    assert.throws(() => other.load(1), /model format 9, newer than this Vigil reads/);
    writeFileSync(join(other.dir, metaFile(1)), JSON.stringify({ ...fakeModel('web', 1).meta }));
    assert.throws(() => other.load(1), /describes web version 1/);
    assert.deepEqual(new ModelRegistry(root, 'none', 10).loadActive(), { problems: [] });
  });
});
