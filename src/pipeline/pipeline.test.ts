// The pipeline with a real DuckDB store: durable acknowledgement, group commit, back-pressure, store failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { VigilError } from '../core/errors.js';
import { Telemetry } from '../core/telemetry.js';
import { parseQuery } from '../store/query/parse.js';
import { openStore } from '../store/index.js';
import type { EventStore } from '../store/types.js';
import { Pipeline } from './pipeline.js';

async function withPipeline(maxQueueEvents: number, run: (pipeline: Pipeline, store: EventStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pipeline-'));
  const store = await openStore({ engine: 'duckdb', dir });
  const pipeline = new Pipeline({ store, clock: new ManualClock(Date.parse('2024-03-03T12:00:00Z')), telemetry: new Telemetry(), maxQueueEvents, maxLineBytes: 1024 });
  try {
    await run(pipeline, store);
  } finally {
    await store.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

test('concurrent submissions are group-committed and each resolves after its events are stored', async () => {
  await withPipeline(100_000, async (pipeline) => {
    const stored: number[] = [];
    pipeline.onStored((events) => stored.push(events.length));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pipeline.ingestLines([`Mar  3 11:00:${String(i).padStart(2, '0')} h sshd[1]: Invalid user u${i} from 192.0.2.${i} port 22`], { format: 'sshd', input: 'test' })),
    );
    assert.equal(results.reduce((n, r) => n + r.accepted, 0), 20);
    assert.equal(stored.reduce((a, b) => a + b, 0), 20);
    assert.ok(stored.length < 20, `batches were grouped (${stored.length} writes for 20 submissions)`);
  });
});

test('over the queue limit a submission is refused with busy and retryAfter, taking nothing', async () => {
  await withPipeline(100, async (pipeline) => {
    const lines = Array.from({ length: 60 }, (_, i) => `line ${i}`);
    const first = pipeline.ingestLines(lines, { format: 'auto', input: 'test' });
    assert.equal(pipeline.congested, false);
    const second = pipeline.ingestLines(lines, { format: 'auto', input: 'test' });
    await assert.rejects(second, (err: unknown) => err instanceof VigilError && err.id === 'busy' && err.status === 429 && err.retryAfter === 1);
    const result = await first;
    assert.equal(result.accepted, 60);
    let drained = false;
    pipeline.onDrain(() => {
      drained = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, true);
  });
});

test('long lines are cut and tagged', async () => {
  await withPipeline(1000, async (pipeline, store) => {
    const result = await pipeline.ingestLines(['y'.repeat(5000)], { format: 'auto', input: 'test' });
    assert.equal(result.accepted, 1);
    const found = await store.search({ query: parseQuery('tags:_truncated'), limit: 10 });
    assert.equal(found.total, 1);
    assert.equal(found.events[0]!.event.original!.length, 1024);
  });
});

test('a store that fails makes the submission fail with 503 (nothing is acknowledged)', async () => {
  await withPipeline(1000, async (pipeline, store) => {
    await store.close();
    await assert.rejects(pipeline.ingestLines(['after close'], { format: 'auto', input: 'test' }), (err: unknown) => err instanceof VigilError && err.status === 503 && err.retryAfter !== undefined);
  });
});

test('parse failures are stored with the tag, per-dataset counts returned', async () => {
  await withPipeline(1000, async (pipeline) => {
    const result = await pipeline.ingestLines(['Mar  3 11:00:00 h sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2', 'garbage that nobody parses'], { format: 'sshd', input: 'test' });
    assert.equal(result.unparsed, 1);
    assert.equal(result.datasets?.sshd, 1);
    assert.equal(result.datasets?.unparsed, 1);
  });
});

test('documents whose sender chose event.id are stored once; listeners see each event once; lines are untouched', async () => {
  await withPipeline(100_000, async (pipeline, store) => {
    const seen: string[] = [];
    pipeline.onStored((events) => seen.push(...events.map((e) => e.event.id)));
    const docs = Array.from({ length: 5 }, (_, i) => ({ '@timestamp': `2024-03-03T11:00:0${i}Z`, event: { id: `agent-${i}`, dataset: 'test' }, message: `m${i}` }));
    const first = await pipeline.ingestDocuments(docs, { input: 'test' });
    assert.equal(first.duplicates, 0);
    // A retry (say the acknowledgement was lost) sent twice at once, plus one new document without an id.
    const [a, b] = await Promise.all([
      pipeline.ingestDocuments([...docs, { message: 'no id' }], { input: 'test' }),
      pipeline.ingestDocuments(docs, { input: 'test' }),
    ]);
    assert.equal(a.accepted + b.accepted, 11);
    assert.equal((a.duplicates ?? 0) + (b.duplicates ?? 0), 10);
    await pipeline.ingestLines(['plain line one', 'plain line one'], { format: 'auto', input: 'test' });
    assert.equal((await store.search({ query: { type: 'all' }, limit: 100 })).total, 5 + 1 + 2);
    assert.equal(seen.length, 8);
    assert.equal(new Set(seen).size, 8);
  });
});
