// Messages of the wrong shape on the bus's subjects (anyone with access to NATS can publish there): each is counted
// and skipped, and the partition and the store intake go on with the messages after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../config/config.js';
import { startRoles } from '../pipeline/roles.js';
import { natsServerAvailable, startNats } from '../testing/nats.js';
import { Bus, SUBJECTS } from './connection.js';
import { readAnalyzedMessage, readRawMessage } from './codec.js';

const skip = natsServerAvailable() ? false : 'nats-server is not installed (scripts/test.sh installs it as root)';
const text = (s: string) => new TextEncoder().encode(s);
const event = { '@timestamp': '2025-01-20T10:00:00Z', event: { id: 'e1', dataset: 'sshd' } };

test('the readers say what is wrong with a message', () => {
  assert.equal(readRawMessage(text(JSON.stringify({ e: [event], u: [0] }))).ok, true);
  assert.equal(readRawMessage(text(JSON.stringify({ h: [{ k: 'a', r: 'b', f: 0, t: 1, s: 'x', i: 'e1', d: {} }] }))).ok, true);
  const bad: [string, string][] = [
    ['{"e":', 'not_json'],
    ['null', 'bad_shape'],
    ['[1]', 'bad_shape'],
    ['{"e":"x"}', 'bad_shape'],
    ['{"e":[{"event":{}}]}', 'bad_shape'],
    [JSON.stringify({ e: [{ event: { id: 'e1' }, '@timestamp': 'yesterday' }] }), 'bad_shape'],
    [JSON.stringify({ e: [event], u: [1] }), 'bad_shape'],
    ['{"h":[{"k":1}]}', 'bad_shape'],
  ];
  for (const [body, reason] of bad) {
    const read = readRawMessage(text(body));
    assert.equal(read.ok, false, body);
    if (!read.ok) assert.equal(read.reason, reason, body);
  }
  const detection = { id: 'e1', detection: { source: { id: 'r', title: 'R', kind: 'sigma' }, severity: 'high', timestamp: '2025-01-20T10:00:00Z', reason: 'x', evidence: ['e0'] } };
  assert.equal(readAnalyzedMessage(text(JSON.stringify({ e: [event], d: [detection] }))).ok, true);
  for (const body of ['{}', '{"e":[],"d":{}}', JSON.stringify({ e: [event], d: [{ ...detection, id: 'elsewhere' }] }), JSON.stringify({ e: [event], d: [{ id: 'e1', detection: {} }] }), JSON.stringify({ e: [event], a: 2 })]) {
    assert.equal(readAnalyzedMessage(text(body)).ok, false, body);
  }
});

test('messages of the wrong shape on the raw and analyzed subjects are counted and skipped, never stored', { skip, timeout: 120_000 }, async (t) => {
  const nats = await startNats();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bus-invalid-'));
  const busConfig = { servers: [nats.url], partitions: 2, lease_seconds: 2 };
  const config = parseConfig({ host: '127.0.0.1', port: 0, syslog: { port: 0 }, collect: false, files: { enabled: false }, ml: { enabled: false }, data_dir: dir, bus: busConfig });
  const roles = await startRoles(config, ['ingest', 'analyze', 'store']);
  const stranger = await Bus.connect(config.bus!, 'stranger');
  t.after(async () => {
    await stranger.close();
    await roles.close();
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const call = (path: string, init: RequestInit = {}) => fetch(roles.url + path, { ...init, headers: { authorization: `Bearer ${roles.firstStart!.token}`, ...(init.headers as Record<string, string>) } });

  // Garbage first, on every partition and on the analyzed subject; then a real attack behind it.
  const raw = ['{"e":', 'null', '{"e":"x"}', '{"e":[{"event":{}}]}', '{"h":[{"k":1}]}'];
  for (let p = 0; p < 2; p++) for (const body of raw) await stranger.publish(SUBJECTS.raw(p), body);
  const analyzed = ['{"e":', JSON.stringify({ e: [{ message: 'no id, no time' }] }), JSON.stringify({ e: [event], d: [{ id: 'e1', detection: { severity: 'high' } }] })];
  for (const body of analyzed) await stranger.publish(SUBJECTS.analyzed, body);

  const now = Date.now();
  const attack = Array.from({ length: 12 }, (_, i) =>
    JSON.stringify({ '@timestamp': new Date(now - (12 - i) * 1000).toISOString(), event: { dataset: 'sshd', action: 'ssh_login', outcome: 'failure', category: ['authentication'] }, user: { name: 'root' }, source: { ip: '203.0.113.50' }, message: 'Failed password for root from 203.0.113.50 port 50022 ssh2' }),
  ).join('\n');
  const sent = await call('/api/v1/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: attack });
  assert.equal(sent.status, 200);

  const deadline = Date.now() + 60_000;
  while (roles.runtime!.alerts.list({ limit: 10 }).total === 0) {
    if (Date.now() > deadline) throw new Error('the attack behind the garbage was not detected');
    await new Promise((r) => setTimeout(r, 200));
  }
  const search = async (q: string) => ((await (await call(`/api/v1/events?q=${encodeURIComponent(q)}&from=2000-01-01`)).json()) as { total: number }).total;
  assert.equal(await search('event.dataset:sshd'), 12);
  assert.equal(await search('"no id, no time" OR event.id:e1'), 0, 'nothing of the garbage stored');
  assert.equal(roles.analyze!.stats.invalid, raw.length * 2);
  assert.equal(roles.intake!.stats.invalid, analyzed.length);
  const analyzeMetrics = await roles.analyze!.options.telemetry.metrics();
  assert.match(analyzeMetrics, /vigil_bus_invalid_messages_total\{stream="VIGIL_RAW",reason="bad_shape"\} 8/);
  assert.match(analyzeMetrics, /vigil_bus_invalid_messages_total\{stream="VIGIL_RAW",reason="not_json"\} 2/);
  const metrics = await (await call('/metrics')).text();
  assert.match(metrics, /vigil_bus_invalid_messages_total\{stream="VIGIL_ANALYZED",reason="bad_shape"\} 2/);
  assert.match(metrics, /vigil_bus_invalid_messages_total\{stream="VIGIL_ANALYZED",reason="not_json"\} 1/);
});
