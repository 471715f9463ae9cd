import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { Glob, ONE, shapeOf, SigmaString, STAR } from './sigma-string.js';

test('escapes follow the Sigma specification', () => {
  assert.deepEqual(SigmaString.parse('a*b?c').parts, ['a', STAR, 'b', ONE, 'c']);
  assert.deepEqual(SigmaString.parse(String.raw`a\*b\?c`).parts, ['a*b?c']);
  assert.deepEqual(SigmaString.parse(String.raw`C:\Windows\System32`).parts, [String.raw`C:\Windows\System32`]);
  assert.deepEqual(SigmaString.parse(String.raw`C:\\*`).parts, ['C:\\', STAR]);
  assert.deepEqual(SigmaString.parse(String.raw`a\\\*`).parts, ['a\\*']);
  assert.deepEqual(SigmaString.parse(String.raw`\\\\`).parts, ['\\\\']);
  assert.deepEqual(SigmaString.parse('a**b').parts, ['a', STAR, 'b']);
});

test('shapes pick the cheapest test', () => {
  assert.deepEqual(shapeOf(SigmaString.parse('*Abc*'), true), { kind: 'contains', text: 'abc' });
  assert.deepEqual(shapeOf(SigmaString.parse('abc*'), false), { kind: 'startswith', text: 'abc' });
  assert.deepEqual(shapeOf(SigmaString.parse('*abc'), false), { kind: 'endswith', text: 'abc' });
  assert.deepEqual(shapeOf(SigmaString.parse('abc'), false), { kind: 'equals', text: 'abc' });
  assert.equal(shapeOf(SigmaString.parse('a*b'), false).kind, 'glob');
});

/** A reference matcher: dynamic programming over the whole pattern (slow, obviously correct). */
function reference(parts: readonly (string | 0 | 1)[], text: string): boolean {
  const pat: (string | 0 | 1)[] = parts.flatMap((p): (string | 0 | 1)[] => (typeof p === 'string' ? [...p] : [p]));
  const chars = [...text].flatMap((c) => (c.length === 2 ? [c[0]!, c[1]!] : [c]));
  let row = new Array<boolean>(chars.length + 1).fill(false);
  row[0] = true;
  for (const p of pat) {
    const next = new Array<boolean>(chars.length + 1).fill(false);
    if (p === STAR) {
      let any = false;
      for (let j = 0; j <= chars.length; j++) next[j] = any = any || row[j]!;
    } else {
      for (let j = 1; j <= chars.length; j++) next[j] = row[j - 1]! && (p === ONE || chars[j - 1] === p);
    }
    row = next;
  }
  return row[chars.length]!;
}

test('the glob matcher agrees with a reference matcher on random patterns and texts', () => {
  const alphabet = fc.constantFrom('a', 'b', '*', '?', 'ab');
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 12 }), (pieces, text) => {
      const s = SigmaString.parse(pieces.join(''));
      assert.equal(new Glob(s.parts).test(text), reference(s.parts, text), `${pieces.join('')} on ${text}`);
    }),
    { numRuns: 2000 },
  );
});

test('glob matching stays polynomial on adversarial input', () => {
  const glob = new Glob(SigmaString.parse('*a*a*a*a*a*a*a*a*a*b').parts);
  const text = 'a'.repeat(20_000);
  assert.equal(glob.test(text), false);
});
