// `vigil iforest FILE.csv`: fits an Isolation Forest on the numeric columns of any CSV (plain or gzipped) and writes
// one anomaly score per row, in order; or scores with a saved model. A summary on stderr, or as JSON with --json.
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { VigilError } from '../core/errors.js';
import { readCsvTable, type CsvColumn, type CsvTable } from '../detect/ml/csv-table.js';
import { IsolationForest } from '../detect/ml/iforest/forest.js';
import { forestToBinary, forestToJson, parseForest } from '../detect/ml/iforest/serialize.js';
import { rocAuc } from '../detect/ml/metrics.js';
import { quantile } from '../detect/ml/models/calibration.js';

export interface IforestOptions {
  exclude?: string[];
  label?: string;
  trees: string;
  sampleSize: string;
  seed: string;
  rng?: 'vigil' | 'sklearn';
  missing: 'error' | 'median';
  out?: string;
  json?: boolean;
  saveModel?: string;
  model?: string;
}

export interface IforestSummary {
  file: string;
  rows: number;
  features: string[];
  skipped_columns: { column: string; reason: string }[];
  constant_columns: string[];
  imputed_values: number;
  trees: number;
  sample_size: number;
  seed: number;
  read_s: number;
  fit_s: number;
  score_s: number;
  scores: { min: number; p50: number; p90: number; p99: number; max: number };
  auc?: number;
  warnings: string[];
  out?: string;
}

function positiveInt(text: string, name: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new VigilError('bad_request', `${name} must be an integer of at least ${min}, got "${text}"`);
  return n;
}

/** A column named by its header or by its 1-based position. */
function findColumn(table: CsvTable, ref: string, option: string): CsvColumn {
  const byName = table.columns.find((c) => c.name === ref);
  if (byName) return byName;
  if (/^\d+$/.test(ref)) {
    const byIndex = table.columns[Number(ref) - 1];
    if (byIndex) return byIndex;
  }
  throw new VigilError('bad_request', `${option} ${ref}: no such column (columns: ${table.columns.map((c) => c.name).join(', ')})`);
}

function median(values: Float64Array): number {
  const finite = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  return finite.length === 0 ? 0 : quantile(finite, 0.5);
}

/** Everything but reading the file and writing the scores: selection, bad values, fit or load, score. */
export function runIforest(table: CsvTable, file: string, opts: IforestOptions, onScoreProgress?: (done: number) => void): { scores: Float64Array; summary: IforestSummary; forest: IsolationForest } {
  const trees = positiveInt(opts.trees, '--trees');
  const sampleSize = positiveInt(opts.sampleSize, '--sample-size');
  const seed = positiveInt(opts.seed, '--seed', 0);
  if (table.rows === 0) throw new VigilError('bad_request', `${file} has no data rows`);
  const excluded = new Set((opts.exclude ?? []).map((ref) => findColumn(table, ref, '--exclude')));
  const label = opts.label === undefined ? undefined : findColumn(table, opts.label, '--label');
  if (label) excluded.add(label);
  const skipped: { column: string; reason: string }[] = [];
  const warnings: string[] = [];
  const features: CsvColumn[] = [];
  for (const column of table.columns) {
    if (excluded.has(column)) {
      skipped.push({ column: column.name, reason: column === label ? 'label' : 'excluded' });
      continue;
    }
    if (!column.numeric) {
      skipped.push({ column: column.name, reason: `not numeric (e.g. "${column.example ?? ''}")` });
      continue;
    }
    if (column.missing === table.rows) {
      skipped.push({ column: column.name, reason: 'every value missing' });
      continue;
    }
    features.push(column);
  }
  if (features.length === 0) throw new VigilError('bad_request', `${file}: no numeric columns left to fit on (${skipped.map((s) => `${s.column}: ${s.reason}`).join('; ')})`);
  let imputed = 0;
  for (const column of features) {
    const bad = column.missing + column.infinite;
    if (bad === 0) continue;
    if (opts.missing === 'error') {
      throw new VigilError(
        'bad_request',
        `${file}: row ${column.firstBadRow}, column ${column.name} is ${column.missing > 0 ? 'missing (empty or NaN)' : 'infinite'} (${bad} such values in that column); use --missing median to impute, or --exclude "${column.name}"`,
        { location: `row ${column.firstBadRow}, column ${column.name}` },
      );
    }
    const m = median(column.values);
    for (let r = 0; r < table.rows; r++) if (!Number.isFinite(column.values[r]!)) column.values[r] = m;
    imputed += bad;
    warnings.push(`column ${column.name}: ${bad} missing or infinite values replaced by the median ${m}`);
  }
  const cols = features.length;
  const data = new Float64Array(table.rows * cols);
  for (let f = 0; f < cols; f++) {
    const values = features[f]!.values;
    for (let r = 0, i = f; r < table.rows; r++, i += cols) data[i] = values[r]!;
  }
  const constant = features.filter((c) => {
    const v = c.values;
    for (let r = 1; r < v.length; r++) if (v[r] !== v[0]) return false;
    return true;
  });
  if (constant.length > 0) warnings.push(`constant columns cannot isolate anything and are never split on: ${constant.map((c) => c.name).join(', ')}`);
  const m = { data, rows: table.rows, cols };

  let forest: IsolationForest;
  let fitSeconds = 0;
  if (opts.model) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(opts.model);
    } catch (err) {
      throw new VigilError('not_found', `cannot read the model ${opts.model}: ${(err as Error).message}`);
    }
    forest = parseForest(bytes, opts.model);
    if (forest.features !== cols) throw new VigilError('bad_request', `the model ${opts.model} expects ${forest.features} features; ${file} has ${cols} numeric columns (${features.map((c) => c.name).join(', ')})`);
  } else {
    if (table.rows < sampleSize) warnings.push(`${table.rows} rows is fewer than the sample size ${sampleSize}: each tree uses all rows`);
    const started = performance.now();
    if (opts.rng === 'sklearn') {
      // scikit-learn reads the values as float32: so does its compatible mode, for fit and score alike.
      for (let i = 0; i < data.length; i++) data[i] = Math.fround(data[i]!);
    }
    forest = IsolationForest.fit(m, { trees, sampleSize, seed, rng: opts.rng ?? 'vigil' });
    fitSeconds = (performance.now() - started) / 1000;
  }
  const started = performance.now();
  const scores = new Float64Array(table.rows);
  const CHUNK = 65536;
  for (let r = 0; r < table.rows; r += CHUNK) {
    const end = Math.min(table.rows, r + CHUNK);
    forest.score({ data: data.subarray(r * cols, end * cols), rows: end - r, cols }, scores.subarray(r, end));
    onScoreProgress?.(end);
  }
  const scoreSeconds = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(scores).sort();
  const summary: IforestSummary = {
    file,
    rows: table.rows,
    features: features.map((c) => c.name),
    skipped_columns: skipped,
    constant_columns: constant.map((c) => c.name),
    imputed_values: imputed,
    trees: forest.params.trees,
    sample_size: forest.params.sampleSize,
    seed: forest.params.seed,
    read_s: 0,
    fit_s: fitSeconds,
    score_s: scoreSeconds,
    scores: { min: sorted[0]!, p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1]! },
    warnings,
  };
  if (label) {
    const labels = label.values;
    const distinct = new Set(Array.from(labels));
    if ([...distinct].every((v) => v === 0 || v === 1)) summary.auc = rocAuc(labels, scores);
    else warnings.push(`--label ${label.name} is not 0/1, so no AUC`);
  }
  return { scores, summary, forest };
}

async function writeScores(scores: Float64Array, out: string | undefined): Promise<void> {
  const stream = out ? createWriteStream(out) : process.stdout;
  const LINES = 8192;
  for (let i = 0; i < scores.length; i += LINES) {
    let chunk = '';
    const end = Math.min(scores.length, i + LINES);
    for (let j = i; j < end; j++) chunk += `${scores[j]}\n`;
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  if (out) {
    (stream as NodeJS.WritableStream).end();
    await once(stream, 'finish');
  }
}

export function iforestCommand(): Command {
  return new Command('iforest')
    .description('Fit an Isolation Forest on the numeric columns of a CSV (plain or gzipped) and write one anomaly score per row')
    .argument('<file>', 'CSV file, with a header row (or none, when the first row is all numbers); .gz or plain')
    .option('--exclude <column...>', 'columns to leave out (names or 1-based positions)')
    .option('--label <column>', 'a 0/1 column to leave out of the fit and report the ROC AUC against (1 = anomaly)')
    .option('--trees <n>', 'number of trees', '100')
    .option('--sample-size <n>', 'rows sampled per tree (ψ); with fewer rows, all of them', '256')
    .option('--seed <n>', 'random seed: the same file, options and seed give the same scores', '0')
    .addOption(new Option('--rng <generator>', "random streams: Vigil's own, or scikit-learn 1.2's (seed s then gives IsolationForest(random_state=s)'s scores, on float32 values)").choices(['vigil', 'sklearn']).default('vigil'))
    .addOption(new Option('--missing <policy>', 'empty, NaN or infinite cells: stop with an error, or replace by the column median').choices(['error', 'median']).default('error'))
    .option('--out <file>', 'write the scores here instead of standard output')
    .option('--json', 'print a JSON summary on standard output (the scores then go only to --out)')
    .option('--save-model <file>', 'save the fitted forest (JSON when the name ends in .json, else the binary form)')
    .option('--model <file>', 'score with a saved forest instead of fitting one')
    .addHelpText(
      'after',
      `
Scores are in (0, 1]: 2^(-mean path length / c(sample size)) as in Liu, Ting & Zhou (2008) and scikit-learn;
near 1 is anomalous, below 0.5 ordinary. Columns with text are skipped; constant columns are kept but never split on.

Examples:
  vigil iforest data.csv > scores.txt
  vigil iforest data.csv.gz --exclude id timestamp --out scores.txt --json
  vigil iforest odds/http.csv.gz --label label --seed 1 --json --out /dev/null
  vigil iforest train.csv --save-model model.iforest && vigil iforest new.csv --model model.iforest`,
    )
    .action(async (file: string, opts: IforestOptions) => {
      const showProgress = process.stderr.isTTY === true && !opts.json;
      const bar = new cliProgress.SingleBar(
        { format: 'iforest {task} [{bar}] {percentage}% | ETA {eta_formatted}', hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      const started = performance.now();
      if (showProgress) bar.start(1, 0, { task: 'read ' });
      let table: CsvTable;
      try {
        table = await readCsvTable(file, (bytes, total) => {
          if (showProgress) {
            bar.setTotal(Math.max(1, total));
            bar.update(bytes);
          }
        });
      } finally {
        if (showProgress) bar.stop();
      }
      const readSeconds = (performance.now() - started) / 1000;
      if (showProgress) bar.start(Math.max(1, table.rows), 0, { task: 'score' });
      let result: ReturnType<typeof runIforest>;
      try {
        result = runIforest(table, file, opts, (done) => showProgress && bar.update(done));
      } finally {
        if (showProgress) bar.stop();
      }
      const { scores, summary, forest } = result;
      summary.read_s = readSeconds;
      if (opts.saveModel) {
        writeFileSync(opts.saveModel, opts.saveModel.endsWith('.json') ? JSON.stringify(forestToJson(forest)) : forestToBinary(forest));
      }
      if (opts.out) summary.out = opts.out;
      if (opts.out || !opts.json) await writeScores(scores, opts.out);
      if (opts.json) {
        console.log(JSON.stringify(summary));
        return;
      }
      for (const warning of summary.warnings) console.error(`vigil iforest: ${warning}`);
      const skipped = summary.skipped_columns.length > 0 ? `; skipped ${summary.skipped_columns.map((s) => `${s.column} (${s.reason})`).join(', ')}` : '';
      console.error(
        `vigil iforest: ${summary.rows} rows, ${summary.features.length} features${skipped}; ${summary.trees} trees of ${summary.sample_size} samples; ` +
          `fit ${summary.fit_s.toFixed(3)} s, score ${summary.score_s.toFixed(3)} s${summary.auc !== undefined ? `; ROC AUC ${summary.auc.toFixed(4)}` : ''}`,
      );
    });
}
