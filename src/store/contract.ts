// The contract every storage engine passes (as Hono's routers share common.case.test.ts): an engine's test file calls
// runStoreContract with a function that opens its store, and these node:test cases check what users rely on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../core/errors.js';
import type { EcsEvent } from '../core/event.js';
import type { QueryNode } from './query/ast.js';
import { parseQuery } from './query/parse.js';
import { DAY_MS } from './requests.js';
import { assertAggregates, loneEvents, spreadEvents } from './testdata/aggregates.js';
import { FIXTURE_EVENTS, FIXTURE_IDS_NEWEST_FIRST, bulkEvents } from './testdata/events.js';
import type { EventStore } from './types.js';

/**
 * Opens a store over the data named `slot`: the same slot reopens the same data (after close), a new slot is empty.
 * (For DuckDB a slot is a directory; for a server engine it would be a database name.)
 */
export type OpenStore = (slot: string) => Promise<EventStore>;

const T0 = Date.parse('2024-05-01T10:00:00Z');
let slots = 0;

async function withStore(open: OpenStore, run: (store: EventStore, slot: string) => Promise<void>): Promise<void> {
  const slot = `contract-${process.pid}-${++slots}`;
  const store = await open(slot);
  try {
    await run(store, slot);
  } finally {
    await store.close();
  }
}

async function ids(store: EventStore, query: string | QueryNode, bounds: { from?: number; to?: number } = {}): Promise<string[]> {
  const node = typeof query === 'string' ? parseQuery(query) : query;
  const result = await store.search({ query: node, limit: 1000, ...bounds });
  assert.equal(result.total, result.events.length, 'total counts every match');
  return result.events.map((e) => e.event.id).sort();
}

async function rejects(promise: Promise<unknown>, id: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof VigilError && err.id === id);
}

export function runStoreContract(name: string, open: OpenStore): void {
  describe(`store contract: ${name}`, () => {
    test('append then search returns exactly the appended documents, newest first', async () => {
      await withStore(open, async (store) => {
        await store.append(FIXTURE_EVENTS);
        const result = await store.search({ query: { type: 'all' }, limit: 100 });
        assert.equal(result.total, FIXTURE_EVENTS.length);
        assert.equal(result.next, null);
        assert.deepEqual(
          result.events.map((e) => e.event.id),
          FIXTURE_IDS_NEWEST_FIRST,
        );
        const byId = new Map(FIXTURE_EVENTS.map((e) => [e.event.id, e]));
        for (const event of result.events) assert.deepEqual(event, byId.get(event.event.id));
        await store.append([]);
        assert.equal((await store.stats()).events, FIXTURE_EVENTS.length);
      });
    });

    test('every query form', async () => {
      await withStore(open, async (store) => {
        await store.append(FIXTURE_EVENTS);
        const all = FIXTURE_IDS_NEWEST_FIRST.slice().sort();
        const cases: [string, string[]][] = [
          ['', all],
          ['*', all],
          // keyword fields: exact and case-sensitive
          ['user.name:root', ['e01', 'e04']],
          ['user.name:ROOT', []],
          ['user.name:"o\'brien"', ['e11']],
          ['event.dataset:sshd', ['e01', 'e02', 'e03', 'e04']],
          ['event.id:e07', ['e07']],
          // phrases and free text, case-insensitive, in message and in the original line
          ['message:"Failed password"', ['e01', 'e02', 'e04']],
          ['"failed PASSWORD"', ['e01', 'e02', 'e04']],
          ['password', ['e01', 'e02', 'e04']],
          ['garbage', ['e08']],
          // in the message only: the normalized message is not a piece of the raw line here
          ['"/login 200"', ['e06']],
          ['event.original:"no parser reads"', ['e08']],
          ['"C:\\\\Windows\\\\Temp"', ['e09']],
          // wildcards
          ['user.name:ad*', ['e02']],
          ['host.name:web-?', ['e01', 'e02', 'e03', 'e04', 'e05', 'e06', 'e07']],
          ['user_agent.original:*Googlebot*', ['e05']],
          ['publick*', ['e03']],
          // boolean logic
          ['event.dataset:sshd AND NOT event.outcome:failure', ['e03']],
          ['event.dataset:sshd -event.outcome:failure', ['e03']],
          ['user.name:root OR user.name:admin', ['e01', 'e02', 'e04']],
          ['user.name:(root OR deploy) AND source.ip:203.0.113.7', ['e01']],
          ['!event.dataset:sshd AND host.name:web-2', ['e05', 'e06', 'e07']],
          // numeric ranges, hot and from the document
          ['http.response.status_code:[400 TO 499]', ['e05']],
          ['http.response.status_code>=500', ['e07']],
          ['http.response.status_code:{200 TO 500}', ['e05']],
          ['source.port:[50000 TO *]', ['e01', 'e02', 'e04']],
          ['http.response.bytes>1000', ['e06']],
          ['http.response.bytes:[0 TO 200]', ['e05', 'e07']],
          ['event.duration>=1000000', ['e09']],
          ['http.response.status_code:404', ['e05']],
          // time ranges
          ['@timestamp:[2024-05-01T10:03:00Z TO 2024-05-01T10:04:00Z}', ['e05', 'e06']],
          ['@timestamp<2024-05-01', ['e12']],
          ['@timestamp:2024-04-01', ['e12']],
          ['@timestamp:[2024-04-01 TO 2024-04-01]', ['e12']],
          ['@timestamp>"2024-05-01T10:07:00+00:00"', ['e11']],
          ['@timestamp:"2024-05-01T10:02:00.000123Z"', ['e04']],
          // IP addresses and CIDR blocks, IPv4 and IPv6
          ['source.ip:203.0.113.7', ['e01', 'e02']],
          ['source.ip:203.0.113.0/24', ['e01', 'e02']],
          ['source.ip:192.0.2.0/24 OR source.ip:10.0.0.0/8', ['e05', 'e06', 'e07']],
          ['source.ip:"2001:db8::/32"', ['e04']],
          ['source.ip:2001:db8::/32', ['e04']],
          ['source.ip:2001:DB8:0::23', ['e04']],
          ['source.ip:[192.0.2.0 TO 192.0.2.255]', ['e05', 'e06']],
          ['source.ip:0.0.0.0/0', ['e01', 'e02', 'e03', 'e05', 'e06', 'e07']],
          ['destination.ip:172.16.0.0/12', ['e09']],
          ['client.ip:10.0.0.0/8', ['e09']],
          ['client.ip:10.9.8.7', ['e09']],
          // exists
          ['labels.env:*', ['e09']],
          ['destination.port:*', ['e09']],
          ['tags:*', ['e08']],
          ['user.name:*', ['e01', 'e02', 'e03', 'e04', 'e11']],
          // arrays, document fields, text fields outside the hot columns
          ['event.category:authentication', ['e01', 'e02', 'e03', 'e04']],
          ['event.type:end', ['e09']],
          ['labels.env:prod', ['e09']],
          ['error.message:reset', ['e09']],
          ['tags:_parse_failure', ['e08']],
          ['log.level:error', ['e10']],
          // unknown fields match nothing, so their negation matches everything
          ['no.such.field:x', []],
          ['no.such.field:*', []],
          ['NOT no.such.field:x', all],
        ];
        for (const [query, expected] of cases) {
          assert.deepEqual(await ids(store, query), expected, `query ${query}`);
        }
      });
    });

    test('time bounds: from inclusive, to exclusive', async () => {
      await withStore(open, async (store) => {
        await store.append(FIXTURE_EVENTS);
        assert.deepEqual(await ids(store, '', { from: T0 + 3 * 60_000, to: T0 + 5 * 60_000 }), ['e05', 'e06', 'e07']);
        assert.deepEqual(await ids(store, 'event.dataset:sshd', { from: T0 }), ['e01', 'e02', 'e03', 'e04']);
        assert.deepEqual(await ids(store, '', { to: T0 }), ['e12']);
        assert.deepEqual(await ids(store, '', { from: T0 + 3_600_000 }), []);
      });
    });

    test('paging with the cursor: newest first, no duplicates, no gaps, total constant', async () => {
      await withStore(open, async (store) => {
        // Five events share each second, so the order must break ties on the id.
        const events = bulkEvents(253, T0, 'page', 5);
        await store.append(events);
        const seen: string[] = [];
        let cursor: string | undefined;
        let lastKey = '\uffff';
        for (let page = 0; page < 100; page++) {
          const result = await store.search({ query: { type: 'all' }, limit: 7, ...(cursor ? { cursor } : {}) });
          assert.equal(result.total, 253);
          for (const e of result.events) {
            const key = `${e['@timestamp']}|${e.event.id}`;
            assert.ok(key < lastKey, `order: ${key} after ${lastKey}`);
            lastKey = key;
            seen.push(e.event.id);
          }
          if (result.next === null) break;
          assert.equal(result.events.length, 7);
          cursor = result.next;
        }
        assert.equal(seen.length, 253);
        assert.equal(new Set(seen).size, 253);
        // With a query and time bounds the cursor still walks the filtered set only.
        const filtered: string[] = [];
        cursor = undefined;
        for (;;) {
          const result = await store.search({ query: parseQuery('event.dataset:sshd'), limit: 10, from: T0 + 10_000, ...(cursor ? { cursor } : {}) });
          filtered.push(...result.events.map((e) => e.event.id));
          assert.equal(result.total, events.filter((e, i) => e.event.dataset === 'sshd' && Math.floor(i / 5) >= 10).length);
          if (result.next === null) break;
          cursor = result.next;
        }
        assert.equal(filtered.length, events.filter((e, i) => e.event.dataset === 'sshd' && Math.floor(i / 5) >= 10).length);
        const limited = await store.search({ query: { type: 'all' }, limit: 100_000 });
        assert.equal(limited.events.length, 253);
        const none = await store.search({ query: { type: 'all' }, limit: 0 });
        assert.deepEqual([none.total, none.events.length, none.next], [253, 0, null]);
        await rejects(store.search({ query: { type: 'all' }, limit: 5, cursor: 'not-a-cursor' }), 'bad_request');
      });
    });

    test('histogram: fixed buckets, empty ones filled in, interval chosen from the range', async () => {
      await withStore(open, async (store) => {
        await store.append(FIXTURE_EVENTS);
        const minute = await store.histogram({ query: { type: 'all' }, from: T0, to: T0 + 10 * 60_000, interval: 60_000 });
        assert.equal(minute.interval, 60_000);
        assert.deepEqual(
          minute.buckets.map((b) => b.count),
          [2, 1, 1, 2, 1, 1, 1, 1, 1, 0],
        );
        assert.equal(minute.buckets[0]!.key, '2024-05-01T10:00:00.000Z');
        assert.equal(minute.buckets[9]!.key, '2024-05-01T10:09:00.000Z');
        // No bounds: the data's first and last event; about 60 buckets of a round width (1 day for ~30 days).
        const auto = await store.histogram({ query: { type: 'all' } });
        assert.equal(auto.interval, 86_400_000);
        assert.equal(auto.buckets[0]!.key, '2024-04-01T00:00:00.000Z');
        assert.equal(auto.buckets.length, 31);
        assert.equal(auto.buckets.reduce((n, b) => n + b.count, 0), FIXTURE_EVENTS.length);
        const ssh = await store.histogram({ query: parseQuery('event.dataset:sshd'), buckets: 60 });
        assert.equal(ssh.interval, 5_000);
        assert.equal(ssh.buckets.length, 25);
        assert.equal(ssh.buckets[1]!.count, 1);
        assert.equal(ssh.buckets.reduce((n, b) => n + b.count, 0), 4);
        const day = await store.histogram({ query: { type: 'all' }, from: T0 - 12 * 3_600_000, to: T0 + 12 * 3_600_000 });
        assert.equal(day.interval, 1_800_000);
        assert.equal(day.buckets.length, 48);
        assert.equal(day.buckets[24]!.key, '2024-05-01T10:00:00.000Z');
        assert.equal(day.buckets[24]!.count, 11);
        const empty = await store.histogram({ query: parseQuery('no.such:1') });
        assert.deepEqual(empty.buckets, []);
        await rejects(store.histogram({ query: { type: 'all' }, from: 0, to: T0, interval: 1 }), 'bad_request');
      });
    });

    test('histogram split by a field: its most frequent values, each counted per bucket as its own histogram would', async () => {
      await withStore(open, async (store) => {
        await store.append(FIXTURE_EVENTS);
        const range = { from: T0 - 12 * 3_600_000, to: T0 + 12 * 3_600_000, interval: 1_800_000 };
        for (const field of ['event.dataset', 'user.name', 'source.ip']) {
          const split = await store.histogram({ query: { type: 'all' }, ...range, by: { field, size: 3 } });
          const plain = await store.histogram({ query: { type: 'all' }, ...range });
          const top = await store.top({ query: { type: 'all' }, ...range, field, size: 3 });
          assert.deepEqual(split.by, { field, values: top.values.map((v) => v.value) }, field);
          assert.deepEqual(split.buckets.map((b) => [b.key, b.count]), plain.buckets.map((b) => [b.key, b.count]), `${field}: the same buckets and totals`);
          for (const [i, value] of split.by!.values.entries()) {
            const alone = await store.histogram({ query: parseQuery(`${field}:"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`), ...range });
            assert.deepEqual(split.buckets.map((b) => b.counts![i]), alone.buckets.map((b) => b.count), `${field}=${value}`);
          }
        }
        const none = await store.histogram({ query: { type: 'all' }, ...range, by: { field: 'no.such.field', size: 5 } });
        assert.deepEqual(none.by, { field: 'no.such.field', values: [] });
        assert.equal(none.buckets.reduce((n, b) => n + b.count, 0), FIXTURE_EVENTS.filter((e) => Math.abs(Date.parse(e['@timestamp']) - T0) < 12 * 3_600_000).length);
        await rejects(store.histogram({ query: { type: 'all' }, ...range, by: { field: "x') OR 1=1 --", size: 5 } }), 'bad_request');
      });
    });

    test('top values with counts and the total that has the field', async () => {
      await withStore(open, async (store) => {
        await store.append(FIXTURE_EVENTS);
        const users = await store.top({ query: { type: 'all' }, field: 'user.name', size: 10 });
        assert.deepEqual(users, {
          field: 'user.name',
          total: 5,
          values: [
            { value: 'root', count: 2 },
            { value: 'admin', count: 1 },
            { value: 'deploy', count: 1 },
            { value: "o'brien", count: 1 },
          ],
        });
        const ips = await store.top({ query: { type: 'all' }, field: 'source.ip', size: 2 });
        assert.deepEqual(ips.values, [
          { value: '192.0.2.44', count: 2 },
          { value: '203.0.113.7', count: 2 },
        ]);
        assert.equal(ips.total, 7);
        const categories = await store.top({ query: { type: 'all' }, field: 'event.category', size: 5 });
        assert.deepEqual(categories.values, [
          { value: 'authentication', count: 4 },
          { value: 'web', count: 4 },
        ]);
        const types = await store.top({ query: { type: 'all' }, field: 'event.type', size: 10 });
        assert.deepEqual(types.values.find((v) => v.value === 'start'), { value: 'start', count: 4 });
        assert.equal(types.total, 8);
        const status = await store.top({ query: parseQuery('event.dataset:nginx.access'), field: 'http.response.status_code', size: 10 });
        assert.deepEqual(status.values.map((v) => v.value), ['200', '404', '500']);
        const labels = await store.top({ query: { type: 'all' }, field: 'labels.env', size: 10 });
        assert.deepEqual(labels, { field: 'labels.env', total: 1, values: [{ value: 'prod', count: 1 }] });
        const windowed = await store.top({ query: { type: 'all' }, field: 'host.name', size: 10, from: T0 + 3 * 60_000 });
        assert.deepEqual(windowed.values, [
          { value: 'web-2', count: 3 },
          { value: 'db-1', count: 1 },
        ]);
        const unknown = await store.top({ query: { type: 'all' }, field: 'no.such.field', size: 10 });
        assert.deepEqual(unknown, { field: 'no.such.field', total: 0, values: [] });
      });
    });

    test('aggregates over days count exactly the events in range wherever its edges fall, after deletions and late events too', async () => {
      await withStore(open, async (store) => {
        const start = Date.parse('2024-05-01T00:00:00Z');
        const cutoff = start + 2 * DAY_MS;
        let events = [...spreadEvents(3000, start, 6, 'agg', 7, true), ...loneEvents(start, 2)];
        for (let i = 0; i < events.length; i += 700) await store.append(events.slice(i, i + 700));
        await assertAggregates(store, events, start, 6);
        // Retention by age takes the events received before its cutoff: the first two days, and every lone value.
        const kept = events.filter((e) => Date.parse(e.event.ingested!) >= cutoff);
        assert.deepEqual(await store.enforceRetention({ maxAgeDays: 1 }, cutoff + DAY_MS), { deleted: events.length - kept.length });
        events = kept;
        await assertAggregates(store, events, start, 6);
        // Late events, older than most stored ones, and a retried batch whose first part is stored already.
        const late = spreadEvents(600, start - DAY_MS, 3, 'late', 11);
        await store.append(late);
        const fresh = spreadEvents(50, start + 5 * DAY_MS, 1, 'retry', 13);
        const retry = [...late.slice(0, 100), ...fresh];
        assert.equal((await store.append(retry, { unique: retry.map((_, i) => i) })).stored, fresh.length);
        events = [...events, ...late, ...fresh];
        await assertAggregates(store, events, start - DAY_MS, 7);
      });
    });

    test('retention by age deletes events received longer ago than the limit, whatever their @timestamp', async () => {
      await withStore(open, async (store) => {
        // Received live: event.ingested equals @timestamp.
        await store.append(FIXTURE_EVENTS.map((e) => ({ ...e, event: { ...e.event, ingested: e['@timestamp'] } })));
        // An old line imported yesterday stays: it was received within the limit.
        const imported = { '@timestamp': '2015-05-17T10:05:03.000Z', event: { id: 'imported-old', dataset: 'nginx.access', ingested: '2024-05-01T00:00:00.000Z' }, host: { name: 'imported' } };
        await store.append([imported]);
        const result = await store.enforceRetention({ maxAgeDays: 7 }, Date.parse('2024-05-02T00:00:00Z'));
        assert.deepEqual(result, { deleted: 1 });
        assert.deepEqual(await ids(store, 'host.name:old-1'), []);
        assert.deepEqual(await ids(store, 'host.name:imported'), ['imported-old']);
        assert.equal((await store.stats()).events, FIXTURE_EVENTS.length);
        assert.deepEqual(await store.enforceRetention({ maxAgeDays: 7 }, Date.parse('2024-05-02T00:00:00Z')), { deleted: 0 });
      });
    });

    test('retention by size deletes the oldest events until the store fits', async () => {
      await withStore(open, async (store) => {
        const count = 40_000;
        for (let i = 0; i < count; i += 10_000) await store.append(bulkEvents(10_000, T0 + i * 1000, `size${i}`));
        const appended = await store.stats();
        assert.equal(appended.events, count);
        assert.ok(appended.bytes > 0);
        // A store already under the limit loses nothing (an engine may compact its log meanwhile).
        assert.deepEqual(await store.enforceRetention({ maxBytes: appended.bytes }, T0), { deleted: 0 });
        const before = await store.stats();
        assert.ok(before.bytes <= appended.bytes);
        const limit = Math.floor(before.bytes / 2);
        const { deleted } = await store.enforceRetention({ maxBytes: limit }, T0);
        const after = await store.stats();
        assert.ok(deleted > 0 && deleted < count, `deleted ${deleted}`);
        assert.equal(after.events, count - deleted);
        assert.ok(after.bytes <= limit, `${after.bytes} bytes after, limit ${limit}`);
        // What is left is the newest events, contiguous.
        const oldestKept = await store.search({ query: { type: 'all' }, limit: 1, to: T0 + deleted * 1000 });
        assert.equal(oldestKept.total, 0);
        const newest = await store.search({ query: { type: 'all' }, limit: 1, from: T0 + deleted * 1000 });
        assert.equal(newest.total, count - deleted);
      });
    });

    test('stats count events and bytes', async () => {
      await withStore(open, async (store) => {
        const empty = await store.stats();
        assert.equal(empty.events, 0);
        await store.append(FIXTURE_EVENTS);
        const stats = await store.stats();
        assert.equal(stats.events, FIXTURE_EVENTS.length);
        assert.ok(stats.bytes > 0);
      });
    });

    test('events survive close and reopen', async () => {
      const slot = `contract-reopen-${process.pid}-${++slots}`;
      const first = await open(slot);
      await first.append(FIXTURE_EVENTS.slice(0, 6));
      await first.append(FIXTURE_EVENTS.slice(6));
      await first.close();
      await rejects(first.search({ query: { type: 'all' }, limit: 1 }), 'unavailable');
      const second = await open(slot);
      try {
        const result = await second.search({ query: { type: 'all' }, limit: 100 });
        assert.deepEqual(
          result.events.map((e) => e.event.id),
          FIXTURE_IDS_NEWEST_FIRST,
        );
        assert.deepEqual(result.events[0], FIXTURE_EVENTS[10]);
      } finally {
        await second.close();
      }
    });

    test('events whose sender chose the id are stored once, however often and however concurrently they are sent', async () => {
      await withStore(open, async (store) => {
        const batch = bulkEvents(40, T0, 'retry');
        const first = await store.append(batch, { unique: batch.map((_, i) => i) });
        assert.deepEqual(first, { stored: 40, duplicates: [] });
        // A retry of half the batch plus new events: only the new ones are written, and the answer says which not.
        const fresh = bulkEvents(10, T0 + 3_600_000, 'fresh');
        const retry = [...batch.slice(20), ...fresh];
        const second = await store.append(retry, { unique: retry.map((_, i) => i) });
        assert.equal(second.stored, 10);
        assert.deepEqual([...second.duplicates].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
        // The same id twice in one batch, and three concurrent copies of one batch.
        const twin = bulkEvents(1, T0 + 7_200_000, 'twin');
        const twice = [twin[0]!, { ...twin[0]!, message: 'second copy' }];
        assert.deepEqual(await store.append(twice, { unique: [0, 1] }), { stored: 1, duplicates: [1] });
        const racing = bulkEvents(30, T0 + 10_800_000, 'race');
        const results = await Promise.all([0, 1, 2].map(() => store.append(racing, { unique: racing.map((_, i) => i) })));
        assert.equal(results.reduce((sum, r) => sum + r.stored, 0), 30);
        // Without `unique`, ids are not looked up (Vigil's own ids are unique).
        assert.equal((await store.search({ query: { type: 'all' }, limit: 1 })).total, 40 + 10 + 1 + 30);
        assert.equal((await store.search({ query: parseQuery('message:"second copy"'), limit: 1 })).total, 0);
      });
    });

    test('concurrent appends and searches all land', async () => {
      await withStore(open, async (store) => {
        const batches = Array.from({ length: 12 }, (_, b) => bulkEvents(50, T0 + b * 60_000, `c${b}`));
        await Promise.all([
          ...batches.map((batch) => store.append(batch)),
          ...batches.map(() => store.search({ query: parseQuery('event.dataset:sshd'), limit: 5 })),
        ]);
        assert.equal((await store.search({ query: { type: 'all' }, limit: 1 })).total, 600);
      });
    });

    test('hostile values: injection, LIKE wildcards, backslashes, NUL bytes, lone surrogates, 1 MB strings', async () => {
      await withStore(open, async (store) => {
        await store.append(FIXTURE_EVENTS);
        // SQL in values is just text.
        assert.deepEqual(await ids(store, `"'; DROP TABLE events; --"`), ['e11']);
        assert.deepEqual(await ids(store, `user.name:"x' OR '1'='1"`), []);
        assert.deepEqual(await ids(store, `labels.env:"prod' OR 1=1 --"`), []);
        // Field names that are not names match nothing and never reach the SQL.
        for (const field of [`user.name') OR 1=1 --`, `a"b`, `$.x`, `x' || (SELECT 1) || '`, 'a b', '', 'toString', '__proto__', 'constructor']) {
          const term: QueryNode = { type: 'term', field, value: 'root', phrase: false, wildcard: false };
          assert.deepEqual(await ids(store, term), [], field);
          assert.deepEqual(await ids(store, { type: 'exists', field }), [], field);
          assert.deepEqual(await ids(store, { type: 'range', field, gte: '0' }), [], field);
          const top = await store.top({ query: { type: 'all' }, field, size: 5 });
          assert.equal(top.total, 0);
        }
        assert.equal((await store.stats()).events, FIXTURE_EVENTS.length);
        // % and _ are literal characters to a wildcard query; only * and ? are wildcards.
        assert.deepEqual(await ids(store, 'url.original:*50%_off'), ['e07']);
        assert.deepEqual(await ids(store, 'url.original:*5_%*'), []);
        assert.deepEqual(await ids(store, 'url.original:/search\\?q=50%_off'), ['e07']);
        assert.deepEqual(await ids(store, 'url.original:\\/search?q=50%_off'), ['e07']);
        assert.deepEqual(await ids(store, '"50%_off"'), ['e07']);
        assert.deepEqual(await ids(store, '"5_%"'), []);
        assert.deepEqual(await ids(store, '*\\\\Windows\\\\*'), ['e09']);
        assert.deepEqual(await ids(store, '"user\u0000name"'), ['e10']);

        const big = 'x'.repeat(1024 * 1024);
        const hostile: EcsEvent[] = [
          {
            '@timestamp': '2024-05-01T11:00:00Z',
            event: { id: 'h1', dataset: 'hostile', original: `${big} needle-at-the-end` },
            message: `${big.slice(0, 1000)}\u0000${big}`,
            user: { name: 'a\u0000b' },
            labels: { huge: big },
          },
          {
            '@timestamp': '2024-05-01T11:00:01Z',
            event: { id: 'h2', dataset: 'hostile' },
            message: 'lone \ud800 surrogate and \udc00 another',
            source: { ip: '999.1.1.1', port: 1e20 },
            http: { response: { status_code: -5, bytes: Number.MAX_SAFE_INTEGER } },
            labels: { '\ud83d': 'key with a lone surrogate' },
          },
          // Missing fields: no @timestamp (filed at the store's clock), no event.id.
          { message: 'no timestamp and no id' } as unknown as EcsEvent,
          { '@timestamp': 'not a time', event: { dataset: 'hostile' }, message: 'bad timestamp' } as unknown as EcsEvent,
          // Not objects at all: a caller's bug, stored as text rather than failing the batch.
          null as unknown as EcsEvent,
          'just a string' as unknown as EcsEvent,
        ];
        await store.append(hostile);
        const found = await store.search({ query: parseQuery('needle-at-the-end'), limit: 5 });
        assert.equal(found.total, 1);
        assert.deepEqual(found.events[0], hostile[0]);
        assert.deepEqual(await ids(store, 'user.name:"a\u0000b"'), ['h1']);
        const lone = await store.search({ query: parseQuery('event.id:h2'), limit: 5 });
        assert.equal(lone.events[0]!.message, 'lone \ufffd surrogate and \ufffd another');
        assert.deepEqual(lone.events[0]!.labels, { '\ufffd': 'key with a lone surrogate' });
        assert.equal(lone.events[0]!.source?.port, 1e20);
        assert.equal(lone.events[0]!.http?.response?.bytes, Number.MAX_SAFE_INTEGER);
        assert.deepEqual(await ids(store, 'source.ip:999.1.1.1'), ['h2']);
        assert.deepEqual(await ids(store, 'source.ip:0.0.0.0/0 AND event.dataset:hostile'), []);
        assert.deepEqual(await ids(store, '"lone \ufffd surrogate"'), ['h2']);
        const missing = await store.search({ query: parseQuery('"no timestamp and no id" OR "bad timestamp"'), limit: 5 });
        assert.equal(missing.total, 2);
        assert.deepEqual(
          missing.events.map((e) => e.message).sort(),
          ['bad timestamp', 'no timestamp and no id'],
        );
        const wrapped = await store.search({ query: parseQuery('"just a string"'), limit: 5 });
        assert.equal(wrapped.total, 1);
        assert.equal(wrapped.events[0]!.message, '"just a string"');
        assert.equal((await store.stats()).events, FIXTURE_EVENTS.length + hostile.length);
      });
    });
  });
}
