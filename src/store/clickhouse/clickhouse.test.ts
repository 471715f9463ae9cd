import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import fc from 'fast-check';
import { ManualClock } from '../../core/clock.js';
import { VigilError } from '../../core/errors.js';
import type { EcsEvent } from '../../core/event.js';
import { runs } from '../../testing/fuzz.js';
import { markedQueries } from '../../testing/queries.js';
import { runStoreContract } from '../contract.js';
import { parseQuery } from '../query/parse.js';
import { bulkEvents } from '../testdata/events.js';
import { ChParams, compileFilter } from './compile.js';
import { ChdbConnection, ClientConnection, connect, parseClickHouseUrl, redactUrl, type ClickHouseConnection } from './connection.js';
import { dateTimeText } from './rows.js';
import { openClickHouseStore } from './store.js';

// chDB serves one data directory per process: every store of this file lives in it, one database per slot.
const root = mkdtempSync(join(tmpdir(), 'vigil-clickhouse-'));
after(() => rmSync(root, { recursive: true, force: true }));
const clock = new ManualClock(Date.parse('2024-06-01T00:00:00Z'));
const database = (slot: string): string => slot.replace(/[^A-Za-z0-9_]/g, '_');

runStoreContract('clickhouse on chDB', async (slot) => openClickHouseStore({ connection: await ChdbConnection.open(root), database: database(slot), clock }));

// The HTTP code path (ClientConnection: @clickhouse/client's query, exec and parameters) over chDB through the client's
// connection hook, so it runs without a server. chdb's hook is typed against the deprecated client-common package.
const clientOverChdb = (): ClientConnection =>
  new ClientConnection(createClient({ connection: createChdbConnection({ path: root }) as unknown as ClickHouseClientConfigOptions['connection'] }), 'chdb-client');
runStoreContract('clickhouse through @clickhouse/client over chDB', (slot) =>
  openClickHouseStore({ connection: clientOverChdb(), database: `client_${database(slot)}`, clock }),
);

const serverUrl = process.env.VIGIL_CLICKHOUSE_URL;
if (serverUrl) {
  const created: string[] = [];
  runStoreContract(`clickhouse server ${redactUrl(serverUrl)}`, async (slot) => {
    const name = `vigil_test_${database(slot)}`;
    created.push(name);
    return openClickHouseStore({ connection: await connect(parseClickHouseUrl(serverUrl, root)), database: name, clock });
  });
  after(async () => {
    const conn = await connect(parseClickHouseUrl(serverUrl, root));
    for (const name of created) await conn.command(`DROP DATABASE IF EXISTS ${name}`);
    await conn.close();
  });
} else {
  test('store contract: clickhouse server', { skip: 'set VIGIL_CLICKHOUSE_URL=clickhouse://user:password@host:8123 to run the contract against a server too' }, () => {});
}

async function withConnection<T>(run: (conn: ClickHouseConnection) => Promise<T>): Promise<T> {
  const conn = await ChdbConnection.open(root);
  try {
    return await run(conn);
  } finally {
    await conn.close();
  }
}

function received(events: EcsEvent[], ingestedMs: number): EcsEvent[] {
  return events.map((e) => ({ ...e, event: { ...e.event, ingested: new Date(ingestedMs).toISOString() } }));
}

describe('clickhouse engine', () => {
  test('the table: a partition a day, sorted by time, LowCardinality keywords, TTL on receipt time as configured', async () => {
    const db = 'ddl';
    const first = await openClickHouseStore({ connection: await ChdbConnection.open(root), database: db, ttlDays: 30, clock });
    const T = Date.parse('2024-05-01T22:00:00Z');
    await first.append(bulkEvents(3, T, 'day', 1).map((e, i) => ({ ...e, '@timestamp': new Date(T + i * 86_400_000).toISOString() })));
    await first.close();
    await withConnection(async (conn) => {
      const [[ddl]] = (await conn.query(`SHOW CREATE TABLE ${db}.events`)) as [[string]];
      assert.match(ddl, /PARTITION BY toDate\(ts\)/);
      assert.match(ddl, /PRIMARY KEY ts/);
      assert.match(ddl, /ORDER BY \(ts, id\)/);
      assert.match(ddl, /`event_dataset` LowCardinality\(Nullable\(String\)\)/);
      assert.match(ddl, /`source_ip_num` Nullable\(IPv6\)/);
      assert.match(ddl, /TTL toDateTime\(ingested\) \+ toIntervalDay\(30\)/);
      const parts = await conn.query(`SELECT DISTINCT partition_id FROM system.parts WHERE database = '${db}' AND table = 'events' AND active ORDER BY 1`);
      assert.deepEqual(parts.flat(), ['20240501', '20240502', '20240503']);
    });
    // Reopening with another maximum age changes the TTL; 0 removes it; no setting leaves it.
    for (const [ttlDays, expected] of [[7, /toIntervalDay\(7\)/], [undefined, /toIntervalDay\(7\)/], [0, null]] as const) {
      const store = await openClickHouseStore({ connection: await ChdbConnection.open(root), database: db, clock, ...(ttlDays !== undefined ? { ttlDays } : {}) });
      await store.close();
      const [[ddl]] = (await withConnection((conn) => conn.query(`SHOW CREATE TABLE ${db}.events`))) as [[string]];
      if (expected) assert.match(ddl, expected);
      else assert.doesNotMatch(ddl, /TTL/);
    }
  });

  test('ClickHouse itself deletes events received longer ago than the TTL, keeping old events received recently', async () => {
    const store = await openClickHouseStore({ connection: await ChdbConnection.open(root), database: 'ttl', ttlDays: 1 });
    try {
      const now = Date.now();
      // Same @timestamp day for both batches would put them in one partition; a TTL drops whole expired parts.
      await store.append(received(bulkEvents(20, Date.parse('2024-01-01T00:00:00Z'), 'expired'), now - 3 * 86_400_000));
      await store.append(received(bulkEvents(5, Date.parse('2024-01-02T00:00:00Z'), 'imported'), now));
      await withConnection((conn) => conn.command('OPTIMIZE TABLE ttl.events FINAL'));
      const left = await store.search({ query: { type: 'all' }, limit: 100 });
      assert.equal(left.total, 5);
      assert.ok(left.events.every((e) => e.event.id.startsWith('imported-')));
    } finally {
      await store.close();
    }
  });

  test('retention by age drops days whose every event expired and deletes the rest row by row', async () => {
    const store = await openClickHouseStore({ connection: await ChdbConnection.open(root), database: 'age', clock });
    try {
      const day = 86_400_000;
      const T = Date.parse('2024-05-01T00:00:00Z');
      await store.append(received(bulkEvents(30, T, 'd1'), T)); // day 1, received then
      await store.append(received(bulkEvents(20, T + day, 'd2'), T + day)); // day 2, received then
      await store.append(received(bulkEvents(10, T + day, 'd2-late'), T + 5 * day)); // day 2, received later
      await store.append(received(bulkEvents(5, T + 2 * day, 'd3'), T + 2 * day));
      const { deleted } = await store.enforceRetention({ maxAgeDays: 2 }, T + 3 * day + 1);
      assert.equal(deleted, 50);
      assert.equal((await store.stats()).events, 15);
      const parts = await withConnection((conn) => conn.query(`SELECT DISTINCT partition_id FROM system.parts WHERE database = 'age' AND table = 'events' AND active ORDER BY 1`));
      assert.deepEqual(parts.flat(), ['20240502', '20240503']);
      assert.equal((await store.search({ query: parseQuery('event.id:d2-late-*'), limit: 0 })).total, 10);
      assert.deepEqual(await store.enforceRetention({ maxAgeDays: 2 }, T + 3 * day + 1), { deleted: 0 });
    } finally {
      await store.close();
    }
  });

  test('retention by size drops the oldest days whole before trimming the oldest one left', async () => {
    const store = await openClickHouseStore({ connection: await ChdbConnection.open(root), database: 'size', clock });
    try {
      const day = 86_400_000;
      const T = Date.parse('2024-05-01T00:00:00Z');
      for (let d = 0; d < 4; d++) await store.append(bulkEvents(5000, T + d * day, `s${d}`));
      const before = await store.stats();
      const { deleted } = await store.enforceRetention({ maxBytes: Math.floor(before.bytes * 0.4) }, T);
      const after = await store.stats();
      assert.ok(after.bytes <= before.bytes * 0.4, `${after.bytes} of ${before.bytes}`);
      assert.equal(after.events, 20_000 - deleted);
      assert.ok(deleted >= 10_000 && deleted < 20_000, `deleted ${deleted}`);
      // Days 1 and 2 went whole; what is left is the newest events, contiguous.
      assert.equal((await store.search({ query: parseQuery('event.id:s0-* OR event.id:s1-*'), limit: 0 })).total, 0);
      assert.equal((await store.search({ query: parseQuery('event.id:s3-*'), limit: 0 })).total, 5000);
    } finally {
      await store.close();
    }
  });

  test('sender-chosen ids are stored once under many concurrent overlapping appends, and after a reopen', async () => {
    const db = 'dedupe';
    const store = await openClickHouseStore({ connection: await ChdbConnection.open(root), database: db, clock });
    const events = bulkEvents(200, Date.parse('2024-05-01T00:00:00Z'), 'dup');
    try {
      const slices = Array.from({ length: 12 }, (_, i) => {
        const slice = events.slice((i * 37) % 150, ((i * 37) % 150) + 50);
        return [...slice, ...slice.slice(0, 5)]; // repeats inside one batch too
      });
      const results = await Promise.all(slices.map((batch) => store.append(batch, { unique: batch.map((_, i) => i) })));
      const stored = results.reduce((n, r) => n + r.stored, 0);
      const top = await store.top({ query: { type: 'all' }, field: 'event.id', size: 1 });
      assert.equal(top.values[0]?.count, 1, 'no id twice');
      assert.equal((await store.stats()).events, stored);
      assert.equal(results.reduce((n, r) => n + r.duplicates.length, 0), slices.reduce((n, s) => n + s.length, 0) - stored);
    } finally {
      await store.close();
    }
    const again = await openClickHouseStore({ connection: await ChdbConnection.open(root), database: db, clock });
    try {
      const before = (await again.stats()).events;
      const retry = await again.append(events.slice(0, 20), { unique: events.slice(0, 20).map((_, i) => i) });
      assert.equal(retry.stored, 20 - retry.duplicates.length);
      assert.equal((await again.stats()).events, before + retry.stored);
    } finally {
      await again.close();
    }
  });

  test('a ClickHouse error becomes VigilError unavailable naming the target, never its password', async () => {
    const store = await openClickHouseStore({ connection: await ChdbConnection.open(root), database: 'broken', clock });
    try {
      await store.append(bulkEvents(3, Date.parse('2024-05-01T00:00:00Z'), 'b'));
      // The table disappears under the store (an operator's mistake): the server answers UNKNOWN_TABLE.
      await withConnection((conn) => conn.command('DROP TABLE broken.events'));
      await assert.rejects(store.search({ query: { type: 'all' }, limit: 5 }), (err: unknown) => {
        assert.ok(err instanceof VigilError && err.id === 'unavailable' && err.status === 503, String(err));
        assert.match(err.message, /ClickHouse at chdb:.*UNKNOWN_TABLE/);
        return true;
      });
      await assert.rejects(store.append(bulkEvents(1, 0, 'x')), (err: unknown) => err instanceof VigilError && err.id === 'unavailable');
    } finally {
      await store.close();
    }
    // Nothing listens on the port: the HTTP client's connection error is mapped the same way.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const url = `clickhouse://vigil:s3cret-pass@127.0.0.1:${port}/vigil`;
    await assert.rejects(openClickHouseStore({ connection: await connect(parseClickHouseUrl(url, root), { requestTimeout: 5000 }) }), (err: unknown) => {
      assert.ok(err instanceof VigilError && err.id === 'unavailable', String(err));
      assert.match(err.message, new RegExp(`ClickHouse at http://127.0.0.1:${port} failed`));
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
  });

  test('store URLs', () => {
    assert.deepEqual(parseClickHouseUrl('clickhouse://vigil:p%40ss@ch-1:9000/logs', '/data'), {
      kind: 'http',
      location: 'http://ch-1:9000',
      database: 'logs',
      username: 'vigil',
      password: 'p@ss',
    });
    assert.deepEqual(parseClickHouseUrl('clickhouse://ch-1', '/data'), { kind: 'http', location: 'http://ch-1:8123', database: 'vigil' });
    assert.equal(parseClickHouseUrl('clickhouses://ch-1/x', '/data').location, 'https://ch-1:8443');
    assert.equal(parseClickHouseUrl('https://ch.example.com/x', '/data').location, 'https://ch.example.com:443');
    assert.deepEqual(parseClickHouseUrl('chdb:///var/lib/vigil/ch', '/data'), { kind: 'chdb', location: '/var/lib/vigil/ch', database: 'vigil' });
    assert.deepEqual(parseClickHouseUrl('chdb', '/data/chdb'), { kind: 'chdb', location: '/data/chdb', database: 'vigil' });
    for (const bad of ['clickhouse://h/drop table', 'ftp://h/x', 'not a url', 'clickhouse:///db']) {
      assert.throws(() => parseClickHouseUrl(bad, '/data'), (err: unknown) => err instanceof VigilError && err.id === 'bad_config', bad);
    }
    assert.equal(redactUrl('clickhouse://vigil:secret@ch-1:8123/vigil'), 'clickhouse://vigil:***@ch-1:8123/vigil');
    assert.throws(() => parseClickHouseUrl('ftp://u:secret@h', '/d'), (err: unknown) => err instanceof VigilError && !err.message.includes('secret'));
  });

  test('timestamps outside DateTime64 are filed at its ends', () => {
    assert.equal(dateTimeText(1714557600123456n), '2024-05-01 10:00:00.123456');
    assert.equal(dateTimeText(-1n), '1969-12-31 23:59:59.999999');
    assert.equal(dateTimeText(-(10n ** 18n)), '1900-01-01 00:00:00.000000');
    assert.equal(dateTimeText(10n ** 18n), '2299-12-31 23:59:59.999999');
  });

  test('compiled SQL carries user values only as parameters', () => {
    const marker = 'QZXV';
    const tree = markedQueries(marker);
    fc.assert(
      fc.property(tree, (node) => {
        const params = new ChParams();
        let sql: string;
        try {
          sql = compileFilter({ query: node }, params);
        } catch (err) {
          assert.ok(err instanceof VigilError && err.id === 'bad_query', String(err));
          return;
        }
        assert.ok(!sql.includes(marker), sql);
        // Every string literal in the SQL is a checked JSON key or a constant of the dialect.
        for (const match of sql.matchAll(/'([^']*)'/g)) assert.match(match[1]!, /^[A-Za-z0-9_@.\-%:]*$/, sql);
        const placeholders = new Set([...sql.matchAll(/\{(p\d+):/g)].map((m) => m[1]!));
        assert.deepEqual([...placeholders].sort(), Object.keys(params.values).sort());
      }),
      { numRuns: runs(2000) },
    );
  });
});
