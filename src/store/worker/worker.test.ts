// The store contract again, with the engine in a worker thread: every call and every error crosses the thread boundary.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VigilError } from '../../core/errors.js';
import { runStoreContract } from '../contract.js';
import { openStore } from '../index.js';

const root = mkdtempSync(join(tmpdir(), 'vigil-worker-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

runStoreContract('duckdb in a worker thread', (slot) => openStore({ engine: 'duckdb', dir: join(root, slot), threads: 2, memoryLimit: '512MB' }));

test('errors keep their id across the thread boundary; a closed store refuses calls', async () => {
  const store = await openStore({ engine: 'duckdb', dir: join(root, 'errors') });
  await assert.rejects(store.search({ query: { type: 'all' }, limit: 10, cursor: 'not-a-cursor' }), (err: unknown) => err instanceof VigilError && err.status === 400);
  await store.close();
  await assert.rejects(store.stats(), (err: unknown) => err instanceof VigilError && err.status === 503);
});

test('a second store on the same directory is refused, also within one process', async () => {
  const first = await openStore({ engine: 'duckdb', dir: join(root, 'locked') });
  try {
    await assert.rejects(openStore({ engine: 'duckdb', dir: join(root, 'locked') }), /lock/i);
  } finally {
    await first.close();
  }
});
