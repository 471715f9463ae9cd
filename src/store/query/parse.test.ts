import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runs } from '../../testing/fuzz.js';
import { VigilError } from '../../core/errors.js';
import { MAX_QUERY_DEPTH, parseQuery } from './parse.js';
import { printQuery } from './print.js';
import type { QueryNode } from './ast.js';
import { escapeWildcard, wildcardToLike } from './wildcard.js';

// VIGIL_FC_RUNS raises the number of random cases for a longer local hunt; the default keeps the suite quick.
const RUNS = runs(Number(process.env.VIGIL_FC_RUNS ?? 3000));

const term = (field: string | null, value: string, phrase = false, wildcard = false): QueryNode => ({
  type: 'term',
  field,
  value,
  phrase,
  wildcard,
});

function parseError(text: string): VigilError {
  try {
    parseQuery(text);
  } catch (err) {
    assert.ok(err instanceof VigilError, `expected a VigilError, got ${String(err)}`);
    assert.equal(err.id, 'bad_query');
    return err;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be rejected`);
}

test('empty and blank queries match everything', () => {
  assert.deepEqual(parseQuery(''), { type: 'all' });
  assert.deepEqual(parseQuery('  \t\n'), { type: 'all' });
  assert.deepEqual(parseQuery('*'), { type: 'all' });
});

test('field terms, phrases and bare words', () => {
  assert.deepEqual(parseQuery('user.name:root'), term('user.name', 'root'));
  assert.deepEqual(parseQuery('message:"Failed password for root"'), term('message', 'Failed password for root', true));
  assert.deepEqual(parseQuery('"say \\"hi\\" \\\\ now"'), term(null, 'say "hi" \\ now', true));
  assert.deepEqual(parseQuery('sshd'), term(null, 'sshd'));
  assert.deepEqual(parseQuery('event.action: ssh_login'), term('event.action', 'ssh_login'));
  assert.deepEqual(parseQuery('@timestamp:2024-05-01'), term('@timestamp', '2024-05-01'));
  // Values may hold colons: URLs and unquoted IPv6 addresses.
  assert.deepEqual(parseQuery('url.original:http://example.com/a?b'), term('url.original', 'http://example.com/a?b', false, true));
  assert.deepEqual(parseQuery('source.ip:2001:db8::1'), term('source.ip', '2001:db8::1'));
  // Right after a colon an operator word is a value.
  assert.deepEqual(parseQuery('event.outcome:not'), term('event.outcome', 'not'));
});

test('wildcards keep escapes for literal * and ?', () => {
  assert.deepEqual(parseQuery('user.name:adm*'), term('user.name', 'adm*', false, true));
  assert.deepEqual(parseQuery('user.name:a?m\\*'), term('user.name', 'a?m\\*', false, true));
  assert.deepEqual(parseQuery('user.name:a\\*'), term('user.name', 'a*'));
  assert.equal(wildcardToLike('a?m\\*%_'), 'a_m*\\%\\_');
  assert.equal(wildcardToLike('50%*'), '50\\%%');
});

test('boolean operators, precedence and implicit AND', () => {
  const a = term(null, 'a');
  const b = term(null, 'b');
  const c = term(null, 'c');
  assert.deepEqual(parseQuery('a b'), { type: 'and', children: [a, b] });
  assert.deepEqual(parseQuery('a AND b OR c'), { type: 'or', children: [{ type: 'and', children: [a, b] }, c] });
  assert.deepEqual(parseQuery('a or b and c'), { type: 'or', children: [a, { type: 'and', children: [b, c] }] });
  assert.deepEqual(parseQuery('a || b && c'), { type: 'or', children: [a, { type: 'and', children: [b, c] }] });
  assert.deepEqual(parseQuery('NOT a'), { type: 'not', child: a });
  assert.deepEqual(parseQuery('!a'), { type: 'not', child: a });
  assert.deepEqual(parseQuery('a -b'), { type: 'and', children: [a, { type: 'not', child: b }] });
  assert.deepEqual(parseQuery('not not a'), { type: 'not', child: { type: 'not', child: a } });
  assert.deepEqual(parseQuery('(a OR b) c'), { type: 'and', children: [{ type: 'or', children: [a, b] }, c] });
  assert.deepEqual(parseQuery('a AND NOT (b OR c)'), {
    type: 'and',
    children: [a, { type: 'not', child: { type: 'or', children: [b, c] } }],
  });
  // Words that merely start with an operator stay words.
  assert.deepEqual(parseQuery('orange android notice'), {
    type: 'and',
    children: [term(null, 'orange'), term(null, 'android'), term(null, 'notice')],
  });
});

test('field groups apply the field to every term inside', () => {
  assert.deepEqual(parseQuery('event.outcome:(success OR "un known" OR -failure)'), {
    type: 'or',
    children: [
      term('event.outcome', 'success'),
      term('event.outcome', 'un known', true),
      { type: 'not', child: term('event.outcome', 'failure') },
    ],
  });
  assert.deepEqual(parseQuery('source.ip:(2001:db8::1 OR 10.0.0.0/8)'), {
    type: 'or',
    children: [term('source.ip', '2001:db8::1'), { type: 'cidr', field: 'source.ip', cidr: '10.0.0.0/8' }],
  });
  assert.deepEqual(parseQuery('status:(>=500 OR [400 TO 403})'), {
    type: 'or',
    children: [
      { type: 'range', field: 'status', gte: '500' },
      { type: 'range', field: 'status', gte: '400', lt: '403' },
    ],
  });
  assert.deepEqual(parseQuery('host.name:(web* *)'), {
    type: 'and',
    children: [term('host.name', 'web*', false, true), { type: 'exists', field: 'host.name' }],
  });
});

test('ranges and comparisons', () => {
  assert.deepEqual(parseQuery('source.port:[1024 TO 65535]'), { type: 'range', field: 'source.port', gte: '1024', lte: '65535' });
  assert.deepEqual(parseQuery('source.port:{1024 TO 65535}'), { type: 'range', field: 'source.port', gt: '1024', lt: '65535' });
  assert.deepEqual(parseQuery('source.port:[1024 to 65535}'), { type: 'range', field: 'source.port', gte: '1024', lt: '65535' });
  assert.deepEqual(parseQuery('@timestamp:[2024-05-01T00:00:00Z TO *]'), {
    type: 'range',
    field: '@timestamp',
    gte: '2024-05-01T00:00:00Z',
  });
  assert.deepEqual(parseQuery('x:["a b" TO "\\*"]'), { type: 'range', field: 'x', gte: 'a b', lte: '*' });
  assert.deepEqual(parseQuery('x:[* TO *]'), { type: 'exists', field: 'x' });
  assert.deepEqual(parseQuery('http.response.status_code>=500'), { type: 'range', field: 'http.response.status_code', gte: '500' });
  assert.deepEqual(parseQuery('http.response.status_code > 499'), { type: 'range', field: 'http.response.status_code', gt: '499' });
  assert.deepEqual(parseQuery('bytes<10'), { type: 'range', field: 'bytes', lt: '10' });
  assert.deepEqual(parseQuery('bytes:<=-10'), { type: 'range', field: 'bytes', lte: '-10' });
  // A `<` that does not follow a field name is text.
  assert.deepEqual(parseQuery('"<script>"'), term(null, '<script>', true));
  assert.deepEqual(parseQuery('<script>'), term(null, '<script>'));
});

test('exists and CIDR', () => {
  assert.deepEqual(parseQuery('user.name:*'), { type: 'exists', field: 'user.name' });
  assert.deepEqual(parseQuery('source.ip:10.0.0.0/8'), { type: 'cidr', field: 'source.ip', cidr: '10.0.0.0/8' });
  assert.deepEqual(parseQuery('source.ip:"2001:db8::/32"'), { type: 'cidr', field: 'source.ip', cidr: '2001:db8::/32' });
  assert.deepEqual(parseQuery('source.ip:2001:db8::/32'), { type: 'cidr', field: 'source.ip', cidr: '2001:db8::/32' });
  // Not a CIDR: an escaped slash, a path, a bare word.
  assert.deepEqual(parseQuery('x:10.0.0.0\\/8'), term('x', '10.0.0.0/8'));
  assert.deepEqual(parseQuery('url.path:/admin/login'), term('url.path', '/admin/login'));
  assert.deepEqual(parseQuery('10.0.0.0/8'), term(null, '10.0.0.0/8'));
});

test('errors name the problem and its position', () => {
  let err = parseError('user.name:(root OR admin');
  assert.match(err.message, /expected '\)' to close '\(' opened at position 10/);
  assert.equal(err.location, 'position 24');
  err = parseError('a AND');
  assert.match(err.message, /expected a term after 'AND' at position 2/);
  err = parseError('OR a');
  assert.match(err.message, /expected a term before 'OR'/);
  assert.equal(err.location, 'position 0');
  err = parseError('a)');
  assert.match(err.message, /unexpected '\)'/);
  assert.equal(err.location, 'position 1');
  assert.match(parseError('message:"unclosed').message, /expected '"' to close the phrase opened at position 8/);
  assert.match(parseError('port:[1 5]').message, /expected 'TO'/);
  assert.match(parseError('port:[1 TO 5').message, /expected '\]' or '\}'/);
  assert.match(parseError('user.name:').message, /expected a value after 'user.name:'/);
  assert.match(parseError('port>=').message, /expected a value after 'port>='/);
  assert.match(parseError('()').message, /empty parentheses/);
  assert.match(parseError('abc\\').message, /escapes nothing/);
  assert.match(parseError('a AND OR b').message, /expected a term after 'AND'/);
});

test('size and nesting are bounded', () => {
  assert.match(parseError('a'.repeat(8193)).message, /longer than 8 KiB/);
  assert.match(parseError('é'.repeat(4097)).message, /longer than 8 KiB/);
  const deep = `${'('.repeat(MAX_QUERY_DEPTH + 1)}a${')'.repeat(MAX_QUERY_DEPTH + 1)}`;
  assert.match(parseError(deep).message, /deeper than 64/);
  assert.match(parseError(`${'NOT '.repeat(MAX_QUERY_DEPTH + 1)}a`).message, /deeper than 64/);
  const ok = `${'('.repeat(MAX_QUERY_DEPTH)}a${')'.repeat(MAX_QUERY_DEPTH)}`;
  assert.deepEqual(parseQuery(ok), term(null, 'a'));
});

test('long adversarial input parses in one pass', () => {
  // Each of these would be quadratic or worse for a backtracking tokenizer; here they finish or fail quickly.
  for (const text of [
    'a'.repeat(8000),
    '\\*'.repeat(4000),
    '"'.padEnd(8000, 'x'),
    'a:'.repeat(4000),
    'a>'.repeat(4000),
    'x:[' + ' '.repeat(7990),
    '!'.repeat(8000),
    ' a'.repeat(4000),
    'a AND '.repeat(1300) + 'a',
  ]) {
    try {
      parseQuery(text);
    } catch (err) {
      assert.ok(err instanceof VigilError);
    }
  }
});

test('random text either parses or fails with a VigilError', () => {
  const alphabet = fc.constantFrom(...'ab:*?"\\()[]{}<>=!-&|/ \tTOANDORNOT.@0123456789'.split(''));
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: alphabet, maxLength: 200 })), (text) => {
      try {
        const node = parseQuery(text);
        // Whatever parsed must print to text that parses to the same tree.
        assert.deepEqual(parseQuery(printQuery(node)), node);
      } catch (err) {
        if (!(err instanceof VigilError)) throw err;
      }
    }),
    { numRuns: RUNS },
  );
});

// Random trees in the shape the parser produces (n-ary and/or with 2+ children, valid names, no empty words).
const fieldName = fc
  .string({ unit: fc.constantFrom(...'abcxyz_@.-019'.split('')), minLength: 1, maxLength: 12 })
  .filter((name) => !name.startsWith('-'));
const literal = fc.string({ minLength: 1, maxLength: 12 });
const wildcardPattern = fc
  .array(
    fc.oneof(
      fc.constantFrom('*', '?'),
      fc.constantFrom('\\*', '\\?', '\\\\'),
      fc.string({ minLength: 1, maxLength: 4 }).map(escapeWildcard),
    ),
    { minLength: 1, maxLength: 5 },
  )
  .filter((parts) => parts.some((p) => p === '*' || p === '?'))
  .map((parts) => parts.join(''))
  .filter((p) => p !== '*');
const cidr = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(32)).map(([a, b, n]) => `${a}.${b}.0.0/${n}`),
  fc.tuple(fc.nat(0xffff), fc.nat(128)).map(([a, n]) => `2001:${a.toString(16)}::/${n}`),
);

const leaf: fc.Arbitrary<QueryNode> = fc.oneof(
  fc.record({ type: fc.constant('term' as const), field: fc.option(fieldName, { nil: null }), value: literal, phrase: fc.constant(false), wildcard: fc.constant(false) }),
  fc.record({ type: fc.constant('term' as const), field: fc.option(fieldName, { nil: null }), value: fc.string({ maxLength: 12 }), phrase: fc.constant(true), wildcard: fc.constant(false) }),
  fc.record({ type: fc.constant('term' as const), field: fc.option(fieldName, { nil: null }), value: wildcardPattern, phrase: fc.constant(false), wildcard: fc.constant(true) }),
  fc.record({ type: fc.constant('exists' as const), field: fieldName }),
  fc.record({ type: fc.constant('cidr' as const), field: fieldName, cidr }),
  fc
    .record({ field: fieldName, low: fc.option(literal, { nil: undefined }), high: fc.option(literal, { nil: undefined }), lowInc: fc.boolean(), highInc: fc.boolean() })
    .filter((r) => r.low !== undefined || r.high !== undefined)
    .map((r) => {
      const node: QueryNode & { type: 'range' } = { type: 'range', field: r.field };
      if (r.low !== undefined) node[r.lowInc ? 'gte' : 'gt'] = r.low;
      if (r.high !== undefined) node[r.highInc ? 'lte' : 'lt'] = r.high;
      return node;
    }),
  fc.constant({ type: 'all' as const }),
);

const tree = fc.letrec<{ node: QueryNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((children): QueryNode => ({ type: 'and', children })),
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((children): QueryNode => ({ type: 'or', children })),
    tie('node').map((child): QueryNode => ({ type: 'not', child })),
  ),
})).node;

test('printing a random tree and parsing it back gives the same tree', () => {
  fc.assert(
    fc.property(tree, (node) => {
      const text = printQuery(node);
      // structuredClone: fast-check builds records without a prototype, which deepEqual would count as a difference.
      assert.deepEqual(parseQuery(text), structuredClone(node), `printed as ${text}`);
    }),
    { numRuns: RUNS },
  );
});
