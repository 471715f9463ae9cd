// `npm run bench`: the benchmark table — pipeline throughput against the bare floor, parse shares on real logs,
// web attack detection quality, rule evaluation throughput, the Isolation Forest against scikit-learn, search latencies
// over 1M and 10M stored events, the host collectors' CPU and memory, the dashboard's load time, and its live stream
// at 10,000 events/s. Medians of several runs; `--quick` skips the 10M store and shortens the collectors' run. With
// nats-server installed, also the events/s of each role through NATS JetStream beside single-process Vigil (bench/bus.ts).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetsRoot } from './datasets.js';
import { benchDetect, printDetect } from './detect.js';
import { benchPipeline } from './pipeline.js';
import { benchRules } from './rules.js';
import { measureParseShares } from './parse-shares.js';
import { benchSearch } from './search.js';
import { benchDashboard } from './dashboard.js';
import { benchStream, printStream } from './stream.js';
import { CHROMIUM } from '../test/ui/browser.js';
import { benchIforest, iforestTable, readOddsReference } from './iforest.js';
import { benchCollectors } from './collectors.js';
import { benchEnrich } from './enrich.js';
import { benchLatency, printLatency } from './latency.js';
import { benchBus, printBus } from './bus.js';
import { natsServerAvailable } from '../src/testing/nats.js';

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

if (natsServerAvailable()) {
  console.log('\n== Bus: events/s per role through NATS JetStream (one nats-server), beside single-process Vigil on the same lines, median of 3 runs ==');
  printBus(await benchBus({ lines: quick ? 50_000 : 100_000, runs: 3, root }));
}

console.log('\n== Parsing real logs: share of lines in their dataset with the fields extracted ==');
const shares = await measureParseShares(root);
console.table(
  shares.map((r) => ({ file: r.file, lines: r.lines, dataset: r.dataset, 'in dataset': pct(r.inDataset), 'source ip': pct(r.withIp), user: pct(r.withUser), status: pct(r.withStatus), url: pct(r.withUrl) })),
);

console.log('\n== Rules: events/s of rule evaluation alone (built-in + SigmaHQ rules loaded), next to a bare loop, median of 5 runs ==');
const rules = await benchRules({ root, events: 100_000, runs: 5 });
console.log(`rules: ${rules.compiled} compiled (${rules.active} active, ${rules.inactive} inactive), ${rules.rejected} rejected`);
console.table(
  rules.rows.map((r) => ({ input: r.input, events: int(r.events), 'rules events/s': int(r.rules_eps), 'per CPU second': int(r.rules_cpu_eps), 'floor events/s (bare loop)': int(r.floor_eps), 'rules / floor': r.ratio.toFixed(4), detections: r.detections })),
);
printDetect(benchDetect(root, { runs: 3 }));
console.log('\n== Detection latency: send → alert at 10,000 events/s through HTTP and syslog TCP, a real vigil process (3 runs of 20 s) ==');
printLatency(await benchLatency({ root, rate: 10_000, seconds: quick ? 10 : 20, runs: 3 }));

if (process.platform === 'linux') {
  console.log(`\n== Host collectors at their default intervals for ${quick ? 20 : 60} s: CPU and memory, side by side with idle Node (medians) ==`);
  const collectors = await benchCollectors(quick ? { seconds: 20, warmupSeconds: 3, windowSeconds: 5 } : { seconds: 60, warmupSeconds: 5, windowSeconds: 10 });
  console.table(collectors.rows.map((r) => ({ process: r.process, 'CPU % of one core': r.cpu_pct_of_core.toFixed(2), 'RSS MB': r.rss_mb.toFixed(1), events: r.events, goal: r.process.startsWith('the collectors') ? '< 2 % and < 60 MB' : '' })));
}
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

// The dashboard: Overview load time in Chromium over the same synthetic events (skipped without Debian chromium).
if (existsSync(CHROMIUM)) {
  const events = quick ? 1_000_000 : 10_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-dashboard-'));
  try {
    console.log(`\n== Dashboard over ${int(events)} stored events: Overview load in Chromium until every panel is drawn (median of 5) ==`);
    const rows = await benchDashboard({ events, dir, runs: 5 });
    console.table(rows.map((r) => ({ view: r.view, 'events in range': int(r.events_in_range), 'median ms': r.median_ms, goal: '< 1000 ms' })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
// The live stream: what a dashboard receives, and the Overview's frame times, while 10,000 events/s are sent.
if (existsSync(CHROMIUM)) {
  console.log(`\n== Live stream while 10,000 events/s are sent for ${quick ? 10 : 20} s: messages and bytes the page receives, its frame times in Chromium ==`);
  printStream(await benchStream({ rate: 10_000, seconds: quick ? 10 : 20 }));
}
console.log('\n== Isolation Forest (ODDS, NSL-KDD): ROC AUC over seeds 0-4, fit and score seconds (median), beside scikit-learn ==');
const iforestRows = await benchIforest({ root, seeds: 5, sklearn: !quick });
console.table(iforestTable(iforestRows, readOddsReference(readFileSync(join(root, 'odds', 'README.md'), 'utf8'))));
