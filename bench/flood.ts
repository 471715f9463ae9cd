// `npm run flood`: a million events, each from a new source address, through the real detection state (built-in
// rules, the anomaly detectors' entity windows, alerts and incidents) at the default caps. Prints the largest state
// seen against each cap and the evictions counted, and exits 1 when a cap was exceeded or evictions went uncounted.
// Options: --events N (default 1,000,000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFlood } from '../src/detect/flood.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

const events = option('--events', 1_000_000);
// The configuration's defaults: rules.max_groups_per_rule, ml max_entities, and the alert and incident caps.
const caps = { maxGroupsPerRule: 10_000, maxEntities: 10_000, maxAlerts: 100_000, maxIncidents: 20_000 };
const dir = mkdtempSync(join(tmpdir(), 'vigil-flood-'));
const int = (x: number) => Math.round(x).toLocaleString('en-US');
try {
  const report = await runFlood({
    events,
    dataDir: dir,
    ...caps,
    sampleEvery: 50_000,
    onProgress: (done) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${int(done)} / ${int(events)} events`);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const rows = [
    { state: 'correlation groups (largest rule)', largest: report.rules.largestGroups, cap: report.rules.groupLimit, evictions: report.rules.evictions, 'evictions in /metrics': report.evictionMetrics.rules ?? 0 },
    ...Object.entries(report.models).map(([id, m]) => ({ state: `${id} entities (held by windows: ${int(m.held)})`, largest: Math.max(m.entities, m.held), cap: m.limit, evictions: m.evicted, 'evictions in /metrics': report.evictionMetrics[`model:${id}`] ?? 0 })),
    { state: 'alerts', largest: report.alerts.largest, cap: report.alerts.limit, evictions: 0, 'evictions in /metrics': 0 },
    { state: 'incidents (largest index)', largest: Math.max(report.incidents.largest, report.incidents.largestIndex), cap: report.incidents.limit, evictions: 0, 'evictions in /metrics': 0 },
  ];
  console.log(`\n== Flood: ${int(report.events)} events from ${int(report.events)} distinct source addresses, ${int(report.detections)} detections, ${report.seconds.toFixed(1)} s ==`);
  console.table(rows.map((r) => ({ ...r, largest: int(r.largest), cap: int(r.cap), evictions: int(r.evictions), 'evictions in /metrics': int(r['evictions in /metrics']), within: r.largest <= r.cap ? 'yes' : 'NO' })));
  const counted = rows.every((r) => r.evictions === r['evictions in /metrics']);
  const within = rows.every((r) => r.largest <= r.cap);
  const evicted = report.rules.evictions > 0 && (report.models['source-ip']?.evicted ?? 0) > 0;
  console.log(`caps held: ${within ? 'PASS' : 'FAIL'}; evictions counted in /metrics: ${counted && evicted ? 'PASS' : 'FAIL'}`);
  process.exitCode = within && counted && evicted ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
