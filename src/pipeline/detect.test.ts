// The detection stage in a real Vigil: each detection's arrival-to-detection time is recorded, from the event that
// completed it (vigil_detection_latency_seconds), and detections name that event's address; detection runs before
// the write, and a sender's retry is not counted twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertManager } from '../alerts/manager.js';
import { parseConfig } from '../config/config.js';
import { ManualClock } from '../core/clock.js';
import { Telemetry } from '../core/telemetry.js';
import { RuleEngine, ruleEngineOptions } from '../detect/rules/engine.js';
import { openStore } from '../store/index.js';
import { parseQuery } from '../store/query/parse.js';
import type { EventStore } from '../store/types.js';
import { startTestVigil } from '../testing/runtime.js';
import { DetectStage } from './detect.js';
import { Pipeline, type EventSink } from './pipeline.js';

/** count and sum of a Prometheus histogram in the exposition text. */
function histogram(text: string, name: string): { count: number; sum: number } {
  const read = (suffix: string) => Number(new RegExp(`^${name}${suffix} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { count: read('_count'), sum: read('_sum') };
}

test('every detection is timed from the arrival of the event that triggered it', async () => {
  const vigil = await startTestVigil();
  try {
    const before = histogram(await (await vigil.call('/metrics')).text(), 'vigil_detection_latency_seconds');
    assert.equal(before.count, 0);
    const line = (ip: string, target: string) => `${ip} - - [20/Jan/2025:10:00:00 +0000] "GET ${target} HTTP/1.1" 200 512 "-" "Mozilla/5.0"`;
    // One batch: two attacks from two addresses among ordinary requests, then a brute force completed in a second batch.
    const lines = [line('198.51.100.1', '/'), line('198.51.100.2', "/products?id=1'%20OR%20'1'='1"), line('198.51.100.3', '/about'), line('198.51.100.4', '/search?q=%3Cscript%3Ealert(1)%3C/script%3E')];
    const started = Date.now();
    let response = await vigil.call('/api/v1/events?format=nginx', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: lines.join('\n') });
    assert.equal(response.status, 200);
    const failures = Array.from({ length: 10 }, (_, i) => `Jan 20 10:00:${String(i).padStart(2, '0')} gw sshd[${100 + i}]: Failed password for root from 203.0.113.9 port ${40000 + i} ssh2`);
    response = await vigil.call('/api/v1/events?format=sshd', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: failures.join('\n') });
    assert.equal(response.status, 200);
    await vigil.runtime.pipeline.idle();
    const elapsed = (Date.now() - started) / 1000;
    const alerts = vigil.runtime.alerts.list({ limit: 100 }).alerts;
    assert.deepEqual(alerts.map((a) => a.entity?.value).sort(), ['198.51.100.2', '198.51.100.4', '203.0.113.9']);
    const after = histogram(await (await vigil.call('/metrics')).text(), 'vigil_detection_latency_seconds');
    // One observation per detection (not one per batch), each within the time the requests took.
    assert.equal(after.count, 3);
    assert.ok(after.sum >= 0 && after.sum <= 3 * elapsed, `sum ${after.sum} s, requests took ${elapsed} s`);
    for (const a of alerts) assert.deepEqual(a.related.ip, [a.entity!.value]);
  } finally {
    await vigil.close();
  }
});

/** The real store, its writes held until `open()`: a write stalled by a checkpoint, or by a slow disk. */
function gatedStore(store: EventStore): { sink: EventSink; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return { sink: { append: async (events, options) => (await gate, store.append(events, options)) }, open };
}

test('detection does not wait for the store: the alert is raised while its events are still being written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-detect-'));
  const store = await openStore({ engine: 'duckdb', dir });
  const clock = new ManualClock(Date.parse('2025-01-20T10:01:00Z'));
  const telemetry = new Telemetry();
  const rules = await RuleEngine.load({ ...ruleEngineOptions(parseConfig({}).rules), watch: false, clock });
  const alerts = new AlertManager({ dataDir: dir, clock });
  const { sink, open } = gatedStore(store);
  const pipeline = new Pipeline({ store: sink, clock, telemetry, maxQueueEvents: 10_000, maxLineBytes: 4096 });
  pipeline.addStage(new DetectStage({ detectors: [rules], alerts, ingest: pipeline, telemetry, clock }));
  try {
    const failures = Array.from({ length: 10 }, (_, i) => `Jan 20 10:00:${String(i).padStart(2, '0')} gw sshd[${100 + i}]: Failed password for root from 203.0.113.9 port ${40000 + i} ssh2`);
    const acknowledged = pipeline.ingestLines(failures, { input: 'test', format: 'sshd' });
    let answered = false;
    void acknowledged.then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(alerts.list({ limit: 10 }).alerts.map((a) => a.entity?.value), ['203.0.113.9'], 'raised before the write');
    assert.equal(answered, false, 'the sender is answered only once the events are stored');
    assert.equal((await store.search({ query: parseQuery('source.ip:203.0.113.9'), limit: 1 })).total, 0);
    open();
    assert.equal((await acknowledged).accepted, 10);
    await pipeline.idle();
    assert.equal((await store.search({ query: parseQuery('source.ip:203.0.113.9 AND event.dataset:sshd'), limit: 1 })).total, 10);
    assert.equal((await store.search({ query: parseQuery('event.dataset:vigil.alert'), limit: 1 })).total, 1, 'the detection is stored as an event too');
  } finally {
    open();
    await pipeline.close();
    rules.close();
    alerts.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a retried batch of sender-identified events is detected on once, as it is stored once', async () => {
  const vigil = await startTestVigil();
  try {
    const docs = Array.from({ length: 6 }, (_, i) => ({
      '@timestamp': `2025-01-20T10:00:0${i}.000Z`,
      event: { id: `agent-7-${i}`, dataset: 'sshd', action: 'ssh_login', outcome: 'failure', category: ['authentication'] },
      source: { ip: '203.0.113.77' },
      user: { name: 'root' },
      message: `Failed password for root from 203.0.113.77 port ${40000 + i} ssh2`,
    }));
    const post = (batch: unknown[]) => vigil.call('/api/v1/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: batch.map((d) => JSON.stringify(d)).join('\n') });
    // Six failures, then the same six again (the sender did not see the answer): ten would be a brute force.
    assert.equal((await post(docs)).status, 200);
    assert.equal((await post(docs)).status, 200);
    await vigil.runtime.pipeline.idle();
    assert.equal((await vigil.runtime.store.search({ query: parseQuery('source.ip:203.0.113.77 AND event.dataset:sshd'), limit: 1 })).total, 6);
    assert.deepEqual(vigil.runtime.alerts.list({ limit: 10 }).alerts.filter((a) => a.entity?.value === '203.0.113.77'), []);
    // Four new ones make ten: now it fires.
    assert.equal((await post(docs.slice(0, 4).map((d, i) => ({ ...d, event: { ...d.event, id: `agent-7-${6 + i}` } })))).status, 200);
    await vigil.runtime.pipeline.idle();
    assert.equal(vigil.runtime.alerts.list({ limit: 10 }).alerts.filter((a) => a.entity?.value === '203.0.113.77').length, 1);
  } finally {
    await vigil.close();
  }
});
