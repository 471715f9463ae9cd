// Framing of syslog streams and datagrams, byte by byte: RFC 6587 octet counting and newline framing, limits,
// hostile input, and the property that the messages do not depend on where the stream was split.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { runs } from '../../testing/fuzz.js';
import { StreamFramer, splitDatagram, utf8SafeEnd } from './framing.js';

interface Framed {
  messages: string[];
  truncated: number;
}

/** Frames `chunks` as one connection that then closes. */
function frame(chunks: readonly Buffer[], max = 1024): Framed {
  const out: Framed = { messages: [], truncated: 0 };
  const framer = new StreamFramer(max, (text, truncated) => {
    if (truncated) out.truncated++;
    if (text !== '') out.messages.push(text);
  });
  for (const chunk of chunks) framer.push(chunk);
  framer.end();
  return out;
}

function bytesOf(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

function everyByte(data: Buffer): Buffer[] {
  return [...data].map((b) => Buffer.from([b]));
}

function octet(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}

const RFC5424 = '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event';
const RFC3164 = '<34>Oct 11 22:14:15 mymachine su: \'su root\' failed for lonvick on /dev/pts/8';

test('newline framing: LF, CRLF and NUL trailers, empty lines skipped', () => {
  const out = frame([bytesOf(`${RFC3164}\n${RFC5424}\r\n\n<13>Nov  3 10:00:00 host app: nul-terminated\0<13>last\n`)]);
  assert.deepEqual(out.messages, [RFC3164, RFC5424, '<13>Nov  3 10:00:00 host app: nul-terminated', '<13>last']);
  assert.equal(out.truncated, 0);
});

test('octet counting, mixed per message with newline framing on one connection', () => {
  const withLf = `${RFC5424}\n`; // some senders count a trailing LF into MSG-LEN
  const stream = `${octet(RFC5424)}${octet(withLf)}${RFC3164}\n${octet('<14>1 - h a - - - x')}`;
  const out = frame([bytesOf(stream)]);
  assert.deepEqual(out.messages, [RFC5424, RFC5424, RFC3164, '<14>1 - h a - - - x']);
  assert.equal(out.truncated, 0);
});

test('octet-counted message may hold LF; MSG-LEN counts bytes, not characters', () => {
  const multiline = '<11>1 2024-01-01T00:00:00Z h app - - - first\nsecond';
  const unicode = '<13>1 - h app - - - Grüße ✓ 😀';
  const out = frame([bytesOf(octet(multiline) + octet(unicode))]);
  assert.deepEqual(out.messages, [multiline, unicode]);
});

test('the same messages whether the stream arrives whole or one byte at a time', () => {
  const data = bytesOf(`${octet(RFC5424)}${RFC3164}\r\n${octet('<13>é')}<13>no-trailer`);
  const whole = frame([data]);
  assert.deepEqual(frame(everyByte(data)), whole);
  assert.deepEqual(whole.messages, [RFC5424, RFC3164, '<13>é', '<13>no-trailer']);
});

test('an octet count over the limit keeps the first maxMessageBytes, skips the rest of the frame, counts it', () => {
  const big = `<13>${'a'.repeat(3000)}`;
  const data = bytesOf(`${octet(big)}${octet(RFC5424)}`);
  for (const chunks of [[data], everyByte(data)]) {
    const out = frame(chunks, 1000);
    assert.equal(out.truncated, 1);
    assert.equal(out.messages.length, 2);
    assert.equal(out.messages[0], big.slice(0, 1000));
    assert.equal(out.messages[1], RFC5424);
  }
});

test('a 1 MB line without a newline is cut at the limit and never buffered whole', () => {
  let held = 0;
  const out: string[] = [];
  let truncated = 0;
  const framer = new StreamFramer(4096, (text, cut) => {
    out.push(text);
    if (cut) truncated++;
  });
  const chunk = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < 1024 * 1024; sent += chunk.length) {
    framer.push(chunk);
    held = Math.max(held, framer.bufferedBytes);
  }
  assert.ok(held <= 4096, `held ${held} bytes`);
  assert.equal(truncated, 1);
  assert.equal(out[0], 'x'.repeat(4096));
  framer.push(bytesOf(`\n${RFC3164}\n`)); // the end of the long line, then a normal message
  framer.end();
  assert.deepEqual(out, ['x'.repeat(4096), RFC3164]);
});

test('99999999999999999999 x: a MSG-LEN too long to be real is read as a newline-framed line', () => {
  const data = bytesOf(`99999999999999999999 x\n${RFC3164}\n`);
  for (const chunks of [[data], everyByte(data)]) {
    const out = frame(chunks);
    assert.deepEqual(out.messages, ['99999999999999999999 x', RFC3164]);
    assert.equal(out.truncated, 0);
  }
});

test('digits not followed by SP, and a leading zero, are newline framing', () => {
  const out = frame([bytesOf(`2024-01-01T00:00:00Z host app: hi\n05 leading zero\n12\n`)]);
  assert.deepEqual(out.messages, ['2024-01-01T00:00:00Z host app: hi', '05 leading zero', '12']);
});

test('binary garbage and invalid UTF-8 decode with replacement characters', () => {
  const garbage = Buffer.from([0x3c, 0x31, 0x33, 0x3e, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x01, 0x7f, 0x0a, 0xed, 0xa0, 0x80, 0x0a]);
  const out = frame([garbage]);
  assert.equal(out.messages.length, 2);
  assert.equal(out.messages[0], '<13>\ufffd\ufffd\ufffd(\ufffd\u0001\u007f');
  assert.ok(out.messages[1]!.includes('\ufffd'));
});

test('NUL bytes end a newline-framed message but stay inside a counted one', () => {
  const counted = '<13>a\0b';
  const out = frame([bytesOf(`<13>x\0\0\0<13>y\0${octet(counted)}`)]);
  assert.deepEqual(out.messages, ['<13>x', '<13>y', counted]);
});

test('connection closing mid-frame: a newline-framed message is delivered, a counted one delivered and counted', () => {
  assert.deepEqual(frame([bytesOf('<13>partial line')]), { messages: ['<13>partial line'], truncated: 0 });
  assert.deepEqual(frame([bytesOf('<13>one\n200 <13>cut sho')]), { messages: ['<13>one', '<13>cut sho'], truncated: 1 });
  assert.deepEqual(frame([bytesOf('30 ')]), { messages: [], truncated: 1 });
  assert.deepEqual(frame([bytesOf('<13>ok\n30')]), { messages: ['<13>ok', '30'], truncated: 0 });
});

test('a cut never ends in half a UTF-8 character', () => {
  const text = `<13>${'é'.repeat(600)}`; // 2-byte characters: a 1000-byte cut would split one
  const out = frame([bytesOf(`${text}\n`)], 1001);
  assert.equal(out.truncated, 1);
  assert.equal(out.messages[0], `<13>${'é'.repeat(498)}`);
  assert.equal(utf8SafeEnd(bytesOf('a😀'), 3), 1);
  assert.equal(utf8SafeEnd(bytesOf('a😀'), 5), 5);
  assert.equal(utf8SafeEnd(bytesOf('ab'), 2), 2);
});

test('datagrams: one message, trailing newline stripped, several lines split, long lines cut', () => {
  const collect = (data: Buffer, max = 1024): Framed => {
    const out: Framed = { messages: [], truncated: 0 };
    splitDatagram(data, max, (text, truncated) => {
      if (truncated) out.truncated++;
      if (text !== '') out.messages.push(text);
    });
    return out;
  };
  assert.deepEqual(collect(bytesOf(`${RFC5424}\n`)), { messages: [RFC5424], truncated: 0 });
  assert.deepEqual(collect(bytesOf(`${RFC3164}\r\n${RFC5424}\n\n`)), { messages: [RFC3164, RFC5424], truncated: 0 });
  assert.deepEqual(collect(bytesOf(`<13>${'z'.repeat(2000)}\n<13>next`), 100), {
    messages: [`<13>${'z'.repeat(96)}`, '<13>next'],
    truncated: 1,
  });
  assert.deepEqual(collect(Buffer.alloc(0)), { messages: [], truncated: 0 });
});

/** Splits `data` at the given cut points. */
function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(data.subarray(from, point));
    from = point;
  }
  chunks.push(data.subarray(from));
  return chunks;
}

test('property: any bytes, split anywhere, give the same bounded messages and never throw', () => {
  // Bytes weighted towards the ones framing looks at, so digits, SP and trailers meet often.
  const byte = fc.oneof(fc.constantFrom(0x00, 0x0a, 0x0d, 0x20, 0x30, 0x31, 0x35, 0x39, 0x3c), fc.integer({ min: 0, max: 255 }));
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 400 }), fc.array(fc.nat(), { maxLength: 20 }), fc.integer({ min: 8, max: 64 }), (raw, cuts, max) => {
      const data = Buffer.from(raw);
      const whole = frame([data], max);
      const split = frame(splitAt(data, cuts), max);
      assert.deepEqual(split, whole);
      for (const message of whole.messages) assert.ok(message.length <= max);
    }),
    { numRuns: runs(500) },
  );
});

test('property: messages framed either way, mixed, split anywhere, come back exactly', () => {
  // Newline-framed syslog messages start with `<` (RFC 5424 PRI); a counted one may hold anything.
  const lineMessage = fc.string({ unit: 'binary', maxLength: 60 }).map((s) => `<13>${s.replace(/[\n\r\0]/g, ' ')}`);
  const countedMessage = fc
    .string({ unit: 'binary', minLength: 1, maxLength: 60 })
    .filter((s) => !/[\n\r\0]$/.test(s));
  const item = fc.oneof(
    lineMessage.map((text) => ({ text, wire: `${text}\n` })),
    lineMessage.map((text) => ({ text, wire: `${text}\r\n` })),
    countedMessage.map((text) => ({ text, wire: octet(text) })),
  );
  fc.assert(
    fc.property(fc.array(item, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (items, cuts) => {
      const data = bytesOf(items.map((i) => i.wire).join(''));
      const out = frame(splitAt(data, cuts), 1024);
      assert.deepEqual(out.messages, items.map((i) => i.text));
      assert.equal(out.truncated, 0);
    }),
    { numRuns: runs(300) },
  );
});
