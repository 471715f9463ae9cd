import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatMicros, parseIsoMicros, parseTimeMicros } from './time.js';

test('ISO timestamps keep microseconds', () => {
  assert.equal(parseIsoMicros('2024-05-01T10:20:30Z'), 1714558830000000n);
  assert.equal(parseIsoMicros('2024-05-01T10:20:30.123456Z'), 1714558830123456n);
  assert.equal(parseIsoMicros('2024-05-01 12:20:30.5+02:00'), 1714558830500000n);
  assert.equal(parseIsoMicros('2024-05-01T05:20:30-0500'), 1714558830000000n);
  assert.equal(parseIsoMicros('2024-05-01'), 1714521600000000n);
  assert.equal(new Date(Number(parseIsoMicros('0050-01-01')! / 1000n)).getUTCFullYear(), 50);
  for (const bad of ['2024-02-30', '2024-13-01', '2024-05-01T25:00', '2024-05-01T10:20:30Zjunk', '2024-05-01T10:20:30.', 'May 1']) {
    assert.equal(parseIsoMicros(bad), undefined, bad);
  }
  assert.equal(parseTimeMicros('1714558830000'), 1714558830000000n);
  assert.equal(formatMicros(1714558830123456n), '2024-05-01T10:20:30.123456Z');
  assert.equal(formatMicros(1714558830000000n), '2024-05-01T10:20:30.000Z');
  fc.assert(
    fc.property(fc.date({ min: new Date(0), max: new Date('2200-01-01'), noInvalidDate: true }), (d) => {
      assert.equal(parseIsoMicros(d.toISOString()), BigInt(d.getTime()) * 1000n);
    }),
  );
});
