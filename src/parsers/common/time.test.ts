// Timestamp helpers: year inference for RFC 3164, Common Log Format and ISO 8601 times.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runs } from '../../testing/fuzz.js';
import { clfTimestamp, isoFromMs, isoTimestamp, offsetMinutes, yearlessMs } from './time.js';

const at = (iso: string) => ({ now: Date.parse(iso) });

describe('yearlessMs (RFC 3164 timestamps without a year)', () => {
  it('takes the year of ctx.now when that is not in the future', () => {
    assert.equal(new Date(yearlessMs(2, 27, 13, 6, 56, 0, at('2024-06-01T00:00:00Z'))).toISOString(), '2024-03-27T13:06:56.000Z');
  });

  it('takes the previous year when this year would be more than a day ahead', () => {
    assert.equal(new Date(yearlessMs(11, 31, 23, 0, 0, 0, at('2024-01-01T01:00:00Z'))).toISOString(), '2023-12-31T23:00:00.000Z');
    assert.equal(new Date(yearlessMs(5, 2, 0, 0, 1, 0, at('2024-06-01T00:00:00Z'))).toISOString(), '2023-06-02T00:00:01.000Z');
    assert.equal(new Date(yearlessMs(0, 1, 0, 0, 0, 0, at('2024-12-31T12:00:00Z'))).toISOString(), '2025-01-01T00:00:00.000Z');
  });

  it('allows up to a day of clock skew into the future', () => {
    assert.equal(new Date(yearlessMs(5, 1, 23, 59, 59, 0, at('2024-06-01T00:00:00Z'))).toISOString(), '2024-06-01T23:59:59.000Z');
  });

  it('uses ctx.year when given, and refuses dates that year does not have', () => {
    assert.equal(new Date(yearlessMs(1, 29, 0, 0, 0, 0, { now: 0, year: 2016 })).toISOString(), '2016-02-29T00:00:00.000Z');
    assert.ok(Number.isNaN(yearlessMs(1, 29, 0, 0, 0, 0, { now: 0, year: 2017 })));
  });

  it('refuses impossible dates and times', () => {
    const ctx = at('2024-06-01T00:00:00Z');
    assert.ok(Number.isNaN(yearlessMs(3, 31, 0, 0, 0, 0, ctx)));
    assert.ok(Number.isNaN(yearlessMs(0, 1, 24, 0, 0, 0, ctx)));
    assert.ok(Number.isNaN(yearlessMs(0, 0, 0, 0, 0, 0, ctx)));
  });

  it('never returns a time more than a day after now', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 11 }), fc.integer({ min: 1, max: 31 }), fc.integer({ min: 0, max: 23 }),
      fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 0, 1) }),
      (month, day, hour, now) => {
        const t = yearlessMs(month, day, hour, 0, 0, 0, { now });
        if (Number.isNaN(t)) return;
        assert.ok(t <= now + 86_400_000);
        // … and it is the latest such year: one year later would be too far ahead (or not exist).
        const d = new Date(t);
        const next = Date.UTC(d.getUTCFullYear() + 1, month, day, hour);
        assert.ok(new Date(next).getUTCDate() !== day || next > now + 86_400_000);
      },
    ));
  });
});

describe('clfTimestamp', () => {
  it('reads dd/Mon/yyyy:hh:mm:ss ±zzzz and converts to UTC', () => {
    assert.equal(clfTimestamp('17/May/2015:10:05:03 +0000'), '2015-05-17T10:05:03.000Z');
    assert.equal(clfTimestamp('22/Dec/2016:16:30:52 +0300'), '2016-12-22T13:30:52.000Z');
    assert.equal(clfTimestamp('31/Dec/2023:23:30:00 -0130'), '2024-01-01T01:00:00.000Z');
  });

  it('refuses anything else', () => {
    for (const bad of ['17/May/2015:10:05:03', '17/Mey/2015:10:05:03 +0000', '32/May/2015:10:05:03 +0000', '17/May/2015 10:05:03 +0000', '17/May/2015:10:05:03 +2500', '']) {
      assert.equal(clfTimestamp(bad), undefined, bad);
    }
  });
});

describe('isoTimestamp', () => {
  it('reads RFC 3339 with fractions and offsets, no zone as UTC', () => {
    assert.equal(isoTimestamp('2015-04-16T18:02:50.321974+00:00'), '2015-04-16T18:02:50.321Z');
    assert.equal(isoTimestamp('2019-07-08T17:40:16.954167-04:00'), '2019-07-08T21:40:16.954Z');
    assert.equal(isoTimestamp('2024-02-11T09:14:22Z'), '2024-02-11T09:14:22.000Z');
    assert.equal(isoTimestamp('2024-02-11T09:14:22'), '2024-02-11T09:14:22.000Z');
    assert.equal(isoTimestamp('2024-02-11 09:14:22.5+0100'), '2024-02-11T08:14:22.500Z');
  });

  it('refuses malformed and impossible ones', () => {
    for (const bad of ['2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', '2024-02-11T25:00:00Z', 'yesterday', '2024-02-11T09:14:22+5']) {
      assert.equal(isoTimestamp(bad), undefined, bad);
    }
  });

  it('agrees with Date for any instant it writes', () => {
    fc.assert(fc.property(fc.date({ min: new Date('1971-01-01'), max: new Date('2999-12-31'), noInvalidDate: true }), (d) => {
      assert.equal(isoTimestamp(d.toISOString()), d.toISOString());
    }));
  });
});

describe('offsetMinutes', () => {
  it('reads zone designators', () => {
    assert.equal(offsetMinutes('Z'), 0);
    assert.equal(offsetMinutes(undefined), 0);
    assert.equal(offsetMinutes('+0300'), 180);
    assert.equal(offsetMinutes('-04:00'), -240);
    assert.equal(offsetMinutes('+05'), 300);
    assert.ok(Number.isNaN(offsetMinutes('+5')));
    assert.ok(Number.isNaN(offsetMinutes('+0:00')));
  });
});

describe('isoFromMs', () => {
  it('writes exactly what Date.prototype.toISOString writes, cache or not', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -8.64e15, max: 8.64e15 }), { minLength: 1, maxLength: 5 }), (times) => {
      for (const t of [...times, ...times.map((x) => Math.min(x + 1, 8.64e15)), ...times]) assert.equal(isoFromMs(t), new Date(t).toISOString());
    }), { numRuns: runs(500) });
    fc.assert(fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (t) => {
      assert.equal(isoFromMs(t), new Date(t).toISOString());
    }), { numRuns: runs(2000) });
  });
});
