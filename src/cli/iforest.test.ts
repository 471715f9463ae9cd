// `vigil iforest` and `vigil model` as a user runs them: a small CSV fixture, plain and gzipped, bad cells, saved and
// corrupt models, and the model commands against a running Vigil.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Random } from '../detect/ml/iforest/random.js';
import { runVigil } from '../testing/process.js';
import { startTestVigil } from '../testing/runtime.js';

let dir: string;
let csv: string;
let gz: string;
const ROWS = 400;
const OUTLIERS = [50, 150, 250, 350];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-iforest-'));
  const rng = new Random(3);
  const lines = ['id,latency_ms,"bytes, sent",host,label'];
  for (let i = 0; i < ROWS; i++) {
    const outlier = OUTLIERS.includes(i);
    const latency = outlier ? 900 + rng.below(100) : 20 + rng.below(30);
    const bytes = outlier ? 10 + rng.below(5) : 5000 + rng.below(1000);
    lines.push(`${i},${latency},${bytes},"web-${i % 3}",${outlier ? 1 : 0}`);
  }
  csv = join(dir, 'traffic.csv');
  gz = join(dir, 'traffic.csv.gz');
  writeFileSync(csv, lines.join('\r\n') + '\r\n');
  writeFileSync(gz, gzipSync(readFileSync(csv)));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const scoresOf = (text: string) => text.trim().split('\n').map(Number);

describe('vigil iforest', () => {
  test('writes one score per row, in order; the outliers score highest; text columns are skipped', async () => {
    const result = await runVigil(['iforest', csv, '--exclude', 'id', '--label', 'label']);
    assert.equal(result.code, 0, result.stderr);
    const scores = scoresOf(result.stdout);
    assert.equal(scores.length, ROWS);
    assert.ok(scores.every((s) => s > 0 && s <= 1));
    const top = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 4).map(([, i]) => i).sort((a, b) => a - b);
    assert.deepEqual(top, OUTLIERS);
    assert.match(result.stderr, /400 rows, 2 features; skipped id \(excluded\), host \(not numeric \(e\.g\. "web-0"\)\), label \(label\); 100 trees of 256 samples/);
    assert.match(result.stderr, /ROC AUC 1\.0000/);
  });

  test('a gzipped file gives the same scores; the same seed the same scores, another seed others', async () => {
    const [plain, zipped, other] = await Promise.all([
      runVigil(['iforest', csv, '--exclude', '1', 'label', '--seed', '7']),
      runVigil(['iforest', gz, '--exclude', 'id', 'label', '--seed', '7']),
      runVigil(['iforest', gz, '--exclude', 'id', 'label', '--seed', '8']),
    ]);
    assert.equal(zipped.code, 0, zipped.stderr);
    assert.equal(zipped.stdout, plain.stdout);
    assert.notEqual(other.stdout, plain.stdout);
  });

  test('--rng sklearn gives the scores scikit-learn gives for the same seed', async () => {
    const fixture = JSON.parse(readFileSync(new URL('../detect/ml/iforest/testdata/sklearn-scores.json', import.meta.url), 'utf8')) as { X: number[][]; cases: { seed: number; trees: number; max_samples: number; scores: number[] }[] };
    const file = join(dir, 'sklearn.csv');
    writeFileSync(file, ['a,b,c,d', ...fixture.X.map((row) => row.join(','))].join('\n'));
    const c = fixture.cases[1]!;
    const result = await runVigil(['iforest', file, '--rng', 'sklearn', '--seed', String(c.seed), '--trees', String(c.trees), '--sample-size', String(c.max_samples)]);
    assert.equal(result.code, 0, result.stderr);
    const scores = scoresOf(result.stdout);
    assert.equal(scores.length, c.scores.length);
    scores.forEach((s, i) => assert.ok(Math.abs(s - c.scores[i]!) < 1e-15, `row ${i + 1}: ${s} vs ${c.scores[i]}`));
  });

  test('--json prints a summary and the scores go to --out; a saved model scores the same rows the same way', async () => {
    const out = join(dir, 'scores.txt');
    const model = join(dir, 'model.iforest');
    const fitted = await runVigil(['iforest', csv, '--exclude', 'id', '--label', 'label', '--json', '--out', out, '--save-model', model, '--trees', '50', '--sample-size', '128']);
    assert.equal(fitted.code, 0, fitted.stderr);
    const summary = JSON.parse(fitted.stdout) as { rows: number; features: string[]; trees: number; sample_size: number; auc: number; fit_s: number; score_s: number; scores: { max: number } };
    assert.equal(summary.rows, ROWS);
    assert.deepEqual(summary.features, ['latency_ms', 'bytes, sent']);
    assert.equal(summary.trees, 50);
    assert.equal(summary.sample_size, 128);
    assert.equal(summary.auc, 1);
    assert.ok(summary.fit_s >= 0 && summary.score_s >= 0);
    const reused = await runVigil(['iforest', gz, '--exclude', 'id', 'label', '--model', model]);
    assert.equal(reused.code, 0, reused.stderr);
    assert.equal(reused.stdout, readFileSync(out, 'utf8'));
    const jsonModel = join(dir, 'model.json');
    await runVigil(['iforest', csv, '--exclude', 'id', 'label', '--save-model', jsonModel, '--trees', '50', '--sample-size', '128', '--out', join(dir, 'ignored.txt')]);
    assert.equal((JSON.parse(readFileSync(jsonModel, 'utf8')) as { format: string }).format, 'vigil-iforest');
  });

  test('bad input: missing cells, a corrupt model, too few rows, constant columns, nothing numeric', async () => {
    const holes = join(dir, 'holes.csv');
    writeFileSync(holes, 'a,b\n1,2\n3,\n5,NaN\n7,inf\n');
    const refused = await runVigil(['iforest', holes]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /row 2, column b is missing \(empty or NaN\) \(3 such values in that column\); use --missing median/);
    const imputed = await runVigil(['iforest', holes, '--missing', 'median', '--json', '--out', join(dir, 'h.txt')]);
    assert.equal(imputed.code, 0, imputed.stderr);
    const summary = JSON.parse(imputed.stdout) as { imputed_values: number; sample_size: number; warnings: string[]; constant_columns: string[] };
    assert.equal(summary.imputed_values, 3);
    assert.equal(summary.sample_size, 4, 'fewer rows than the sample size: every tree uses all rows');
    assert.match(summary.warnings.join('\n'), /4 rows is fewer than the sample size 256/);
    assert.deepEqual(summary.constant_columns, ['b'], 'b is all 2 once imputed with its median');

    const corrupt = join(dir, 'corrupt.iforest');
    writeFileSync(corrupt, 'VGIF this is not a model at all, only some bytes that start like one........');
    const bad = await runVigil(['iforest', csv, '--exclude', 'id', 'label', '--model', corrupt]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /corrupt\.iforest: not a usable Isolation Forest model/);

    const words = join(dir, 'words.csv');
    writeFileSync(words, 'name,city\nann,paris\nbob,rome\n');
    const none = await runVigil(['iforest', words]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no numeric columns left to fit on/);
    const missing = await runVigil(['iforest', join(dir, 'nope.csv')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /cannot read .*nope\.csv: no such file/);
  });
});

describe('vigil model', () => {
  test('list, retrain and rollback against a running Vigil', async () => {
    const vigil = await startTestVigil({ ml: { min_samples: 20, retrain_cron: '', detectors: [{ id: 'web', preset: 'web' }, { id: 'users', preset: 'user' }] } });
    try {
      const lines = Array.from({ length: 40 }, (_, i) => `192.0.2.${i % 7} - - [03/Mar/2024:10:00:${String(i).padStart(2, '0')} +0000] "GET /p?id=${i % 9} HTTP/1.1" ${i % 10 === 0 ? 404 : 200} ${1000 + ((i * 37) % 500)} "-" "curl/8" 0.0${i % 9}`);
      await vigil.call('/api/v1/events?format=nginx', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: lines.join('\n') });
      await vigil.runtime.pipeline.idle();
      await vigil.runtime.models.idle();
      const flags = ['--server', vigil.url, '--token', vigil.token];
      const list = await runVigil(['model', 'list', ...flags]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^model\s+kind\s+state\s+version/);
      assert.match(list.stdout, /\nweb\s+event\s+ready\s+1\s+40\s+40/);
      assert.match(list.stdout, /\nusers\s+entity\s+collecting\s+-\s+0\/20/);
      const retrain = await runVigil(['model', 'retrain', 'web', ...flags]);
      assert.equal(retrain.code, 0, retrain.stderr);
      assert.match(retrain.stdout, /^web: version 2 trained on 40 samples \(0 excluded\) in [\d.]+ s; now active/);
      const rollback = await runVigil(['model', 'rollback', 'web', ...flags]);
      assert.match(rollback.stdout, /^web: version 1 is active/);
      const early = await runVigil(['model', 'train', 'users', ...flags]);
      assert.equal(early.code, 2);
      assert.match(early.stderr, /users has 0 usable samples/);
      const json = await runVigil(['model', 'list', '--json', ...flags]);
      assert.equal((JSON.parse(json.stdout) as { models: { active_version: number }[] }).models[0]!.active_version, 1);
      const unknown = await runVigil(['model', 'rollback', 'nope', ...flags]);
      assert.equal(unknown.code, 3);
    } finally {
      await vigil.close();
    }
  });
});
