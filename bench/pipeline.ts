// Events/s through the whole pipeline (parse, normalize, durable store) for real sshd and nginx lines, next to the
// floor any Node ingest pays over the same lines: read, split and JSON.parse a JSON form of each.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import { Telemetry } from '../src/core/telemetry.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { openStore } from '../src/store/index.js';
import { datasetsRoot, median } from './datasets.js';

export interface PipelineRow {
  input: string;
  lines: number;
  pipeline_eps: number;
  floor_eps: number;
  ratio: number;
}

const BATCH = 2000;
const IN_FLIGHT = 16;

/** Repeats the real lines up to `count`, so runs are long enough to measure. */
export function corpus(file: string, count: number, unwrap = false): string {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
    .filter((l) => l.length > 0)
    .map((l) => (unwrap && l.startsWith('"') && l.endsWith('"') ? l.slice(1, -1) : l));
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) out.push(lines[i % lines.length]!);
  return out.join('\n') + '\n';
}

/** The floor: read the file, split it into lines, JSON.parse a JSON form of each line. */
function floor(path: string, jsonPath: string): number {
  const started = performance.now();
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const json = readFileSync(jsonPath, 'utf8').split('\n');
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.length === 0) continue;
    const doc = JSON.parse(json[i]!) as { message: string };
    if (doc.message.length >= 0) n++;
  }
  return n / ((performance.now() - started) / 1000);
}

async function throughput(path: string, format: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const store = await openStore({ engine: 'duckdb', dir });
  const pipeline = new Pipeline({ store, clock: systemClock, telemetry: new Telemetry(), maxQueueEvents: 200_000, maxLineBytes: 65536 });
  try {
    const started = performance.now();
    const lines = readFileSync(path, 'utf8').split('\n');
    const inFlight = new Set<Promise<unknown>>();
    let n = 0;
    for (let i = 0; i < lines.length; i += BATCH) {
      const batch = lines.slice(i, i + BATCH).filter((l) => l.length > 0);
      n += batch.length;
      const p = pipeline.ingestLines(batch, { format, input: 'bench' });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return n / ((performance.now() - started) / 1000);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchPipeline(options: { lines: number; runs: number; root?: string }): Promise<PipelineRow[]> {
  const root = options.root ?? datasetsRoot();
  const work = mkdtempSync(join(tmpdir(), 'vigil-bench-lines-'));
  const inputs = [
    { input: 'sshd syslog (loghub OpenSSH)', file: join(root, 'loghub/OpenSSH/OpenSSH_2k.log'), format: 'sshd', unwrap: false },
    { input: 'nginx/apache combined (web-access)', file: join(root, 'web-access/elastic-examples_apache_access.log'), format: 'nginx', unwrap: false },
  ];
  const rows: PipelineRow[] = [];
  try {
    for (const { input, file, format, unwrap } of inputs) {
      const text = corpus(file, options.lines, unwrap);
      const path = join(work, `${format}.log`);
      const jsonPath = join(work, `${format}.json`);
      writeFileSync(path, text);
      writeFileSync(jsonPath, text.split('\n').map((line) => (line ? JSON.stringify({ '@timestamp': '2024-01-01T00:00:00Z', message: line }) : '')).join('\n'));
      const ours: number[] = [];
      const floors: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        floors.push(floor(path, jsonPath));
        ours.push(await throughput(path, format));
      }
      const pipelineEps = median(ours);
      const floorEps = median(floors);
      rows.push({ input, lines: options.lines, pipeline_eps: Math.round(pipelineEps), floor_eps: Math.round(floorEps), ratio: pipelineEps / floorEps });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchPipeline({ lines: Number(process.env.BENCH_LINES ?? 200_000), runs: Number(process.env.BENCH_RUNS ?? 3) });
  console.table(rows);
}
