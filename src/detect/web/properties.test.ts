// Property tests: the detectors read attacker-controlled text, so on any input — random bytes, broken UTF-16,
// NULs, megabyte values, and shapes built to make a parser backtrack or loop — they must return a boolean and
// finish. Completion is asserted by the test finishing; timings are not asserted (see bench/detect.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { inputCandidates } from './decode.js';
import { webDetectors, webExplainers } from './index.js';

const detectors = Object.entries(webDetectors);
const explainers = Object.entries(webExplainers);

function checkAll(value: string): void {
  for (const [name, detect] of detectors) {
    const result = detect(value);
    assert.equal(typeof result, 'boolean', name);
    assert.equal(webExplainers[name as keyof typeof webExplainers](value).match, result, `${name} explain agrees`);
  }
}

/** Characters that steer the tokenizers: quotes, comments, markup, escapes, lookups, separators. */
const SYNTAX = [...`'"\`;|&<>/\\*-#()[]{}$%=:.,!?@ \t\n\r\0+^~`, 'select', 'union', 'or', '--', '/*', '*/', '/*!',
  '<script', 'on', 'javascript:', '&#', '&#x', '${', '${jndi:', '${::-', '%25', '%2e', '%c0%ae', '../', '..\\', 'x',
  '1', '0x', "1'", 'q\'[', '$$', '$a$', 'e', 'N\'', 'U&\'', '\ud800', '\udfff', '\u00a0', '\uff1c'];

describe('web detectors on arbitrary input', () => {
  it('return a boolean, and agree with their explanations, on random strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => checkAll(s)), { numRuns: 300 });
  });

  it('do the same on strings made of attack syntax', () => {
    const syntax = fc.string({ unit: fc.constantFrom(...SYNTAX), maxLength: 80 });
    fc.assert(fc.property(syntax, (s) => checkAll(s)), { numRuns: 1500 });
  });

  it('do the same on query strings of such values', () => {
    const value = fc.string({ unit: fc.constantFrom(...SYNTAX), maxLength: 20 });
    const query = fc.array(fc.tuple(fc.stringMatching(/^[a-z_]{1,8}$/), value), { maxLength: 6 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, ''))}`).join('&'));
    fc.assert(fc.property(query, (q) => checkAll(q)), { numRuns: 400 });
  });

  it('finish on values shaped to make parsers backtrack or loop (64 KiB each, and a few at 1 MiB)', () => {
    const fill = (size: number, unit: string, tail = '') => unit.repeat(Math.ceil(size / unit.length)) + tail;
    const units: Array<[string, string?]> = [
      ['a', '!'], ["'"], ['"'], ['%25', '41'], ['${'], ['${::-j}'], ['<'], ['<a '], ['/*'], ['..//'], ['`'], ['&#'],
      ['\\', "'"], ['$a$'], ['1,'], ['('], ['a=1&'], ['\u0000'], ['\ud800'], [' '], ['-'], ['on'], ['='], ['\\x'],
    ];
    for (const [unit, tail] of units) checkAll(fill(1 << 16, unit, tail));
    for (const [unit, tail] of units.slice(0, 8)) {
      const value = fill(1 << 20, unit, tail);
      for (const [name, detect] of detectors) assert.equal(typeof detect(value), 'boolean', name);
    }
  });

  it('finish on the ReDoS shape `a` × 50000 + `!` and on 50000 nested lookups', () => {
    checkAll('a'.repeat(50_000) + '!');
    checkAll('${'.repeat(50_000) + 'jndi:ldap://x' + '}'.repeat(50_000));
    checkAll('%25'.repeat(50_000) + '2e');
  });

  it('bound decoding: candidates never exceed twice the input', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', '=', '&', '%', '2', '5', '+', 'b'), maxLength: 200 }), (s) => {
      const total = inputCandidates(s).reduce((n, c) => n + c.text.length, 0);
      assert.ok(total <= 2 * s.length, `${total} > 2 × ${s.length}`);
    }), { numRuns: 500 });
  });

  it('have an explanation for every detector', () => {
    assert.deepEqual(explainers.map(([name]) => name), detectors.map(([name]) => name));
  });
});
