import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { ExclusionIndex, type ExclusionFlag } from './types.js';

describe('ExclusionIndex', () => {
  test('one event feeding several detectors marks each of their samples, counted per detector', () => {
    const index = new ExclusionIndex();
    const web = { excluded: 0 };
    const ips = { excluded: 0 };
    const a: ExclusionFlag = { excluded: false, tally: web };
    const b: ExclusionFlag = { excluded: false, tally: ips };
    const c: ExclusionFlag = { excluded: false, tally: ips };
    index.track('e1', a);
    index.track('e1', b);
    index.track('e1', b); // the same window again: held once
    index.track('e2', c);
    assert.equal(index.size, 2);
    assert.equal(index.exclude(['e1']), 2);
    assert.deepEqual([a.excluded, b.excluded, c.excluded], [true, true, false]);
    assert.deepEqual([web.excluded, ips.excluded], [1, 1]);
    assert.equal(index.exclude(['e1']), 0, 'marked once');
  });

  test('an id excluded before it arrives sets its flag on arrival; both parts stay within their caps, oldest out', () => {
    const index = new ExclusionIndex(3, 2);
    index.exclude(['early']);
    const flag: ExclusionFlag = { excluded: false };
    index.track('early', flag);
    assert.equal(flag.excluded, true);
    const flags = Array.from({ length: 5 }, (_, i) => {
      const f: ExclusionFlag = { excluded: false };
      index.track(`id${i}`, f);
      return f;
    });
    assert.equal(index.size, 3);
    assert.equal(index.exclude(['id0', 'id1', 'id4']), 1, 'id0 and id1 were evicted');
    assert.deepEqual(flags.map((f) => f.excluded), [false, false, false, false, true]);
    const late: ExclusionFlag = { excluded: false };
    index.track('early', late); // 'early' left the excluded ids (cap 2: id1, id4 remain)
    assert.equal(late.excluded, false);
  });
});
