// Property tests of the rule loader and compiler: any text, any structure, any value, never an exception or a
// hang; and regular expressions built for catastrophic backtracking finish on long hostile input (RE2).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { DEFAULT_WINDOW_LIMITS } from '../correlate/correlation.js';
import { DEFAULT_MAPPING } from './mapping.js';
import { readRuleFile } from './model.js';
import { buildRuleSet } from './ruleset.js';
import { compileYaml, makeEvent, ruleWith } from './testing.js';

const options = { mapping: DEFAULT_MAPPING, extensions: { sqli: (v: string) => v.includes("'") }, placeholders: { Admins: ['root'] }, limits: DEFAULT_WINDOW_LIMITS };

/** Reads, compiles and runs rules from `text` over a few events; must not throw. */
function loadAndRun(text: string, events: Record<string, unknown>[] = []): void {
  const { models, problems } = readRuleFile(text, 'prop.yml');
  const set = buildRuleSet(models, problems, 1, options);
  for (const p of set.report.rejected) {
    assert.equal(typeof p.line, 'number');
    assert.ok(p.line >= 1);
  }
  for (const fields of events) {
    const event = makeEvent(fields);
    set.ctx.reset(event, 0);
    // Inactive rules (a logsource this install has no data for) were compiled against a scratch table and never run.
    for (const e of set.entries) if (!e.inactive) e.compiled?.match(set.ctx);
  }
}

const MODIFIERS = ['contains', 'startswith', 'endswith', 'all', 'cased', 'windash', 'base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'expand', 'neq', 're', 'i', 'm', 's', 'cidr', 'lt', 'lte', 'gt', 'gte', 'exists', 'fieldref', 'minute', 'hour', 'day', 'week', 'month', 'year', 'vigil.sqli', 'vigil.nope', 'bogus', ''];
const FIELDS = ['cs-uri-query', 'c-ip', 'sc-status', 'cs-user-agent', 'url.query', 'message', 'Image', 'unknown-field', '', '@timestamp'];
const scalar = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('*', '?', '\\', 'a', '%', '-', '/', '(', '+', '.', '['), maxLength: 16 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('10.0.0.0/8', '%Admins%', '(a+)+$', '2025-01-20T10:00:00Z', '::1/128'),
);
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 5 }), fc.dictionary(fc.string({ maxLength: 5 }), scalar, { maxKeys: 2 }));
const key = fc.tuple(fc.constantFrom(...FIELDS), fc.array(fc.constantFrom(...MODIFIERS), { maxLength: 3 })).map(([f, m]) => [f, ...m].join('|'));
const selection = fc.oneof(fc.dictionary(key, value, { maxKeys: 4 }), fc.array(fc.oneof(scalar, fc.dictionary(key, value, { maxKeys: 3 })), { maxLength: 4 }), scalar);
const conditionText = fc
  .array(fc.constantFrom('sel', 'other', 'and', 'or', 'not', '(', ')', '1 of', 'all of', 'them', 'sel*', '|', 'count()', '>', '5'), { maxLength: 10 })
  .map((t) => t.join(' '));
const logsource = fc.constantFrom(
  { category: 'webserver' },
  { product: 'linux', service: 'sshd' },
  { product: 'windows' },
  { product: 'linux', category: 'process_creation' },
  'not a map',
);
const eventFields = fc.record({
  event: fc.record({ dataset: fc.constantFrom('nginx.access', 'sshd', 'sudo'), category: fc.constant(['process']), type: fc.constant(['start']) }),
  url: fc.record({ original: fc.string({ maxLength: 40 }), query: fc.string({ maxLength: 20 }) }),
  source: fc.record({ ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 5 })) }),
  message: fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.array(fc.string({ maxLength: 5 }))),
  process: fc.record({ executable: fc.string({ maxLength: 20 }), command_line: fc.string({ maxLength: 40 }) }),
});

test('random text never throws from the loader', () => {
  fc.assert(fc.property(fc.string({ maxLength: 400 }), (text) => loadAndRun(text)), { numRuns: 500 });
  fc.assert(
    fc.property(fc.array(fc.constantFrom('title: x\n', 'detection:\n', '  sel:\n', '    a: 1\n', '  condition: sel\n', '- ', '&a ', '*a', '{', '[', ']', '}', '---\n', ':', '\n', '"', "'", '|', '>', 'correlation:\n', '  type: event_count\n'), { maxLength: 40 }), (pieces) =>
      loadAndRun(pieces.join('')),
    ),
    { numRuns: 500 },
  );
});

test('random rule structures and values compile or are rejected, never throw, and run', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.constantFrom('sel', 'other', 'sel_2', '_x'), selection, { minKeys: 1, maxKeys: 3 }),
      fc.oneof(conditionText, fc.array(conditionText, { maxLength: 2 }), scalar),
      logsource,
      fc.array(eventFields, { maxLength: 3 }),
      (detection, condition, ls, events) => {
        const doc = { title: 'prop', logsource: ls, detection: { ...detection, condition }, level: 'high' };
        loadAndRun(stringify(doc), events);
      },
    ),
    { numRuns: 600 },
  );
});

test('random correlations never throw', () => {
  const corr = fc.record({
    type: fc.constantFrom('event_count', 'value_count', 'temporal', 'temporal_ordered', 'value_sum', 'value_avg', 'value_percentile', 'bogus'),
    rules: fc.oneof(fc.array(fc.constantFrom('base', 'prop', 'missing'), { maxLength: 3 }), scalar),
    'group-by': fc.oneof(fc.array(fc.constantFrom('source.ip', 'c-ip', 'nope'), { maxLength: 2 }), scalar),
    timespan: fc.oneof(fc.constantFrom('1m', '5s', '0m', '1y', '10'), scalar),
    condition: fc.oneof(fc.dictionary(fc.constantFrom('gte', 'lt', 'eq', 'field', 'percentile', 'x'), scalar, { maxKeys: 3 }), scalar),
  });
  fc.assert(
    fc.property(corr, (c) => {
      const text = `${stringify({ title: 'prop', name: 'prop', correlation: c })}---\n${stringify({ title: 'base', name: 'base', logsource: { category: 'webserver' }, detection: { sel: { 'cs-method': 'GET' }, condition: 'sel' } })}`;
      loadAndRun(text, [{ event: { dataset: 'nginx.access' }, http: { request: { method: 'GET' } }, source: { ip: '192.0.2.1' } }]);
    }),
    { numRuns: 400 },
  );
});

test('hostile YAML: alias bombs, deep nesting, huge documents finish', () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${new Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  loadAndRun(`${bomb.join('\n')}\ntitle: bomb\nlogsource:\n    category: webserver\ndetection:\n    sel:\n        cs-method: *l\n    condition: sel\n`);
  loadAndRun(`title: deep\nlogsource: {category: webserver}\ndetection:\n    sel: ${'['.repeat(5000)}${']'.repeat(5000)}\n    condition: sel\n`);
  loadAndRun(`title: wide\nlogsource: {category: webserver}\ndetection:\n    sel:\n        cs-uri-query|contains: [${new Array(30_000).fill('"x"').join(',')}]\n    condition: sel\n`);
  loadAndRun(`title: windash bomb\nlogsource: {category: webserver}\ndetection:\n    sel:\n        cs-uri-query|windash: "${' -a'.repeat(40)}"\n    condition: sel\n`);
  loadAndRun('---\n'.repeat(500));
});

test('regular expressions shaped for catastrophic backtracking finish on long hostile input', () => {
  const patterns = ['(a+)+$', '(a|aa)*b', '(.*a){20}', '^(a|a?)+$', '(x+x+)+y', '([a-z]+)*[0-9]'];
  const rule = compileYaml(ruleWith(`    sel:\n        cs-uri-query|re:\n${patterns.map((p) => `            - '${p}'`).join('\n')}\n    condition: sel`));
  assert.deepEqual(rule.problems, []);
  for (const hostile of ['a'.repeat(100_000) + '!', 'x'.repeat(100_000), 'ab'.repeat(50_000)]) {
    const matched = rule.matches({ event: { dataset: 'nginx.access' }, url: { original: hostile } });
    assert.equal(typeof matched, 'boolean');
  }
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', 'x', '!', 'b', '0'), minLength: 1000, maxLength: 5000 }), (text) => {
      rule.matches({ event: { dataset: 'nginx.access' }, url: { original: text } });
    }),
    { numRuns: 100 },
  );
});
