// `npm run bench:iforest`: Vigil's Isolation Forest on every ODDS data set (../shared/datasets/odds) and on NSL-KDD
// (attack vs normal): ROC AUC over seeds (mean ± sample std), fit and score seconds (median over seeds), beside the
// paper's AUC and scikit-learn's reference AUC and times from the ODDS README — and, when /usr/bin/python3 has
// scikit-learn (Debian python3-sklearn), scikit-learn measured single-threaded in the same run on the same data.
// AUCs are given twice: seeded the way scikit-learn seeds (rng "sklearn": seed s grows scikit-learn's forest, so its
// AUC must equal scikit-learn's), and with Vigil's own generator (the default; another random draw of forests).
// `-- --json` prints one JSON line per data set; `-- --seeds N` changes the number of seeds (default 5).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCsvTable } from '../src/detect/ml/csv-table.js';
import { IsolationForest } from '../src/detect/ml/iforest/forest.js';
import type { Matrix } from '../src/detect/ml/iforest/matrix.js';
import { mean, rocAuc, sampleStd } from '../src/detect/ml/metrics.js';
import { datasetsRoot, median } from './datasets.js';

export interface IforestRow {
  dataset: string;
  rows: number;
  features: number;
  /** ROC AUC with scikit-learn's random streams (rng "sklearn"): seed s grows the forest scikit-learn grows. */
  auc_mean: number;
  auc_std: number;
  /** ROC AUC with Vigil's own generator (the default), the same seeds. */
  vigil_rng_auc_mean: number;
  vigil_rng_auc_std: number;
  /** Median over seeds, Vigil's generator (the default path). */
  fit_s: number;
  score_s: number;
  paper_auc: number | null;
  sklearn_auc_mean: number | null;
  sklearn_auc_std: number | null;
  sklearn_fit_s: number | null;
  sklearn_score_s: number | null;
  /** Where the scikit-learn figures come from: measured in this run, or the data set's README. */
  sklearn_source: 'measured' | 'readme' | null;
}

interface Reference {
  paper: number | null;
  aucMean: number;
  aucStd: number;
  fit?: number;
  score?: number;
}

/** The ODDS README's tables: paper and scikit-learn AUCs per file, scikit-learn single-threaded times per data set. */
export function readOddsReference(readme: string): Map<string, Reference> {
  const out = new Map<string, Reference>();
  for (const line of readme.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const file = cells[1];
    if (!file) continue;
    const auc = /^([\d.]+) ± ([\d.]+)$/.exec(cells[8] ?? '');
    if (file.endsWith('.csv.gz') && auc) {
      out.set(file.replace(/\.csv\.gz$/, ''), { paper: Number(cells[7]) || null, aucMean: Number(auc[1]), aucStd: Number(auc[2]) });
      continue;
    }
    const known = out.get(file);
    if (known && /^[\d.]+$/.test(cells[2] ?? '') && /^[\d.]+$/.test(cells[3] ?? '')) {
      known.fit = Number(cells[2]);
      known.score = Number(cells[3]);
    }
  }
  return out;
}

interface Labelled {
  name: string;
  m: Matrix;
  labels: Float64Array;
}

async function loadOdds(path: string, name: string): Promise<Labelled> {
  const table = await readCsvTable(path);
  const label = table.columns.find((c) => c.name === 'label');
  if (!label) throw new Error(`${path} has no label column`);
  const features = table.columns.filter((c) => c !== label);
  const cols = features.length;
  const data = new Float64Array(table.rows * cols);
  features.forEach((c, f) => {
    for (let r = 0; r < table.rows; r++) data[r * cols + f] = c.values[r]!;
  });
  return { name, m: { data, rows: table.rows, cols }, labels: label.values };
}

/** NSL-KDD: 41 features of which three are symbolic (protocol_type, service, flag); label 1 for any attack. */
const NSL_SYMBOLIC = new Set([1, 2, 3]);

function loadNslKdd(path: string): Labelled {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  const cols = 41 - NSL_SYMBOLIC.size;
  const data = new Float64Array(lines.length * cols);
  const labels = new Float64Array(lines.length);
  lines.forEach((line, r) => {
    const cells = line.split(',');
    let f = 0;
    for (let c = 0; c < 41; c++) if (!NSL_SYMBOLIC.has(c)) data[r * cols + f++] = Number(cells[c]);
    labels[r] = cells[41] === 'normal' ? 0 : 1;
  });
  return { name: 'nsl-kdd', m: { data, rows: lines.length, cols }, labels };
}

function runOurs(set: Labelled, seeds: number, rng: 'vigil' | 'sklearn'): { aucs: number[]; fits: number[]; scores: number[] } {
  const aucs: number[] = [];
  const fits: number[] = [];
  const scores: number[] = [];
  // scikit-learn computes on float32 copies of the data; so does the compatible mode, for fit and score alike.
  const m = rng === 'sklearn' ? { ...set.m, data: Float64Array.from(set.m.data, Math.fround) } : set.m;
  for (let seed = 0; seed < seeds; seed++) {
    let t = performance.now();
    const forest = IsolationForest.fit(m, { trees: 100, sampleSize: 256, seed, rng });
    fits.push((performance.now() - t) / 1000);
    t = performance.now();
    const s = forest.score(m);
    scores.push((performance.now() - t) / 1000);
    aucs.push(rocAuc(set.labels, s));
  }
  return { aucs, fits, scores };
}

/** scikit-learn, single-threaded, on the same file; the data is loaded before timing, as in the README. */
const SKLEARN = `
import sys, json, gzip, time, statistics
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
path, kind, seeds = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == 'odds':
    d = np.loadtxt(gzip.open(path, 'rt') if path.endswith('.gz') else path, delimiter=',', skiprows=1)
    X, y = d[:, :-1], d[:, -1]
else:
    rows = [l.rstrip('\\n').split(',') for l in open(path) if l.strip()]
    X = np.array([[float(v) for i, v in enumerate(r[:41]) if i not in (1, 2, 3)] for r in rows])
    y = np.array([0 if r[41] == 'normal' else 1 for r in rows])
aucs, fits, scores = [], [], []
for seed in range(seeds):
    t = time.perf_counter(); f = IsolationForest(n_estimators=100, max_samples=256, random_state=seed, n_jobs=1).fit(X); fits.append(time.perf_counter() - t)
    t = time.perf_counter(); s = -f.score_samples(X); scores.append(time.perf_counter() - t)
    aucs.append(roc_auc_score(y, s))
print(json.dumps({'auc_mean': statistics.mean(aucs), 'auc_std': statistics.stdev(aucs) if len(aucs) > 1 else 0, 'fit_s': statistics.median(fits), 'score_s': statistics.median(scores)}))
`;

export function sklearnAvailable(): boolean {
  if (!existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0;
}

function runSklearn(path: string, kind: 'odds' | 'nsl', seeds: number): { auc_mean: number; auc_std: number; fit_s: number; score_s: number } | undefined {
  const single = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const result = spawnSync('/usr/bin/python3', ['-c', SKLEARN, path, kind, String(seeds)], { encoding: 'utf8', env: { ...process.env, ...single }, maxBuffer: 1 << 20 });
  if (result.status !== 0) {
    console.error(`bench:iforest: scikit-learn failed on ${path}: ${result.stderr.slice(-500)}`);
    return undefined;
  }
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as { auc_mean: number; auc_std: number; fit_s: number; score_s: number };
}

export interface IforestBenchOptions {
  root: string;
  seeds: number;
  /** Measure scikit-learn in the same run when it is installed. */
  sklearn: boolean;
  onRow?: (row: IforestRow) => void;
}

export async function benchIforest(options: IforestBenchOptions): Promise<IforestRow[]> {
  const oddsDir = join(options.root, 'odds');
  const reference = readOddsReference(readFileSync(join(oddsDir, 'README.md'), 'utf8'));
  const files = readdirSync(oddsDir).filter((f) => /\.csv(\.gz)?$/.test(f)).sort((a, b) => a.localeCompare(b));
  const withSklearn = options.sklearn && sklearnAvailable();
  // Warm the JIT on a small set first: the times below are of compiled code, as scikit-learn's are.
  const warm = await loadOdds(join(oddsDir, files[0]!), 'warm-up');
  runOurs(warm, 10, 'vigil');
  runOurs(warm, 10, 'sklearn');
  const rows: IforestRow[] = [];
  const sets: { path: string; kind: 'odds' | 'nsl'; load: () => Promise<Labelled> }[] = files.map((file) => ({
    path: join(oddsDir, file),
    kind: 'odds',
    load: () => loadOdds(join(oddsDir, file), file.replace(/\.csv(\.gz)?$/, '')),
  }));
  const nsl = join(options.root, 'nsl-kdd', 'KDDTrain+_20Percent.txt');
  if (existsSync(nsl)) sets.push({ path: nsl, kind: 'nsl', load: async () => loadNslKdd(nsl) });
  for (const { path, kind, load } of sets) {
    const set = await load();
    const ours = runOurs(set, options.seeds, 'vigil');
    const compatible = runOurs(set, options.seeds, 'sklearn');
    const ref = reference.get(set.name);
    const measured = withSklearn ? runSklearn(path, kind, options.seeds) : undefined;
    const row: IforestRow = {
      dataset: set.name,
      rows: set.m.rows,
      features: set.m.cols,
      auc_mean: mean(compatible.aucs),
      auc_std: sampleStd(compatible.aucs),
      vigil_rng_auc_mean: mean(ours.aucs),
      vigil_rng_auc_std: sampleStd(ours.aucs),
      fit_s: median(ours.fits),
      score_s: median(ours.scores),
      paper_auc: ref?.paper ?? null,
      sklearn_auc_mean: measured?.auc_mean ?? ref?.aucMean ?? null,
      sklearn_auc_std: measured?.auc_std ?? ref?.aucStd ?? null,
      sklearn_fit_s: measured?.fit_s ?? ref?.fit ?? null,
      sklearn_score_s: measured?.score_s ?? ref?.score ?? null,
      sklearn_source: measured ? 'measured' : ref ? 'readme' : null,
    };
    rows.push(row);
    options.onRow?.(row);
  }
  return rows;
}

export function iforestTable(rows: IforestRow[], reference: Map<string, Reference> | undefined): Record<string, string>[] {
  const f = (x: number | null, d = 4) => (x === null ? '-' : x.toFixed(d));
  const ratio = (a: number | null, b: number) => (a === null || b <= 0 ? '-' : `${(a / b).toFixed(1)}x`);
  return rows.map((r) => {
    const readme = reference?.get(r.dataset);
    return {
      dataset: r.dataset,
      rows: String(r.rows),
      'AUC, sklearn seeding': `${f(r.auc_mean)} ± ${f(r.auc_std)}`,
      'AUC, Vigil seeding': `${f(r.vigil_rng_auc_mean)} ± ${f(r.vigil_rng_auc_std)}`,
      'AUC sklearn': r.sklearn_auc_mean === null ? '-' : `${f(r.sklearn_auc_mean)} ± ${f(r.sklearn_auc_std)}`,
      '|Δ| vs README': readme ? `${f(Math.abs(r.auc_mean - readme.aucMean))} / ${f(Math.abs(r.vigil_rng_auc_mean - readme.aucMean))}` : '-',
      paper: f(r.paper_auc, 2),
      'fit s': f(r.fit_s),
      'score s': f(r.score_s),
      [`sklearn fit s (${r.sklearn_source ?? '-'})`]: f(r.sklearn_fit_s),
      'sklearn score s': f(r.sklearn_score_s),
      'fit speed-up': ratio(r.sklearn_fit_s, r.fit_s),
      'score speed-up': ratio(r.sklearn_score_s, r.score_s),
    };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const json = process.argv.includes('--json');
  const seedsAt = process.argv.indexOf('--seeds');
  const seeds = seedsAt > 0 ? Number(process.argv[seedsAt + 1]) : 5;
  if (!Number.isInteger(seeds) || seeds < 1) {
    console.error('--seeds must be a positive integer');
    process.exit(2);
  }
  const root = datasetsRoot();
  const sklearn = !process.argv.includes('--no-sklearn');
  if (!json) {
    console.log(`\n== Isolation Forest: ROC AUC over seeds 0-${seeds - 1} (100 trees, ψ = 256), fit and score seconds (median) ==`);
    console.log(sklearn && sklearnAvailable() ? 'scikit-learn measured in this run (n_jobs=1, one BLAS thread)' : 'scikit-learn figures from the ODDS README (python3-sklearn not installed for /usr/bin/python3)');
  }
  const rows = await benchIforest({ root, seeds, sklearn, ...(json ? { onRow: (row: IforestRow) => console.log(JSON.stringify(row)) } : {}) });
  if (!json) console.table(iforestTable(rows, readOddsReference(readFileSync(join(root, 'odds', 'README.md'), 'utf8'))));
}
