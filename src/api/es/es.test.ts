// The Elasticsearch-compatible API driven by the official @elastic/elasticsearch client, as shippers use it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@elastic/elasticsearch';
import { startTestVigil, type TestVigil } from '../../testing/runtime.js';

let vigil: TestVigil;
let client: Client;

before(async () => {
  vigil = await startTestVigil();
  const ingestToken = vigil.runtime.credentials.createToken('es shipper', 'ingest').token;
  client = new Client({ node: `${vigil.url}/es`, auth: { bearer: ingestToken } });
});
after(async () => {
  await client.close();
  await vigil.close();
});

async function search(q: string): Promise<{ total: number; events: Record<string, any>[] }> {
  const response = await vigil.call(`/api/v1/events?q=${encodeURIComponent(q)}&limit=1000`);
  return (await response.json()) as { total: number; events: Record<string, any>[] };
}

describe('Elasticsearch-compatible ingest', () => {
  test('cluster info passes the client product check', async () => {
    const info = await client.info();
    assert.equal(info.version.number.split('.')[0], '8');
    assert.equal(info.tagline, 'You Know, for Search');
  });

  test('the bulk helper ships documents, raw lines included, and all are stored', async () => {
    const docs = [
      ...Array.from({ length: 150 }, (_, i) => ({ '@timestamp': new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), message: `app event ${i}`, labels: { shipper: 'bulk-helper' } })),
      { message: 'Jan  5 09:00:00 gw sshd[77]: Failed password for invalid user oracle from 203.0.113.50 port 41000 ssh2', labels: { shipper: 'bulk-helper' } },
    ];
    const stats = await client.helpers.bulk({
      datasource: docs,
      onDocument: () => ({ index: { _index: 'logs-app-default' } }),
      flushBytes: 4096,
    });
    assert.equal(stats.total, 151);
    assert.equal(stats.successful, 151);
    assert.equal(stats.failed, 0);
    const stored = await search('labels.shipper:bulk-helper');
    assert.equal(stored.total, 151);
    const sshd = await search('labels.shipper:bulk-helper AND event.dataset:sshd');
    assert.equal(sshd.total, 1);
    assert.equal(sshd.events[0]!.source.ip, '203.0.113.50');
    assert.equal(sshd.events[0]!.user.name, 'oracle');
    const app = await search('labels.shipper:bulk-helper AND event.dataset:logs-app-default');
    assert.equal(app.total, 150, 'the index names the dataset of documents that have none');
  });

  test('_id becomes event.id; the response has Elasticsearch shape', async () => {
    const response = await client.bulk({
      operations: [{ create: { _index: 'audit', _id: 'fixed-id-1' } }, { message: 'with an id', labels: { shipper: 'ids' } }],
    });
    assert.equal(response.errors, false);
    const item = response.items[0]!.create!;
    assert.equal(item._id, 'fixed-id-1');
    assert.equal(item.status, 201);
    assert.equal(item.result, 'created');
    const stored = await search('event.id:fixed-id-1');
    assert.equal(stored.total, 1);
  });

  test('per-item errors for bad sources, update and delete; the good items are stored', async () => {
    const body = [
      '{"index":{"_index":"mixed"}}',
      '{"message":"good one","labels":{"shipper":"mixed"}}',
      '{"index":{"_index":"mixed"}}',
      '{"message": broken json',
      '{"delete":{"_index":"mixed","_id":"x"}}',
      '{"update":{"_index":"mixed","_id":"y"}}',
      '{"doc":{"a":1}}',
      '{"index":{"_index":"mixed"}}',
      '[1,2,3]',
      '{"index":{"_index":"mixed"}}',
      '{"message":"good two","labels":{"shipper":"mixed"}}',
      '',
    ].join('\n');
    const response = await vigil.call('/es/_bulk', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-elastic-product'), 'Elasticsearch');
    const result = (await response.json()) as { errors: boolean; items: Record<string, { status: number; error?: { type: string } }>[] };
    assert.equal(result.errors, true);
    const statuses = result.items.map((item) => Object.values(item)[0]!.status);
    assert.deepEqual(statuses, [201, 400, 400, 400, 400, 201]);
    assert.deepEqual(result.items.map((item) => Object.keys(item)[0]), ['index', 'index', 'delete', 'update', 'index', 'index']);
    assert.equal((await search('labels.shipper:mixed')).total, 2);
  });

  test('a malformed action line fails the whole request with 400', async () => {
    const response = await vigil.call('/es/logs/_bulk', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"index":{}}\n{"message":"fine"}\nnot json\n' });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /line 3/);
  });

  test('setup calls of shippers are answered', async () => {
    const license = await vigil.call('/es/_license');
    assert.equal(license.status, 200);
    const put = await vigil.call('/es/_index_template/filebeat-8.19.0', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"index_patterns":["filebeat-*"]}' });
    assert.equal(((await put.json()) as { acknowledged: boolean }).acknowledged, true);
  });

  test('ApiKey auth as Filebeat sends it (base64 of id:key)', async () => {
    const key = Buffer.from(`vigil:${vigil.token}`).toString('base64');
    const response = await fetch(`${vigil.url}/es/`, { headers: { authorization: `ApiKey ${key}` } });
    assert.equal(response.status, 200);
  });
});
