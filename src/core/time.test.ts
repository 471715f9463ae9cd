// Time expressions: ISO 8601, epoch milliseconds and date math, with errors that show the accepted forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VigilError } from './errors.js';
import { parseDuration, parseTime } from './time.js';

const NOW = Date.parse('2024-06-01T12:00:00Z');

test('relative, absolute and epoch forms', () => {
  assert.equal(parseTime('now', NOW), NOW);
  assert.equal(parseTime('now-15m', NOW), NOW - 15 * 60_000);
  assert.equal(parseTime('now-24h', NOW), NOW - 86_400_000);
  assert.equal(parseTime('now+1d', NOW), NOW + 86_400_000);
  assert.equal(parseTime('2024-05-01T00:00:00Z', NOW), Date.parse('2024-05-01T00:00:00Z'));
  assert.equal(parseTime('1717243200000', NOW), 1717243200000);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1500'), 1500);
});

test('anything else is a clear error, never an exception of another kind', () => {
  assert.throws(() => parseTime('yesterday', NOW), /not a time: use ISO 8601/);
  assert.throws(() => parseDuration('5 minutes'), /not a duration/);
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      try {
        const t = parseTime(text, NOW);
        assert.ok(Number.isFinite(t));
      } catch (err) {
        assert.ok(err instanceof VigilError);
      }
    }),
  );
});
