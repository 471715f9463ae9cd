// Properties of the line splitter over arbitrary bytes (file contents are untrusted): chunking never changes
// the lines, and resuming from any position it reports yields exactly the lines not yet delivered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { runs } from '../../testing/fuzz.js';
import { LineSplitter, type SplitLine } from './line-splitter.js';

/** Reference: split the whole input at once. A final unterminated part is emitted only when already over max + 1 bytes. */
function reference(bytes: Buffer, max: number): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl;
    let len = end - start;
    if (nl < 0 && len <= max + 1) break;
    if (nl >= 0 && len > 0 && bytes[end - 1] === 0x0d) len--;
    let cut = Math.min(len, max);
    if (len > max) while (cut > max - 3 && cut > 0 && (bytes[start + cut]! & 0xc0) === 0x80) cut--;
    let text = bytes.toString('utf8', start, start + cut);
    if (start === 0 && text.startsWith('\uFEFF')) text = text.slice(1);
    out.push(text);
    if (nl < 0) break;
    start = nl + 1;
  }
  return out;
}

function feed(splitter: LineSplitter, bytes: Buffer, cuts: number[]): SplitLine[] {
  const out: SplitLine[] = [];
  let prev = 0;
  for (const cut of [...cuts.filter((c) => c <= bytes.length).sort((a, b) => a - b), bytes.length]) {
    // A fresh copy each time, overwritten afterwards: the splitter must not keep references to the caller's buffer.
    const chunk = Buffer.from(bytes.subarray(prev, cut));
    out.push(...splitter.push(chunk));
    chunk.fill(0x41);
    prev = cut;
  }
  return out;
}

/** Bytes that look like log files: text, CR, LF, multi-byte UTF-8, invalid bytes. */
const logBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom('\n', '\r\n', '\r', 'a', 'bc', ' ', '\u00e9', '\u20ac', '\u{1F600}', '\uFEFF').map((s) => Buffer.from(s)),
      fc.uint8Array({ minLength: 1, maxLength: 4 }).map((a) => Buffer.from(a)),
    ),
    { maxLength: 80 },
  )
  .map((parts) => Buffer.concat(parts));

describe('LineSplitter', () => {
  it('gives the same lines however the bytes are cut into chunks', () => {
    fc.assert(
      fc.property(logBytes, fc.array(fc.nat(200)), fc.integer({ min: 1, max: 12 }), (bytes, cuts, max) => {
        const lines = feed(new LineSplitter(max), bytes, cuts);
        assert.deepEqual(
          lines.map((l) => l.text),
          reference(bytes, max),
        );
        // Each input byte decodes to at most one UTF-16 unit, so this bounds what was kept of each line.
        for (const line of lines) assert.ok(line.text.length <= max, 'a line is never longer than the limit');
      }),
      { numRuns: runs(500) },
    );
  });

  it('resuming from any reported position delivers exactly the remaining lines', () => {
    fc.assert(
      fc.property(logBytes, fc.array(fc.nat(200)), fc.integer({ min: 1, max: 12 }), fc.nat(200), (bytes, cuts, max, stopAt) => {
        const all = feed(new LineSplitter(max), bytes, cuts).map((l) => l.text);
        // Per-line positions: resume after line i.
        const lines = feed(new LineSplitter(max), bytes, cuts);
        lines.forEach((line, i) => {
          const resumed = new LineSplitter(max, line.end, line.skipping);
          const rest = resumed.push(bytes.subarray(line.end)).map((l) => l.text);
          assert.deepEqual(rest, all.slice(i + 1));
        });
        // The splitter's own position after a prefix, as a restart in the middle of the file would use it.
        const stop = Math.min(stopAt, bytes.length);
        const first = new LineSplitter(max);
        const before = first.push(bytes.subarray(0, stop)).map((l) => l.text);
        const resumed = new LineSplitter(max, first.committedOffset, first.skipping);
        const after = resumed.push(bytes.subarray(first.committedOffset)).map((l) => l.text);
        assert.deepEqual([...before, ...after], all);
      }),
      { numRuns: runs(300) },
    );
  });

  it('flush() delivers the held partial line once', () => {
    const s = new LineSplitter(100);
    assert.deepEqual(
      s.push(Buffer.from('one\ntwo')).map((l) => l.text),
      ['one'],
    );
    assert.equal(s.pendingBytes, 3);
    assert.equal(s.committedOffset, 4);
    const last = s.flush();
    assert.deepEqual(last && [last.text, last.end], ['two', 7]);
    assert.equal(s.flush(), undefined);
    assert.equal(s.committedOffset, 7);
  });

  it('cuts an over-long line on a character boundary and reports where to resume', () => {
    const s = new LineSplitter(5);
    const [cut] = s.push(Buffer.from('abcd\u20acdefgh')); // the euro sign (3 bytes) straddles the limit
    assert.deepEqual(cut, { text: 'abcd', end: 12, skipping: true, truncated: true });
    assert.deepEqual(
      s.push(Buffer.from('more\nnext\n')).map((l) => [l.text, l.end, l.truncated]),
      [['next', 22, false]],
    );
  });

  it('holds a line of exactly the limit plus its CR without cutting it', () => {
    const s = new LineSplitter(4);
    assert.deepEqual(s.push(Buffer.from('abcd\r')), []);
    assert.deepEqual(
      s.push(Buffer.from('\n')).map((l) => [l.text, l.truncated]),
      [['abcd', false]],
    );
  });

  it('keeps at most the limit of an endless line in memory', () => {
    const s = new LineSplitter(1024);
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    const lines: SplitLine[] = [];
    for (let i = 0; i < 32; i++) lines.push(...s.push(chunk)); // 2 MiB without a newline
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.text.length, 1024);
    assert.equal(s.pendingBytes, 0);
    assert.equal(s.committedOffset, 2 * 1024 * 1024);
  });
});
