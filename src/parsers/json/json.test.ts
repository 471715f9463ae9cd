// JSON lines: depth limit, prototype safety, dotted-key expansion, refusal of non-objects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runs } from '../../testing/fuzz.js';
import { getField } from '../../core/event.js';
import { MAX_JSON_DEPTH, parseJsonLine } from './json.js';

function nested(depth: number): string {
  return '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
}

describe('parseJsonLine', () => {
  it('accepts nesting up to 32 levels and refuses deeper', () => {
    assert.equal(typeof parseJsonLine(nested(MAX_JSON_DEPTH)), 'object');
    assert.equal(parseJsonLine(nested(MAX_JSON_DEPTH + 1)), 'JSON nested deeper than 32 levels');
    assert.equal(parseJsonLine(`{"x":${'['.repeat(40)}${']'.repeat(40)}}`), 'JSON nested deeper than 32 levels');
    // Expanding a dotted key deepens the document too.
    const key = Array.from({ length: 40 }, (_, i) => `k${i}`).join('.');
    assert.equal(parseJsonLine(`{"${key}":1}`), 'JSON nested deeper than 32 levels');
  });

  it('never lets a key rewrite a prototype', () => {
    const f = parseJsonLine('{"__proto__":{"admin":true},"a":{"__proto__":{"admin":true}},"b.__proto__":1}');
    assert.equal(typeof f, 'object');
    const doc = f as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(doc), Object.prototype);
    assert.equal(Object.getPrototypeOf(doc['a']), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['admin'], undefined);
    assert.equal(Object.hasOwn(doc, '__proto__'), false);
  });

  it('expands dotted keys so that getField reads the same value (when nothing collides)', () => {
    // Values without objects: nested objects would have their own dotted keys expanded.
    const leaf = fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
    const key = fc.stringMatching(/^[a-z]{1,4}(\.[a-z]{1,4}){0,3}$/).filter((k) => !k.split('.').includes('event'));
    fc.assert(fc.property(fc.uniqueArray(key, { maxLength: 6 }), fc.array(leaf, { minLength: 6, maxLength: 6 }), (keys, values) => {
      // Keys where one is a prefix path of another collide; skip those documents.
      const collides = keys.some((a) => keys.some((b) => a !== b && b.startsWith(`${a}.`)));
      fc.pre(!collides);
      const doc: Record<string, unknown> = {};
      keys.forEach((k, i) => { doc[k] = values[i]; });
      const f = parseJsonLine(JSON.stringify(doc));
      assert.equal(typeof f, 'object');
      const fields = f as Record<string, unknown>;
      for (const k of keys) {
        if (doc[k] === undefined) continue;
        assert.deepEqual(getField(fields, k), JSON.parse(JSON.stringify(doc[k])), k);
        if (k.includes('.')) assert.equal(Object.hasOwn(fields, k), false, `${k} expanded`);
      }
      assert.equal(getField(fields, 'event.dataset'), 'json');
    }), { numRuns: runs(300) });
  });

  it('refuses every non-object JSON value, and keeps objects', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
      const result = parseJsonLine(JSON.stringify(value));
      const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
      if (!isObject) assert.equal(result, 'JSON is not an object');
      else assert.ok(typeof result === 'object' || result === 'field "event" is not an object');
    }), { numRuns: runs(300) });
  });
});
