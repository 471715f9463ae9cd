// The agent's disk buffer on real files: order, acknowledgement, restart, a crash that cut the last record, the size
// bound (oldest segment dropped and counted), and segments deleted once delivered.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DiskBuffer } from './buffer.js';

const root = mkdtempSync(join(tmpdir(), 'vigil-buffer-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const fresh = () => join(root, `b${dirs++}`);
const events = (from: number, count: number) => Array.from({ length: count }, (_, i) => JSON.stringify({ n: from + i, message: `event ${from + i}` }));
const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

/** Reads and acknowledges everything, in batches of `size`. */
async function drain(buffer: DiskBuffer, size = 7): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const batch = await buffer.read(size, 1 << 20);
    if (!batch) return out;
    for (const line of batch.lines) out.push((JSON.parse(line) as { n: number }).n);
    await buffer.ack(batch);
  }
}

test('appended batches come back in order, in batches of any size; delivered segments are deleted', async () => {
  const dir = fresh();
  const buffer = await DiskBuffer.open({ dir, maxBytes: 64 << 20 });
  await buffer.append(events(0, 5));
  await buffer.append(events(5, 10));
  assert.equal(buffer.stats().pending, 15);
  // Reading does not move anything until acknowledged.
  const peek = await buffer.read(3, 1 << 20);
  assert.deepEqual(peek!.lines.map((l) => (JSON.parse(l) as { n: number }).n), [0, 1, 2]);
  const again = await buffer.read(3, 1 << 20);
  assert.deepEqual(again!.lines, peek!.lines);
  assert.deepEqual(await drain(buffer), [...Array(15).keys()]);
  assert.equal(buffer.stats().pending, 0);
  assert.deepEqual(segments(dir), [], 'everything delivered: no segment left');
  await buffer.append(events(15, 2));
  assert.deepEqual(await drain(buffer), [15, 16]);
  await buffer.close();
});

test('a restart resumes after the last acknowledged batch; a batch read but not acknowledged comes again', async () => {
  const dir = fresh();
  const first = await DiskBuffer.open({ dir, maxBytes: 64 << 20 });
  await first.append(events(0, 10));
  await first.append(events(10, 5));
  const batch = await first.read(4, 1 << 20);
  await first.ack(batch!);
  await first.read(3, 1 << 20); // sent, no answer before the stop
  await first.close();
  const second = await DiskBuffer.open({ dir, maxBytes: 64 << 20 });
  assert.equal(second.stats().pending, 11);
  assert.deepEqual(await drain(second), [...Array(15).keys()].slice(4));
  await second.close();
  // Without the saved position (lost in a crash), the segment is sent again from its start: more, never less.
  const third = await DiskBuffer.open({ dir, maxBytes: 64 << 20 });
  await third.append(events(20, 3));
  const batch3 = await third.read(2, 1 << 20);
  await third.ack(batch3!);
  await third.close();
  rmSync(join(dir, 'position.json'));
  const fourth = await DiskBuffer.open({ dir, maxBytes: 64 << 20 });
  assert.deepEqual(await drain(fourth), [20, 21, 22]);
  await fourth.close();
});

test('a segment cut short by a crash is read up to its last whole record, and writing goes on', async () => {
  const dir = fresh();
  const first = await DiskBuffer.open({ dir, maxBytes: 64 << 20 });
  await first.append(events(0, 3));
  await first.append(events(3, 3));
  await first.close();
  const [segment] = segments(dir);
  const path = join(dir, segment!);
  const size = statSync(path).size;
  // A crash in the middle of writing the third record: its header and part of its payload reached the disk.
  const header = Buffer.alloc(8);
  header.writeUInt32BE(1000, 0);
  header.writeUInt32BE(12345, 4);
  appendFileSync(path, Buffer.concat([header, Buffer.from('{"n":6,"mess')]));
  const warnings: string[] = [];
  const second = await DiskBuffer.open({ dir, maxBytes: 64 << 20, warn: (m) => warnings.push(m) });
  assert.equal(statSync(path).size, size, 'the torn record is cut off');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /incomplete record/);
  assert.equal(second.stats().recovered_bytes_discarded, 20);
  await second.append(events(100, 2));
  assert.deepEqual(await drain(second), [0, 1, 2, 3, 4, 5, 100, 101]);
  await second.close();
});

test('a record with a bad checksum ends the segment there; a torn header alone is dropped too', async () => {
  const dir = fresh();
  const first = await DiskBuffer.open({ dir, maxBytes: 64 << 20 });
  await first.append(events(0, 2));
  await first.append(events(2, 2));
  await first.close();
  const path = join(dir, segments(dir)[0]!);
  const whole = statSync(path).size;
  // Garbage where the second record's last bytes were (a write the disk never completed).
  truncateSync(path, whole - 4);
  appendFileSync(path, Buffer.from('XXXX'));
  const second = await DiskBuffer.open({ dir, maxBytes: 64 << 20, warn: () => undefined });
  assert.deepEqual(await drain(second), [0, 1]);
  await second.close();

  const dir2 = fresh();
  const third = await DiskBuffer.open({ dir: dir2, maxBytes: 64 << 20 });
  await third.append(events(0, 1));
  await third.close();
  appendFileSync(join(dir2, segments(dir2)[0]!), Buffer.from([0, 0, 0]));
  const fourth = await DiskBuffer.open({ dir: dir2, maxBytes: 64 << 20, warn: () => undefined });
  assert.deepEqual(await drain(fourth), [0]);
  await fourth.close();
});

test('bounded: when full, the oldest segment is dropped, counted, and said', async () => {
  const dir = fresh();
  const warnings: string[] = [];
  // 64 KiB segments (the smallest), at most 256 KiB in all.
  const buffer = await DiskBuffer.open({ dir, maxBytes: 256 * 1024, segmentBytes: 64 * 1024, warn: (m) => warnings.push(m) });
  const big = (from: number) => Array.from({ length: 10 }, (_, i) => JSON.stringify({ n: from + i, pad: 'x'.repeat(1000) }));
  for (let i = 0; i < 60; i++) await buffer.append(big(i * 10));
  const stats = buffer.stats();
  assert.ok(stats.bytes <= 256 * 1024, `${stats.bytes} bytes kept`);
  assert.ok(stats.dropped > 0, 'events were dropped');
  assert.equal(stats.dropped + stats.pending, 600, 'every event is either kept or counted as dropped');
  assert.ok(warnings.length > 0 && /buffer is full/.test(warnings[0]!) && /--max-buffer-mb/.test(warnings[0]!));
  const kept = await drain(buffer, 100);
  assert.equal(kept.length, stats.pending);
  assert.deepEqual(kept, [...Array(600).keys()].slice(600 - kept.length), 'the newest events are the ones kept');
  await buffer.close();
});

test('dropping the segment being read moves the reader on without losing newer events', async () => {
  const dir = fresh();
  const buffer = await DiskBuffer.open({ dir, maxBytes: 256 * 1024, segmentBytes: 64 * 1024, warn: () => undefined });
  const big = (from: number) => Array.from({ length: 10 }, (_, i) => JSON.stringify({ n: from + i, pad: 'y'.repeat(1000) }));
  await buffer.append(big(0));
  const inFlight = await buffer.read(5, 1 << 20);
  for (let i = 1; i < 40; i++) await buffer.append(big(i * 10));
  await buffer.ack(inFlight!); // its segment is gone: nothing moves, nothing breaks
  const kept = await drain(buffer, 50);
  assert.equal(kept[kept.length - 1], 399);
  assert.equal(kept.length + buffer.stats().dropped, 400);
  await buffer.close();
});
