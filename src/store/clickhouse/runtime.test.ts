// A whole Vigil on the ClickHouse engine (`store: chdb`, ClickHouse embedded): ingest, Elasticsearch bulk retries,
// search, aggregations, detections stored as events, health, and a restart, all through the real API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestVigil, type TestVigil } from '../../testing/runtime.js';
import { parseConfig } from '../../config/config.js';

const BRUTE_FORCE = readFileSync(fileURLToPath(new URL('../../../rules/auth/brute-force.match.ndjson', import.meta.url)), 'utf8');

const dataDir = mkdtempSync(join(tmpdir(), 'vigil-ch-runtime-'));
const start = (): Promise<TestVigil> => startTestVigil({ store: 'chdb', retention: { max_age_days: 90 } }, { dataDir });
let vigil: TestVigil;

before(async () => {
  vigil = await start();
});
after(async () => {
  await vigil.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function search(q: string): Promise<{ total: number; events: Record<string, any>[] }> {
  const response = await vigil.call(`/api/v1/events?q=${encodeURIComponent(q)}&limit=100`);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as { total: number; events: Record<string, any>[] };
}

test('events sent to a Vigil on ClickHouse are stored, searched, aggregated and detected on', async () => {
  const health = (await (await vigil.call('/api/v1/health', { token: null })).json()) as { status: string; store: { engine: string; events: number } };
  assert.deepEqual([health.status, health.store.engine], ['ok', 'clickhouse']);

  const sent = await vigil.call('/api/v1/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: BRUTE_FORCE });
  assert.equal(sent.status, 200, await sent.clone().text());
  const accepted = ((await sent.json()) as { accepted: number }).accepted;
  assert.ok(accepted >= 10);
  assert.equal((await search('event.dataset:sshd AND source.ip:203.0.113.0/24')).total, accepted);

  // A shipper's retry through the Elasticsearch API carries the same `_id`s: stored once.
  const bulk = ['{"index":{"_index":"app","_id":"bulk-1"}}', '{"message":"from a shipper","@timestamp":"2025-01-20T11:00:00Z"}', ''].join('\n');
  for (let i = 0; i < 2; i++) {
    const response = await vigil.call('/es/_bulk', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: bulk });
    assert.equal(response.status, 200);
  }
  assert.equal((await search('"from a shipper"')).total, 1);

  const top = (await (await vigil.call('/api/v1/events/top?field=source.ip&q=event.dataset:sshd')).json()) as { values: { value: string }[] };
  assert.equal(top.values[0]?.value, '203.0.113.9');
  const histogram = (await (await vigil.call('/api/v1/events/histogram?q=event.dataset:sshd')).json()) as { buckets: { count: number }[] };
  assert.equal(histogram.buckets.reduce((n, b) => n + b.count, 0), accepted);

  // The brute-force correlation fires; its alert is stored as an event in ClickHouse like any other.
  let alerts = 0;
  for (let i = 0; i < 100 && alerts === 0; i++) {
    alerts = (await search('event.kind:alert AND event.dataset:vigil.alert')).total;
    if (alerts === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(alerts >= 1, 'an alert was stored');

  // Stopped and started again, Vigil finds everything in ClickHouse (in DATA_DIR/chdb).
  // (Each start and stop also writes a record of its own to the audit trail.)
  const everything = 'NOT event.dataset:vigil.audit';
  const total = (await search(everything)).total;
  await vigil.close();
  vigil = await start();
  assert.equal((await search(everything)).total, total);
});

test('the store configuration: a URL, or an object with the password kept apart', () => {
  assert.equal(parseConfig({}).store.url, 'duckdb');
  assert.equal(parseConfig({ store: 'clickhouse://vigil@ch-1:8123/vigil' }).store.url, 'clickhouse://vigil@ch-1:8123/vigil');
  const object = parseConfig({ store: { url: 'clickhouses://ch-1/vigil', password_env: 'CLICKHOUSE_PASSWORD', settings: { insert_quorum: 'auto' } } });
  assert.deepEqual([object.store.password_env, object.store.settings], ['CLICKHOUSE_PASSWORD', { insert_quorum: 'auto' }]);
  assert.throws(() => parseConfig({ store: 'mysql://root:hunter2@db/x' }), (err: unknown) => /store\.url/.test(String(err)) && !/hunter2/.test(String(err)));
});
