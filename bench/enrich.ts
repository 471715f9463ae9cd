// µs per event of the enrichment stage — GeoIP from the bundled database plus a 100,000-indicator feed — over real
// sshd and access-log events, next to the same loop over the same events without enrichment. Medians of several runs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { geoipSchema, threatIntelSchema } from '../src/config/enrich.js';
import { systemClock } from '../src/core/clock.js';
import type { EcsEvent } from '../src/core/event.js';
import { Enrichment } from '../src/enrich/index.js';
import { parseLine } from '../src/parsers/index.js';
import { normalizeLine } from '../src/pipeline/normalize.js';
import { datasetsRoot, median } from './datasets.js';

export interface EnrichRow {
  input: string;
  events: number;
  /** Share of events with an address that matched the feed. */
  matched: number;
  baseline_us: number;
  enriched_us: number;
  added_us: number;
}

const BATCH = 2000;

/** The real lines of a file, parsed and normalized as the pipeline does, repeated up to `count` events. */
function events(file: string, format: string, count: number): () => EcsEvent[] {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const ingested = new Date().toISOString();
  return () => {
    const out: EcsEvent[] = [];
    for (let i = 0; out.length < count; i++) {
      const line = lines[i % lines.length]!;
      out.push(normalizeLine(line, parseLine(line, format, { now: Date.now(), year: 2024 }), { format, input: 'bench' }, ingested, false).event);
    }
    return out;
  };
}

/** A synthetic feed of 100,000 indicators: addresses, blocks, domains and hashes, a few of them seen in the data. */
function syntheticFeed(path: string, seen: string[]): void {
  const out: string[] = [];
  let x = 2463534242;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const ip = () => `${1 + (rand() % 223)}.${rand() % 256}.${rand() % 256}.${rand() % 256}`;
  for (const s of seen) out.push(s);
  while (out.length < 60_000) out.push(ip());
  while (out.length < 80_000) out.push(`${1 + (rand() % 223)}.${rand() % 256}.${rand() % 256}.0/${16 + (rand() % 9)}`);
  while (out.length < 95_000) out.push(`host${rand().toString(36)}.example${rand() % 100}.net`);
  while (out.length < 100_000) out.push((rand().toString(16) + rand().toString(16) + rand().toString(16) + rand().toString(16)).padEnd(32, '0').slice(0, 32));
  writeFileSync(path, out.join('\n') + '\n');
}

/** Collects garbage before each timed loop, so that one side does not pay for the other's garbage. */
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

function time(batches: EcsEvent[][], each: (batch: EcsEvent[]) => void): number {
  collect();
  const started = performance.now();
  for (const batch of batches) each(batch);
  return performance.now() - started;
}

export async function benchEnrich(options: { events: number; runs: number; root?: string }): Promise<EnrichRow[]> {
  const root = options.root ?? datasetsRoot();
  const inputs = [
    { input: 'sshd (loghub OpenSSH)', file: join(root, 'loghub/OpenSSH/OpenSSH_2k.log'), format: 'sshd' },
    { input: 'sshd (elastic-examples auth.log)', file: join(root, 'auth-ssh/elastic-examples_auth.log'), format: 'sshd' },
    { input: 'access log (elastic-examples apache)', file: join(root, 'web-access/elastic-examples_apache_access.log'), format: 'nginx' },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-enrich-'));
  const rows: EnrichRow[] = [];
  try {
    for (const { input, file, format } of inputs) {
      const make = events(file, format, options.events);
      // 1% of the distinct addresses of the data are listed, so matches (and tagging) are part of the cost.
      const addresses = [...new Set(make().map((e) => e.source?.ip).filter((v): v is string => typeof v === 'string'))];
      const feed = join(dir, `${format}.txt`);
      syntheticFeed(feed, addresses.filter((_, i) => i % 100 === 0));
      const enrichment = new Enrichment({ geoip: geoipSchema.parse({}), threat_intel: threatIntelSchema.parse({ feeds: [{ name: 'synthetic', path: feed, refresh_minutes: 0 }] }) }, { clock: systemClock });
      await enrichment.start();
      if (enrichment.feeds.index.size < 100_000) throw new Error(`feed loaded ${enrichment.feeds.index.size} indicators`);
      const baseline: number[] = [];
      const enriched: number[] = [];
      let matched = 0;
      let withIp = 0;
      for (let run = 0; run < options.runs; run++) {
        const a = make();
        const b = make();
        const batches = (list: EcsEvent[]) => Array.from({ length: Math.ceil(list.length / BATCH) }, (_, i) => list.slice(i * BATCH, (i + 1) * BATCH));
        // The same loop without enrichment: visit each event and read its address, as any stage would.
        let sink = 0;
        baseline.push(time(batches(a), (batch) => {
          for (const e of batch) if (e.source?.ip) sink++;
        }));
        enriched.push(time(batches(b), (batch) => enrichment.stage.process(batch)));
        if (sink < 0) console.log(sink);
        if (run === 0) {
          withIp = b.filter((e) => e.source?.ip).length;
          matched = b.filter((e) => e.threat !== undefined).length;
        }
      }
      await enrichment.close();
      const n = options.events;
      const baseUs = (median(baseline) * 1000) / n;
      const enrUs = (median(enriched) * 1000) / n;
      rows.push({ input, events: n, matched: withIp > 0 ? matched / withIp : 0, baseline_us: baseUs, enriched_us: enrUs, added_us: enrUs - baseUs });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchEnrich({ events: Number(process.env.BENCH_EVENTS ?? 200_000), runs: Number(process.env.BENCH_RUNS ?? 5) });
  console.table(rows);
}
