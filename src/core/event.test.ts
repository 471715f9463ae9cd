// getField against the plain reading of its rule, on documents mixing nested objects and literal dotted keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getField } from './event.js';

/** The rule, written as simply as possible: the whole rest as a key, else the longest leading segments as a key. */
function reference(doc: Record<string, unknown>, path: string): unknown {
  if (path in doc) return doc[path];
  let node: unknown = doc;
  let rest = path;
  while (rest.length > 0) {
    if (node === null || typeof node !== 'object') return undefined;
    const obj = node as Record<string, unknown>;
    if (rest in obj) return obj[rest];
    let found = false;
    for (let cut = rest.lastIndexOf('.'); cut > 0; cut = rest.lastIndexOf('.', cut - 1)) {
      if (rest.slice(0, cut) in obj) {
        node = obj[rest.slice(0, cut)];
        rest = rest.slice(cut + 1);
        found = true;
        break;
      }
    }
    if (!found) return undefined;
  }
  return node;
}

test('getField reads nested paths, literal dotted keys and their mixtures', () => {
  const doc = { source: { ip: '192.0.2.1', geo: { 'country_iso_code': 'DE' } }, 'url.query': 'a=1', 'a.b': { c: 1 }, a: { b: { c: 2 } }, x: 'text' };
  assert.equal(getField(doc, 'source.ip'), '192.0.2.1');
  assert.equal(getField(doc, 'source.geo.country_iso_code'), 'DE');
  assert.equal(getField(doc, 'url.query'), 'a=1');
  assert.equal(getField(doc, 'a.b.c'), 1);
  assert.equal(getField(doc, 'x.y'), undefined);
  assert.equal(getField(doc, 'source.port'), undefined);
  assert.equal(getField(doc, 'nothing'), undefined);
});

test('getField agrees with the reference on random documents and paths', () => {
  const seg = fc.constantFrom('a', 'b', 'c', 'a.b', 'b.c', '', 'a.b.c');
  const path = fc.array(fc.constantFrom('a', 'b', 'c', ''), { minLength: 0, maxLength: 4 }).map((p) => p.join('.'));
  const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, fc.constant(1), fc.constant(null), fc.constant('s'), fc.dictionary(seg, tie('node'), { maxKeys: 4 })),
  })).node;
  fc.assert(
    fc.property(fc.dictionary(seg, value, { maxKeys: 5 }), fc.array(path, { maxLength: 6 }), (doc, paths) => {
      for (const p of paths) assert.deepEqual(getField(doc, p), reference(doc, p), p);
    }),
    { numRuns: 2000 },
  );
});
