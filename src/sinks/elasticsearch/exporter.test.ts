// Export against a local HTTP server that records the exact requests and answers as Elasticsearch's `_bulk` API
// documents (https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html): the NDJSON wire format,
// daily indices and data streams, partial failures (400 to the dead-letter file, 429 retried), a cluster that is
// down, a full queue, and a restart — with the real official clients and a real DuckDB store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportTargetSchema } from '../../config/export.js';
import type { EcsEvent } from '../../core/event.js';
import { openStore } from '../../store/index.js';
import { bulkPairs as pairs, fakeCluster } from '../../testing/fake-cluster.js';
import { testAlert } from '../testing.js';
import { EsExporter } from './exporter.js';
import { indexName } from './index-name.js';

const ev = (id: string, ts: string, ingested = '2024-05-03T10:00:00.000Z'): EcsEvent => ({ '@timestamp': ts, event: { id, dataset: 'sshd', ingested }, message: `event ${id}` });

test('daily index names', () => {
  const t = Date.parse('2024-05-01T23:59:59Z');
  assert.equal(indexName('vigil-events-%{+yyyy.MM.dd}', t), 'vigil-events-2024.05.01');
  assert.equal(indexName('logs-%{+yy}-%{+MM}-%{+dd}-%{+HH}', t), 'logs-24-05-01-23');
  assert.equal(indexName('plain', t), 'plain');
});

test('bulk wire format to Elasticsearch: daily indices, ids, NDJSON, partial failures retried or dead-lettered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-export-'));
  const cluster = await fakeCluster('Elasticsearch', [{ items: [201, [400, 'document_parsing_exception', '[1:42] failed to parse field [source.port] of type [long]'], [429, 'es_rejected_execution_exception', 'rejected execution of coordinating operation'], 200] }]);
  const config = exportTargetSchema.parse({ name: 'es', urls: [cluster.url], username: 'vigil', password_env: 'ES_PASSWORD', batch_size: 10 });
  const exporter = new EsExporter(config, { dataDir: dir, env: { ES_PASSWORD: 'pw-123' }, retryBaseMs: 10 });
  try {
    const events = [ev('e1', '2024-05-01T10:00:00.000Z'), ev('e2', '2024-05-01T11:00:00.000Z'), ev('e3', '2024-05-02T00:00:01.000Z'), ev('e4', '2024-05-02T10:00:00.000Z')];
    exporter.onStored(events);
    exporter.onAlert(testAlert());
    await exporter.flush();
    assert.equal(cluster.requests.length, 2);
    const first = cluster.requests[0]!;
    assert.equal(first.method, 'POST');
    assert.equal(first.path, '/_bulk');
    assert.equal(first.headers['content-type'], 'application/x-ndjson');
    assert.equal(first.headers.authorization, `Basic ${Buffer.from('vigil:pw-123').toString('base64')}`);
    const sent = pairs(first.body);
    assert.deepEqual(sent.map(([action]) => action), [
      { index: { _index: 'vigil-events-2024.05.01', _id: 'e1' } },
      { index: { _index: 'vigil-events-2024.05.01', _id: 'e2' } },
      { index: { _index: 'vigil-events-2024.05.02', _id: 'e3' } },
      { index: { _index: 'vigil-events-2024.05.02', _id: 'e4' } },
      { index: { _index: 'vigil-alerts', _id: 'a1' } },
    ]);
    assert.deepEqual(sent[0]![1], events[0]);
    const alertDoc = sent[4]![1] as { event: { kind: string; severity: number }; rule: { name: string }; source: { ip: string } };
    assert.deepEqual([alertDoc.event.kind, alertDoc.event.severity, alertDoc.rule.name, alertDoc.source.ip], ['alert', 3, 'SSH brute force', '203.0.113.7']);
    // The retry carries only the document refused with 429.
    assert.deepEqual(pairs(cluster.requests[1]!.body).map(([action]) => action), [{ index: { _index: 'vigil-events-2024.05.02', _id: 'e3' } }]);
    const dead = readFileSync(exporter.deadLetterPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; status: number; index: string; error: { type: string; reason: string }; document: EcsEvent });
    assert.equal(dead.length, 1);
    assert.deepEqual([dead[0]!.id, dead[0]!.status, dead[0]!.index, dead[0]!.error.type], ['e2', 400, 'vigil-events-2024.05.01', 'document_parsing_exception']);
    assert.match(dead[0]!.error.reason, /failed to parse field \[source.port\]/);
    assert.deepEqual(dead[0]!.document, events[1]);
    const status = exporter.status();
    assert.deepEqual([status.sent, status.dead_lettered, status.retries, status.exported_through], [4, 1, 1, '2024-05-03T10:00:00.000Z']);
  } finally {
    await exporter.close();
    cluster.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('data streams get create operations; 409 means already there; OpenSearch through its own client', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-export-'));
  const cluster = await fakeCluster(null, [{ items: [201, [409, 'version_conflict_engine_exception', '[e2]: version conflict, document already exists']] }]);
  const config = exportTargetSchema.parse({ name: 'os', kind: 'opensearch', urls: [cluster.url], data_stream: 'logs-vigil-default', alerts_index: '' });
  const exporter = new EsExporter(config, { dataDir: dir, retryBaseMs: 10 });
  try {
    exporter.onStored([ev('e1', '2024-05-01T10:00:00.000Z'), ev('e2', '2024-05-01T10:00:01.000Z')]);
    exporter.onAlert(testAlert()); // alerts_index is empty: alerts are not exported
    await exporter.flush();
    assert.equal(cluster.requests.length, 1);
    assert.equal(cluster.requests[0]!.headers['content-type'], 'application/x-ndjson');
    assert.deepEqual(pairs(cluster.requests[0]!.body).map(([a]) => a), [{ create: { _index: 'logs-vigil-default', _id: 'e1' } }, { create: { _index: 'logs-vigil-default', _id: 'e2' } }]);
    assert.deepEqual([exporter.status().sent, exporter.status().duplicates, exporter.status().dead_lettered], [1, 1, 0]);
    assert.equal(existsSync(exporter.deadLetterPath), false);
  } finally {
    await exporter.close();
    cluster.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cluster that is down or a full queue: the exporter falls behind and reads the events back from the store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-export-'));
  const store = await openStore({ engine: 'duckdb', dir: join(dir, 'store') });
  // 503 twice (retried), then down for good (max_retries 2 → three attempts), then up.
  const cluster = await fakeCluster('Elasticsearch', [{ status: 503, headers: { 'retry-after': '0' } }, { status: 503 }, { status: 429 }]);
  const config = exportTargetSchema.parse({ name: 'es', urls: [cluster.url], max_retries: 2, max_queue_events: 100, batch_size: 50 });
  const stored = async (events: EcsEvent[]) => {
    await store.append(events);
    exporter.onStored(events);
  };
  let exporter = new EsExporter(config, { dataDir: dir, store, retryBaseMs: 5, pauseMs: 60_000 });
  try {
    exporter.start();
    await stored([ev('d1', '2024-05-01T10:00:00.000Z', '2024-05-03T10:00:00.000Z'), ev('d2', '2024-05-01T10:00:01.000Z', '2024-05-03T10:00:00.000Z')]);
    await exporter.pump();
    assert.equal(cluster.requests.length, 3);
    let status = exporter.status();
    assert.equal(status.sent, 0);
    assert.deepEqual(status.behind, [{ from: '2024-05-03T10:00:00.000Z', to: '2024-05-03T10:00:00.000Z' }]);
    assert.match(status.last_error!, /HTTP 429/);
    // While behind, live events are not queued but noted, and 150 at once would not fit the queue anyway.
    const many = Array.from({ length: 150 }, (_, i) => ev(`m${i}`, '2024-05-01T12:00:00.000Z', `2024-05-03T10:00:0${1 + (i % 5)}.000Z`));
    await stored(many);
    status = exporter.status();
    assert.equal(status.queued, 0);
    assert.deepEqual(status.behind, [{ from: '2024-05-03T10:00:00.000Z', to: '2024-05-03T10:00:05.000Z' }]);
    // Restart while behind: the span survives in the state file.
    await exporter.close();
    exporter = new EsExporter(config, { dataDir: dir, store, retryBaseMs: 5 });
    assert.equal(exporter.status().behind.length, 1);
    await exporter.flush();
    const ids = new Set(cluster.requests.slice(3).flatMap((r) => pairs(r.body).map(([a]) => (a.index as { _id: string })._id)));
    assert.equal(ids.size, 152);
    assert.ok(ids.has('d1') && ids.has('m149'));
    status = exporter.status();
    assert.deepEqual(status.behind, []);
    assert.equal(status.sent, 152);
    // Back to live export.
    await stored([ev('live1', '2024-05-01T13:00:00.000Z', '2024-05-03T11:00:00.000Z')]);
    await exporter.flush();
    assert.deepEqual(pairs(cluster.requests.at(-1)!.body).map(([a]) => (a.index as { _id: string })._id), ['live1']);
  } finally {
    await exporter.close();
    await store.close();
    cluster.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
