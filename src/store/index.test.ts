import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VigilError } from '../core/errors.js';
import { openStore, type StoreConfig } from './index.js';

test('openStore opens the configured engine in its directory', async () => {
  const root = mkdtempSync(join(tmpdir(), 'vigil-store-'));
  try {
    const dir = join(root, 'nested', 'data');
    const store = await openStore({ engine: 'duckdb', dir });
    assert.equal(store.engine, 'duckdb');
    assert.ok(existsSync(join(dir, 'events.duckdb')));
    await store.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an unknown engine is a configuration error', async () => {
  for (const engine of ['sqlite', 'toString']) {
    await assert.rejects(
      openStore({ engine, dir: '/nonexistent' } as unknown as StoreConfig),
      (err: unknown) => err instanceof VigilError && err.id === 'bad_config' && /unknown store engine/.test(err.message),
    );
  }
});
