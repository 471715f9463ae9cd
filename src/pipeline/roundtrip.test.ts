// Whatever JSON a sender posts, the store gives back exactly the event the pipeline made of it: no value is lost,
// moved into another field, or corrupted (NUL bytes, huge numbers, nesting, SQL and LIKE metacharacters included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ManualClock } from '../core/clock.js';
import type { EcsEvent } from '../core/event.js';
import { Telemetry } from '../core/telemetry.js';
import { openStore } from '../store/index.js';
import { runs } from '../testing/fuzz.js';
import { Pipeline } from './pipeline.js';

/** Lone surrogates replaced by U+FFFD, as encoding to UTF-8 does. */
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u0000', '\ud800', 'a\udfffb', '\u001b[31mred\u001b[0m', 'line\r\ninjected: yes', '<script>alert(1)</script>', "'; DROP TABLE events; --", '%', '_', '\\'),
);
const leaf = fc.oneof(hostileText, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((b) => Number(b)));
const key = fc.oneof(fc.constantFrom('message', 'user', 'source', 'url', 'tags', 'labels', 'event', 'http', 'x.y', 'a.b.c'), fc.string({ minLength: 1, maxLength: 8 }));
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(key, tie('node'), { maxKeys: 4 })),
})).node;
const documentArb = fc.dictionary(key, value, { maxKeys: 6 });

test('random documents round-trip through the pipeline and the store unchanged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-roundtrip-'));
  const store = await openStore({ engine: 'duckdb', dir });
  const pipeline = new Pipeline({ store, clock: new ManualClock(Date.parse('2024-06-01T00:00:00Z')), telemetry: new Telemetry(), maxQueueEvents: 100_000, maxLineBytes: 65_536 });
  const made = new Map<string, EcsEvent>();
  pipeline.onStored((events) => {
    for (const e of events) made.set(e.event.id, structuredClone(e));
  });
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(documentArb, { minLength: 1, maxLength: 8 }), async (docs) => {
        const result = await pipeline.ingestDocuments(docs, { input: 'test' });
        const ids = result.ids.filter((id): id is string => id !== undefined);
        assert.equal(ids.length + result.rejected, docs.length);
        for (const id of ids) {
          const found = await store.search({ query: { type: 'term', field: 'event.id', value: id, phrase: false, wildcard: false }, limit: 2 });
          assert.equal(found.total, 1, `event ${id} stored once`);
          // UTF-8 has no lone surrogates: they are stored as U+FFFD (event.original keeps them, escaped). JSON has no -0.
          assert.deepEqual(JSON.parse(JSON.stringify(found.events[0])), JSON.parse(JSON.stringify(made.get(id)), (_k, v: unknown) => (typeof v === 'string' ? wellFormed(v) : v)));
        }
      }),
      { numRuns: runs(40) },
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
