import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DAY_MS } from './requests.js';
import { FIVE_MINUTES_MS, HOUR_MS, MINUTE_MS, bucketStart, histogramGrains, rollupField, splitRange } from './rollups.js';

const T = Date.parse('2024-05-01T00:00:00Z');

test('a range splits into whole days, then hours, then minutes, and at most two edges read from the events', () => {
  const grains = [MINUTE_MS, HOUR_MS, DAY_MS];
  assert.deepEqual(splitRange({ from: T, to: T + 3 * DAY_MS }, grains), { rollups: [{ grain: DAY_MS, from: T, to: T + 3 * DAY_MS }], raw: [] });
  assert.deepEqual(splitRange({ from: T + 90 * MINUTE_MS + 5, to: T + DAY_MS + 30_000 }, grains), {
    rollups: [
      { grain: HOUR_MS, from: T + 2 * HOUR_MS, to: T + DAY_MS },
      { grain: MINUTE_MS, from: T + 91 * MINUTE_MS, to: T + 2 * HOUR_MS },
    ],
    raw: [
      { from: T + 90 * MINUTE_MS + 5, to: T + 91 * MINUTE_MS },
      { from: T + DAY_MS, to: T + DAY_MS + 30_000 },
    ],
  });
  // Inside one minute: only the events.
  assert.deepEqual(splitRange({ from: T + 1000, to: T + 2000 }, grains), { rollups: [], raw: [{ from: T + 1000, to: T + 2000 }] });
  // Open ends reach every bucket on their side.
  assert.deepEqual(splitRange({}, grains), { rollups: [{ grain: DAY_MS }], raw: [] });
  assert.deepEqual(splitRange({ from: T + 1 }, [HOUR_MS, DAY_MS]), {
    rollups: [{ grain: DAY_MS, from: T + DAY_MS }, { grain: HOUR_MS, from: T + HOUR_MS, to: T + DAY_MS }],
    raw: [{ from: T + 1, to: T + HOUR_MS }],
  });
  assert.deepEqual(splitRange({ from: T, to: T }, grains), { rollups: [], raw: [] });
  // Fractional ms bounds are truncated, as the stores' time bounds are.
  assert.deepEqual(splitRange({ from: T + 0.7, to: T + MINUTE_MS + 0.2 }, grains).rollups, [{ grain: MINUTE_MS, from: T, to: T + MINUTE_MS }]);
});

test('the pieces of a split range cover it exactly once, wherever its edges fall', () => {
  const grains = [MINUTE_MS, HOUR_MS, DAY_MS];
  fc.assert(
    fc.property(fc.integer({ min: -5 * DAY_MS, max: 5 * DAY_MS }), fc.integer({ min: 1, max: 3 * DAY_MS }), (offset, span) => {
      const from = T + offset;
      const to = from + span;
      const plan = splitRange({ from, to }, grains);
      const pieces = [...plan.rollups.map((r) => [r.from!, r.to!] as const), ...plan.raw.map((r) => [r.from!, r.to!] as const)].sort((a, b) => a[0] - b[0]);
      let at = from;
      for (const [a, b] of pieces) {
        assert.equal(a, at);
        assert.ok(b > a);
        at = b;
      }
      assert.equal(at, to);
      for (const r of plan.rollups) assert.ok(bucketStart(r.from!, r.grain) === r.from && bucketStart(r.to!, r.grain) === r.to);
      assert.ok(plan.raw.length <= 2);
      for (const r of plan.raw) assert.ok(r.to! - r.from! < MINUTE_MS * 2);
    }),
  );
});

test('a histogram uses the grains whose buckets each fall in one of its buckets', () => {
  const dataset = rollupField('event.dataset')!;
  assert.deepEqual(histogramGrains(dataset, { interval: 1_800_000, start: T }), [FIVE_MINUTES_MS]);
  assert.deepEqual(histogramGrains(dataset, { interval: 10_800_000, start: T }), [FIVE_MINUTES_MS, HOUR_MS]);
  assert.deepEqual(histogramGrains(dataset, { interval: 7 * DAY_MS, start: T - 2 * DAY_MS }), [FIVE_MINUTES_MS, HOUR_MS, DAY_MS]);
  assert.deepEqual(histogramGrains(dataset, { interval: 60_000, start: T }), []);
  assert.deepEqual(histogramGrains(dataset, { interval: 45_000, start: T }), []);
  assert.deepEqual(histogramGrains(dataset, { interval: 2 * DAY_MS, start: T + 30_000 }), []);
  assert.deepEqual(histogramGrains(rollupField('user.name')!, { interval: 1_800_000, start: T }), []);
  assert.equal(rollupField('event.action'), undefined);
});
