import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { runs } from '../../testing/fuzz.js';
import { markedQueries } from '../../testing/queries.js';
import { ManualClock } from '../../core/clock.js';
import { VigilError } from '../../core/errors.js';
import { runStoreContract } from '../contract.js';
import { parseQuery } from '../query/parse.js';
import { SqlParams, compileQuery } from './compile.js';
import { openDuckDbStore } from './store.js';
import { documentJson, eventColumns, restoreDocument } from './rows.js';
import { COLUMN_ORDER, DETACHED_STRINGS } from './schema.js';
import type { EcsEvent } from '../../core/event.js';

const root = mkdtempSync(join(tmpdir(), 'vigil-duckdb-'));
after(() => rmSync(root, { recursive: true, force: true }));

runStoreContract('duckdb', (slot) =>
  openDuckDbStore({ dir: join(root, slot), threads: 2, memoryLimit: '512MB', clock: new ManualClock(Date.parse('2024-06-01T00:00:00Z')) }),
);

test('a kill -9 right after append resolved loses nothing; a later interrupted append is all or nothing', async () => {
  const dir = join(root, 'crash');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./testdata/append-child.ts', import.meta.url)), dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('APPENDED\n')) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`child exited before appending: ${stderr}`)));
  });
  assert.equal(await exited, 'SIGKILL');
  const store = await openDuckDbStore({ dir });
  try {
    const acked = await store.top({ query: { type: 'all' }, field: 'event.id', size: 1 });
    const all = await store.search({ query: { type: 'all' }, limit: 0 });
    const ackedCount = await store.search({ query: { type: 'term', field: 'event.id', value: 'acked-*', phrase: false, wildcard: true }, limit: 0 });
    assert.equal(ackedCount.total, 500);
    assert.ok(acked.total >= 500);
    // Batches after the marker are 500 events each: whole or absent.
    assert.equal(all.total % 500, 0, `total ${all.total}`);
    // The rollup counts exactly what the events hold, whatever the kill interrupted (once checked on opening).
    await store.stats();
    const datasets = await store.top({ query: { type: 'all' }, field: 'event.dataset', size: 10 });
    assert.equal(datasets.total, all.total);
    for (const { value, count } of datasets.values) {
      assert.equal(count, (await store.search({ query: parseQuery(`event.dataset:"${value}"`), limit: 0 })).total, value);
    }
  } finally {
    await store.close();
  }
});

test('compiled SQL carries user values only as parameters', () => {
  const marker = 'QZXV';
  const tree = markedQueries(marker);
  fc.assert(
    fc.property(tree, (node) => {
      const params = new SqlParams();
      let sql: string;
      try {
        sql = compileQuery(node, params);
      } catch (err) {
        // A value the field cannot hold (`@timestamp:QZXV`) is the user's mistake, reported as such.
        assert.ok(err instanceof VigilError && err.id === 'bad_query', String(err));
        return;
      }
      assert.ok(!sql.includes(marker), sql);
      // Every field name in the SQL passed validation: no quote can close the JSON path literal.
      for (const match of sql.matchAll(/'\$\.([^']*)'/g)) assert.match(match[1]!, /^"[A-Za-z0-9_@.\-"]*"$/);
      assert.equal(params.values.length, (sql.match(/\$\d+/g) ?? []).reduce((max, p) => Math.max(max, Number(p.slice(1))), 0));
    }),
    { numRuns: runs(2000) },
  );
});

test('hot strings are stored once, in their columns, and come back in place; the event itself is left as it was', () => {
  const frozenUser = Object.freeze({ name: 'frozen' });
  const event = {
    '@timestamp': '2024-05-01T10:00:00Z',
    event: { id: 'e1', dataset: 'nginx.access', original: 'GET / 200' },
    http: { request: { method: 'GET', bytes: 10 }, response: { status_code: 200 } },
    user: frozenUser,
    source: { ip: 42, port: 1 },
    log: { level: null },
    message: 'hello',
  } as unknown as EcsEvent;
  const before = JSON.stringify(event);
  const json = documentJson(event);
  assert.equal(JSON.stringify(event), before, 'the event is unchanged');
  const stored = JSON.parse(json) as Record<string, Record<string, unknown>>;
  assert.equal(stored.http!.request && (stored.http!.request as Record<string, unknown>).method, null);
  assert.equal(stored.event!.dataset, null);
  assert.equal(stored.event!.id, 'e1', 'event.id stays in the document');
  assert.equal(stored.user!.name, 'frozen', 'a frozen object keeps its value');
  assert.equal(stored.source!.ip, 42, 'only strings are detached');
  const columns = eventColumns([event], 0).columns;
  const values = DETACHED_STRINGS.map((d) => columns[COLUMN_ORDER.indexOf(d.column)]![0]);
  assert.equal(JSON.stringify(restoreDocument(json, values)), before, 'key order and values come back');
});
