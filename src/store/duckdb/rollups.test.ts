// DuckDB's rollups: exact answers however the counts were written (merged or not, after deletions of any kind), built
// for a store from before them, rebuilt when events changed without them, and really read.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ManualClock } from '../../core/clock.js';
import type { EcsEvent } from '../../core/event.js';
import { parseQuery } from '../query/parse.js';
import { DAY_MS } from '../requests.js';
import { ROLLUP_VERSION } from '../rollups.js';
import { parseIsoMicros } from '../time.js';
import { assertAggregates, loneEvents, spreadEvents } from '../testdata/aggregates.js';
import { bulkEvents } from '../testdata/events.js';
import type { EventStore } from '../types.js';
import { openDuckDbStore, type DuckDbStoreOptions } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'vigil-rollups-'));
after(() => rmSync(root, { recursive: true, force: true }));
const START = Date.parse('2024-05-01T00:00:00Z');
const clock = new ManualClock(Date.parse('2024-06-01T00:00:00Z'));

function open(dir: string, options: Partial<DuckDbStoreOptions> = {}): Promise<EventStore> {
  return openDuckDbStore({ dir: join(root, dir), threads: 2, memoryLimit: '512MB', clock, ...options });
}

/** Runs SQL on the closed store's file, as another program (or an older Vigil) could. */
async function onFile(dir: string, sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(join(root, dir, 'events.duckdb'));
  try {
    const connection = await instance.connect();
    const rows = (await connection.runAndReadAll(sql)).getRowsJS() as unknown[][];
    connection.closeSync();
    return rows;
  } finally {
    instance.closeSync();
  }
}

for (const mergeRows of [1, 1_000_000]) {
  test(`exact over every range after appends in any order, retention by age and by size, rollup rows merged ${mergeRows === 1 ? 'after each write' : 'never'}`, async () => {
    const dir = `thorough-${mergeRows}`;
    let store = await open(dir, { rollupMergeRows: mergeRows });
    try {
      const cutoff = START + 2 * DAY_MS;
      let events: EcsEvent[] = [...spreadEvents(3000, START, 6, 'agg'), ...loneEvents(START + DAY_MS, 1)];
      for (let i = 0; i < events.length; i += 450) await store.append(events.slice(i, i + 450));
      await assertAggregates(store, events, START, 6, true);
      // Received at random times: retention by age deletes events scattered over every day.
      const kept = events.filter((e) => Date.parse(e.event.ingested!) >= cutoff);
      assert.deepEqual(await store.enforceRetention({ maxAgeDays: 1 }, cutoff + DAY_MS), { deleted: events.length - kept.length });
      events = kept;
      await assertAggregates(store, events, START, 6, true);
      const late = spreadEvents(500, START - DAY_MS, 3, 'late', 11);
      await store.append(late);
      events = [...events, ...late];
      await assertAggregates(store, events, START - DAY_MS, 7, true);
      // Retention by size deletes the oldest events by @timestamp. (Sized after a reopen, which checkpoints the WAL,
      // and leaves unmerged rows on any day.)
      await store.close();
      store = await open(dir, { rollupMergeRows: mergeRows });
      const { deleted } = await store.enforceRetention({ maxBytes: Math.floor((await store.stats()).bytes * 0.8) }, clock.now());
      assert.ok(deleted > 0);
      const micros = (e: EcsEvent): bigint => parseIsoMicros(e['@timestamp'])!;
      const byTime = [...events].sort((a, b) => (micros(a) < micros(b) ? -1 : micros(a) > micros(b) ? 1 : a.event.id < b.event.id ? -1 : 1));
      events = byTime.slice(deleted);
      assert.equal((await store.stats()).events, events.length);
      await assertAggregates(store, events, START - DAY_MS, 7);
    } finally {
      await store.close();
    }
    if (mergeRows === 1) {
      const [[keys, rows]] = (await onFile(dir, `SELECT count(DISTINCT (grain, bucket, field, value)), count(*) FROM vigil_rollup`)) as [[bigint, bigint]];
      assert.equal(rows, keys, 'merged: one row per key');
    }
  });
}

test('a store from before rollups gets them built on open; events written without them make the next open build them again', async () => {
  const events = spreadEvents(2000, START, 4, 'old', 5);
  const before = await open('upgrade', { rollups: false });
  await before.append(events);
  await before.close();
  assert.deepEqual(await onFile('upgrade', `SELECT count(*) FROM vigil_meta WHERE key = 'rollup_version'`), [[0n]]);
  const store = await open('upgrade');
  await assertAggregates(store, events, START, 4);
  await store.close();
  assert.deepEqual(await onFile('upgrade', `SELECT value FROM vigil_meta WHERE key = 'rollup_version'`), [[ROLLUP_VERSION]]);
  // Built as another version counted (other fields, grains or meaning; here: other daily counts): built again.
  await onFile('upgrade', `UPDATE vigil_meta SET value = '0;event.dataset=60000' WHERE key = 'rollup_version'`);
  await onFile('upgrade', `UPDATE vigil_rollup SET n = n + 7 WHERE grain = ${DAY_MS}`);
  const rebuilt = await open('upgrade');
  await assertAggregates(rebuilt, events, START, 4);
  await rebuilt.close();
  assert.deepEqual(await onFile('upgrade', `SELECT value FROM vigil_meta WHERE key = 'rollup_version'`), [[ROLLUP_VERSION]]);
  // Its table dropped by hand: built again too.
  await onFile('upgrade', `DROP TABLE vigil_rollup`);
  const recreated = await open('upgrade');
  await recreated.stats();
  await assertAggregates(recreated, events, START, 4);
  await recreated.close();
  assert.deepEqual(await onFile('upgrade', `SELECT count(*) > 0 FROM vigil_rollup`), [[true]]);
  // A Vigil that knows no rollups appends events behind their back.
  const withoutRollups = await open('upgrade', { rollups: false });
  const more = spreadEvents(300, START, 4, 'more', 9);
  await withoutRollups.append(more);
  await withoutRollups.close();
  const again = await open('upgrade');
  try {
    await assertAggregates(again, [...events, ...more], START, 4);
  } finally {
    await again.close();
  }
});

test('the rollup answers the aggregates it fits, the events the rest', async () => {
  const store = await open('read');
  await store.append(bulkEvents(3000, START + 3_600_000, 'read'));
  await store.close();
  // Tampered with on disk (the check on open compares the total count only), so its answers show where they come from.
  await onFile('read', `UPDATE vigil_rollup SET n = n + 1000 WHERE field = 'event.dataset' AND value = 'sshd' AND grain = ${DAY_MS}`);
  const reopened = await open('read');
  try {
    // Queries read the events until the rollup is checked, the writer's first task.
    await reopened.stats();
    const all = { type: 'all' } as const;
    const whole = { from: START, to: START + DAY_MS };
    const top = await reopened.top({ query: all, field: 'event.dataset', size: 5, ...whole });
    assert.deepEqual(top.values.find((v) => v.value === 'sshd')?.count, 1000 + 1000);
    // A query filters events: the exact path, which counts them.
    const filtered = await reopened.top({ query: parseQuery('event.dataset:*'), field: 'event.dataset', size: 5, ...whole });
    assert.deepEqual(filtered.values.find((v) => v.value === 'sshd')?.count, 1000);
    // A range within one minute holds no whole bucket: the events.
    const minute = await reopened.top({ query: all, field: 'event.dataset', size: 5, from: START + 3_600_000, to: START + 3_630_000 });
    assert.deepEqual(minute.values.find((v) => v.value === 'sshd')?.count, 10);
  } finally {
    await reopened.close();
  }
});
