// A flood of distinct source addresses through the real detectors keeps every piece of detection state within its
// cap, and the evictions are counted (in the detectors and in /metrics). `npm run flood` runs the same with a million
// addresses; this test runs 120,000 with smaller caps, so that every cap overflows many times over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floodAddress, runFlood } from './flood.js';

test('a flood of distinct source addresses keeps detection state within its caps, with evictions counted', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-flood-'));
  try {
    const events = 120_000;
    const caps = { maxGroupsPerRule: 2000, maxEntities: 2000, maxAlerts: 300, maxIncidents: 300 };
    assert.equal(new Set(Array.from({ length: events }, (_, n) => floodAddress(n))).size, events, 'every event comes from a new address');
    const report = await runFlood({ events, dataDir: dir, ...caps, sampleEvery: 5000 });

    // Correlation groups: no rule ever held more than its cap; the overflow was evicted and counted.
    assert.equal(report.rules.largestGroups, caps.maxGroupsPerRule);
    // SSH failures (a third of the events) feed the per-address correlations: each new address beyond the cap evicts one.
    assert.ok(report.rules.evictions >= events / 3 - caps.maxGroupsPerRule, `${report.rules.evictions} evictions`);
    assert.equal(report.evictionMetrics.rules, report.rules.evictions, 'vigil_detection_state_evictions_total{detector="rules"}');

    // Entity windows per source address: at most the cap tracked, and nothing evicted still held by a window index.
    const sourceIp = report.models['source-ip']!;
    assert.equal(sourceIp.entities, caps.maxEntities);
    assert.ok(sourceIp.held <= caps.maxEntities, `${sourceIp.held} entity states held by open windows`);
    // Events span two minutes of event time (one per millisecond) and windows are one minute: nearly every address
    // beyond the cap in each window is evicted before its window closes.
    assert.ok(sourceIp.evicted >= events - 3 * caps.maxEntities, `${sourceIp.evicted} evicted`);
    assert.equal(report.evictionMetrics['model:source-ip'], sourceIp.evicted);
    for (const [id, m] of Object.entries(report.models)) assert.ok(m.entities <= m.limit && m.held <= m.limit, `${id}: ${JSON.stringify(m)}`);

    // Alerts (one SQL injection per 120 events, each from its own address) and incidents stay within theirs.
    assert.ok(report.detections >= events / 120 - 1, `${report.detections} detections`);
    assert.ok(report.alerts.largest <= caps.maxAlerts, JSON.stringify(report.alerts));
    assert.ok(report.incidents.largest <= caps.maxIncidents, JSON.stringify(report.incidents));
    assert.ok(report.incidents.largestIndex <= caps.maxIncidents, `incident indexes held ${report.incidents.largestIndex} entries for ${caps.maxIncidents} incidents`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
