import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ConditionError, identifierMatches, parseCondition } from './condition.js';

test('precedence: or < and < not < x of < parentheses', () => {
  assert.deepEqual(parseCondition('a or b and not c'), {
    type: 'or',
    args: [{ type: 'id', name: 'a' }, { type: 'and', args: [{ type: 'id', name: 'b' }, { type: 'not', arg: { type: 'id', name: 'c' } }] }],
  });
  assert.deepEqual(parseCondition('(a or b) and 1 of sel_* and not all of them'), {
    type: 'and',
    args: [
      { type: 'or', args: [{ type: 'id', name: 'a' }, { type: 'id', name: 'b' }] },
      { type: 'of', quantifier: 'any', pattern: 'sel_*' },
      { type: 'not', arg: { type: 'of', quantifier: 'all', pattern: 'them' } },
    ],
  });
  assert.deepEqual(parseCondition('A AND NOT B'), { type: 'and', args: [{ type: 'id', name: 'A' }, { type: 'not', arg: { type: 'id', name: 'B' } }] });
});

test('errors say where', () => {
  for (const [text, why] of [
    ['a and', /ends where an identifier/],
    ['(a or b', /missing "\)"/],
    ['a b', /unexpected "b"/],
    ['2 of sel*', /"1 of" and "all of"/],
    ['sel*', /needs "1 of"/],
    ['a | count() > 5', /correlation rule/],
    ['a & b', /unexpected character/],
    ['', /empty condition/],
  ] as const) {
    assert.throws(() => parseCondition(text), (err: unknown) => err instanceof ConditionError && why.test(err.message), text);
  }
  assert.throws(() => parseCondition('('.repeat(100) + 'a' + ')'.repeat(100)), /deeper than/);
  assert.throws(() => parseCondition('not '.repeat(100) + 'a'), /deeper than/);
});

test('identifier patterns', () => {
  assert.ok(identifierMatches('sel*', 'selection'));
  assert.ok(identifierMatches('*_main_*', 'filter_main_status'));
  assert.ok(!identifierMatches('filter_*', 'selection'));
  assert.ok(identifierMatches('them', 'keywords'));
  assert.ok(!identifierMatches('them', '_private'));
});
