// `npm run bench:bus`: events/s of each role through NATS JetStream (a local nats-server, replicas 1) on real sshd
// and nginx lines — ingest (parse, normalize, publish), one analyze worker (enrich, rules, publish), the store
// (DuckDB append with id dedupe) — next to single-process Vigil (parse, normalize, enrich, store, rules) on the
// same lines in the same run. Each role is timed alone, so its rate is what one process (one core) of it does;
// `bus / single` compares one event's cost over the three roles with its cost in one process. Medians of runs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertManager } from '../src/alerts/manager.js';
import { AnalyzeWorker } from '../src/bus/analyze.js';
import { Bus, STREAMS, SUBJECTS } from '../src/bus/connection.js';
import { PartitionTable } from '../src/bus/leases.js';
import { BusSink } from '../src/bus/sink.js';
import { StoreIntake } from '../src/bus/store.js';
import { parseConfig, type Config } from '../src/config/config.js';
import { systemClock } from '../src/core/clock.js';
import { Telemetry } from '../src/core/telemetry.js';
import { RuleEngine, ruleEngineOptions } from '../src/detect/rules/engine.js';
import { Enrichment } from '../src/enrich/index.js';
import { DetectStage } from '../src/pipeline/detect.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { openStore } from '../src/store/index.js';
import { natsServerAvailable, startNats } from '../src/testing/nats.js';
import { datasetsRoot, median } from './datasets.js';
import { corpus } from './pipeline.js';

export interface BusRow {
  input: string;
  lines: number;
  single_eps: number;
  ingest_eps: number;
  analyze_eps: number;
  store_eps: number;
  /** One core running the three roles in turn: 1 / (1/ingest + 1/analyze + 1/store). */
  bus_eps: number;
  /** bus_eps / single_eps: below 1 is what the split costs per event. */
  ratio: number;
}

const BATCH = 2000;
const IN_FLIGHT = 16;
const PARTITIONS = 16;

async function feed(pipeline: Pipeline, lines: string[], format: string): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < lines.length; i += BATCH) {
    const p = pipeline.ingestLines(lines.slice(i, i + BATCH), { format, input: 'bench' });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await pipeline.idle();
}

async function until(check: () => Promise<boolean> | boolean, everyMs = 50): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, everyMs));
}

/** Single-process Vigil minus the API: enrichment and rules as stages, detections stored too. */
async function single(config: Config, lines: string[], format: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-single-'));
  const store = await openStore({ engine: 'duckdb', dir });
  const telemetry = new Telemetry();
  const enrichment = new Enrichment(config, { clock: systemClock, telemetry, env: {} });
  await enrichment.start();
  const rules = await RuleEngine.load({ ...ruleEngineOptions(config.rules), watch: false });
  const alerts = new AlertManager({ dataDir: dir, clock: systemClock, suppressionWindowMs: 3_600_000 });
  const pipeline = new Pipeline({ store, clock: systemClock, telemetry, maxQueueEvents: 200_000, maxLineBytes: 65536, stages: [enrichment.stage] });
  const detect = new DetectStage({ detectors: [rules, ...(enrichment.detector ? [enrichment.detector] : [])], alerts, ingest: pipeline, telemetry, clock: systemClock });
  pipeline.addStage(detect);
  try {
    const started = performance.now();
    await feed(pipeline, lines, format);
    await pipeline.idle(); // the detection events written last
    return lines.length / ((performance.now() - started) / 1000);
  } finally {
    rules.close();
    alerts.close();
    await enrichment.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The three roles over one nats-server, each timed alone on the whole corpus. */
async function overBus(lines: string[], format: string): Promise<{ ingest: number; analyze: number; store: number }> {
  const nats = await startNats();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-bus-'));
  const config = parseConfig({ data_dir: dir, ml: { enabled: false }, bus: { servers: [nats.url], partitions: PARTITIONS } });
  const bus = await Bus.connect(config.bus!);
  const telemetry = new Telemetry();
  const enrichment = new Enrichment(config, { clock: systemClock, telemetry, env: {} });
  await enrichment.start();
  const store = await openStore({ engine: 'duckdb', dir });
  try {
    await bus.setup();
    // Ingest: parse, normalize, partition, publish, acknowledged by JetStream.
    let started = performance.now();
    const ingest = new Pipeline({ store: new BusSink(bus), clock: systemClock, telemetry, maxQueueEvents: 200_000, maxLineBytes: 65536 });
    await feed(ingest, lines, format);
    const ingestEps = lines.length / ((performance.now() - started) / 1000);

    // One analyze worker holding every partition, until each checkpoint is at its partition's last message.
    const ruleOptions = ruleEngineOptions(config.rules);
    const worker = new AnalyzeWorker({
      bus,
      ruleEngine: () => RuleEngine.load({ ...ruleOptions, watch: false }),
      detectors: enrichment.detector ? [enrichment.detector] : [],
      stages: [enrichment.stage],
      telemetry,
      clock: systemClock,
      maxLineChars: 65536,
      log: () => undefined,
    });
    const table = new PartitionTable(bus, 'bench', 10_000);
    const raw = await bus.jsm.streams.get(STREAMS.raw.name);
    started = performance.now();
    await worker.start();
    await until(() => worker.stats.events >= lines.length);
    await until(async () => {
      for (let p = 0; p < PARTITIONS; p++) {
        const last = await raw.getMessage({ last_by_subj: SUBJECTS.raw(p) });
        if (last && ((await table.read(p)).record?.seq ?? 0) < last.seq) return false;
      }
      return true;
    }, 100);
    const analyzeEps = lines.length / ((performance.now() - started) / 1000);
    await worker.close();

    // The store: analyzed events and detections into DuckDB, each id checked against what is stored.
    const alerts = new AlertManager({ dataDir: dir, clock: systemClock, suppressionWindowMs: 3_600_000 });
    const pipeline = new Pipeline({ store, clock: systemClock, telemetry, maxQueueEvents: 200_000, maxLineBytes: 65536 });
    const intake = new StoreIntake({ bus, pipeline, onDetections: (d) => alerts.handle(d), log: () => undefined });
    const waiting = (await bus.jsm.streams.info(STREAMS.analyzed.name)).state.messages;
    started = performance.now();
    intake.start();
    await until(() => intake.stats.messages >= waiting);
    const storeEps = (intake.stats.events + intake.stats.duplicates) / ((performance.now() - started) / 1000);
    await intake.close();
    await pipeline.close();
    alerts.close();
    return { ingest: ingestEps, analyze: analyzeEps, store: storeEps };
  } finally {
    await bus.close();
    await enrichment.close();
    await store.close();
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchBus(options: { lines: number; runs: number; root?: string }): Promise<BusRow[]> {
  if (!natsServerAvailable()) throw new Error('bench:bus needs nats-server (apt-get install nats-server)');
  const root = options.root ?? datasetsRoot();
  const config = parseConfig({ ml: { enabled: false } });
  const work = mkdtempSync(join(tmpdir(), 'vigil-bench-bus-lines-'));
  const inputs = [
    { input: 'sshd syslog (loghub OpenSSH)', file: join(root, 'loghub/OpenSSH/OpenSSH_2k.log'), format: 'sshd' },
    { input: 'nginx/apache combined (web-access)', file: join(root, 'web-access/elastic-examples_apache_access.log'), format: 'nginx' },
  ];
  const rows: BusRow[] = [];
  try {
    for (const { input, file, format } of inputs) {
      const path = join(work, `${format}.log`);
      writeFileSync(path, corpus(file, options.lines));
      const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
      const s: number[] = [];
      const i: number[] = [];
      const a: number[] = [];
      const st: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        s.push(await single(config, lines, format));
        const bus = await overBus(lines, format);
        i.push(bus.ingest);
        a.push(bus.analyze);
        st.push(bus.store);
      }
      const row = { single: median(s), ingest: median(i), analyze: median(a), store: median(st) };
      const busEps = 1 / (1 / row.ingest + 1 / row.analyze + 1 / row.store);
      rows.push({
        input,
        lines: lines.length,
        single_eps: Math.round(row.single),
        ingest_eps: Math.round(row.ingest),
        analyze_eps: Math.round(row.analyze),
        store_eps: Math.round(row.store),
        bus_eps: Math.round(busEps),
        ratio: busEps / row.single,
      });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

export function printBus(rows: BusRow[]): void {
  const int = (x: number) => Math.round(x).toLocaleString('en-US');
  console.table(
    rows.map((r) => ({
      input: r.input,
      lines: int(r.lines),
      'single process events/s': int(r.single_eps),
      'ingest events/s': int(r.ingest_eps),
      'analyze events/s per worker': int(r.analyze_eps),
      'store events/s': int(r.store_eps),
      'bus, one core for all roles': int(r.bus_eps),
      'bus / single': r.ratio.toFixed(3),
    })),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('\n== Bus: events/s per role through NATS JetStream (one nats-server), beside single-process Vigil on the same lines, medians ==');
  printBus(await benchBus({ lines: Number(process.env.BENCH_LINES ?? 100_000), runs: Number(process.env.BENCH_RUNS ?? 3) }));
  process.exit(0);
}
