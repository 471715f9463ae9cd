// Export as a user sees it: live from a running Vigil to a cluster, and `vigil export` backfilling history from the
// data directory and through a server, against a local stand-in cluster that records the requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bulkPairs, fakeCluster } from '../testing/fake-cluster.js';
import { runVigil } from '../testing/process.js';
import { startTestVigil } from '../testing/runtime.js';

const docs = [
  { '@timestamp': '2024-03-03T11:00:01Z', event: { dataset: 'sshd', outcome: 'failure' }, user: { name: 'root' }, source: { ip: '203.0.113.7' } },
  { '@timestamp': '2024-03-03T11:00:02Z', event: { dataset: 'sshd', outcome: 'failure' }, user: { name: 'admin' }, source: { ip: '203.0.113.7' } },
  { '@timestamp': '2024-03-03T11:00:03Z', event: { dataset: 'sshd', outcome: 'success' }, user: { name: 'bob' }, source: { ip: '198.51.100.2' } },
];

test('live export from a running Vigil, then vigil export backfills locally and through the server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-export-cli-'));
  const live = await fakeCluster('Elasticsearch');
  const backfill = await fakeCluster('Elasticsearch');
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'vigil.yaml');
  writeFileSync(configFile, `data_dir: ${dataDir}\nexport:\n  - { name: archive, urls: ["${backfill.url}"], live: false, index: "old-%{+yyyy.MM}" }\n`);
  let vigil = await startTestVigil({ export: [{ name: 'es', urls: [live.url], flush_interval_ms: 20 }] }, { dataDir });
  try {
    const ingest = await vigil.call('/api/v1/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: docs.map((d) => JSON.stringify(d)).join('\n') });
    assert.equal(ingest.status, 200);
    const ids = ((await ingest.json()) as { ids: string[] }).ids;
    // The server's start is on the audit trail (a vigil.audit event) and may have been exported first.
    const exported = () => live.requests.flatMap((r) => bulkPairs(r.body)).filter(([, doc]) => (doc as { event?: { dataset?: string } }).event?.dataset !== 'vigil.audit');
    for (let i = 0; i < 200 && exported().length < ids.length; i++) await new Promise((r) => setTimeout(r, 20));
    const sent = exported();
    assert.deepEqual(sent.map(([a]) => (a.index as { _id: string })._id), ids);
    assert.deepEqual(sent.map(([a]) => (a.index as { _index: string })._index), ['vigil-events-2024.03.03', 'vigil-events-2024.03.03', 'vigil-events-2024.03.03']);
    const health = (await (await vigil.call('/api/v1/health', { token: null })).json()) as { components: { export: { targets: { name: string; sent: number }[] } } };
    assert.equal(health.components.export.targets[0]!.name, 'es');

    // Through the server's search API.
    const viaServer = await runVigil(['export', 'archive', '--config', configFile, '--server', vigil.url, '--token', vigil.token, '--from', '2024-03-01', '--to', '2024-04-01', '--json']);
    assert.equal(viaServer.code, 0, viaServer.stderr);
    assert.deepEqual(JSON.parse(viaServer.stdout), { ...JSON.parse(viaServer.stdout), target: 'archive', events: 3, sent: 3, dead_lettered: 0 });
    assert.deepEqual(new Set(backfill.requests.flatMap((r) => bulkPairs(r.body).map(([a]) => (a.index as { _index: string })._index))), new Set(['old-2024.03']));

    // From the data directory, once the server has stopped; the query narrows what is sent.
    await vigil.close();
    backfill.requests.length = 0;
    const local = await runVigil(['export', 'archive', '--config', configFile, '--from', '2024-03-01', '--to', '2024-04-01', '--query', 'event.outcome:failure']);
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /exported 2 events to archive in [\d.]+ s: 2 written, 0 already there, 0 rejected/);
    assert.equal(backfill.requests.length, 1);
    const missing = await runVigil(['export', 'nope', '--config', configFile]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no export target named nope: configured are archive/);
    vigil = await startTestVigil({}, { dataDir });
  } finally {
    await vigil.close();
    live.server.close();
    backfill.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
