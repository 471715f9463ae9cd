// `npm run bench`: the benchmark table — pipeline throughput against the bare floor, parse shares on real logs,
// and search latencies over 1M and 10M stored events. Medians of several runs; `--quick` skips the 10M store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetsRoot } from './datasets.js';
import { benchPipeline } from './pipeline.js';
import { measureParseShares } from './parse-shares.js';
import { benchSearch } from './search.js';
import { benchEnrich } from './enrich.js';

const quick = process.argv.includes('--quick');
const root = datasetsRoot();
const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);
const int = (x: number) => Math.round(x).toLocaleString('en-US');

console.log('\n== Pipeline: events/s into the store (parse, normalize, durable DuckDB append), median of 3 runs ==');
const pipelineRows = await benchPipeline({ lines: 200_000, runs: 3, root });
console.table(
  pipelineRows.map((r) => ({
    input: r.input,
    lines: int(r.lines),
    'pipeline events/s': int(r.pipeline_eps),
    'floor lines/s (read+split+JSON.parse)': int(r.floor_eps),
    'pipeline / floor': r.ratio.toFixed(3),
  })),
);

console.log('\n== Parsing real logs: share of lines in their dataset with the fields extracted ==');
const shares = await measureParseShares(root);
console.table(
  shares.map((r) => ({ file: r.file, lines: r.lines, dataset: r.dataset, 'in dataset': pct(r.inDataset), 'source ip': pct(r.withIp), user: pct(r.withUser), status: pct(r.withStatus), url: pct(r.withUrl) })),
);

console.log('\n== Enrichment: µs per event, GeoIP + a 100,000-indicator feed, against the same loop without it (median of 5 runs) ==');
const enrichRows = await benchEnrich({ events: 200_000, runs: 5, root });
console.table(
  enrichRows.map((r) => ({
    input: r.input,
    events: int(r.events),
    'feed matches': pct(r.matched),
    'loop µs/event': r.baseline_us.toFixed(3),
    'with enrichment µs/event': r.enriched_us.toFixed(3),
    'added µs/event': r.added_us.toFixed(3),
    goal: '< 2',
  })),
);

for (const events of quick ? [1_000_000] : [1_000_000, 10_000_000]) {
  console.log(`\n== Search over ${int(events)} stored events (median of 5 runs) ==`);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-search-'));
  try {
    const rows = await benchSearch({ events, dir, runs: 5 });
    console.table(rows.map((r) => ({ step: r.step, value: `${r.unit === 'ms' ? r.value.toFixed(1) : int(r.value)} ${r.unit}`, goal: r.goal, detail: r.detail })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
