// The contract every parser in the format map keeps (one shared test, as for any interface with several
// implementations): any string in, a well-formed result or undefined out, never an exception, and linear
// time on adversarial input (long lines built to make backtracking regexes explode).
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runs } from '../testing/fuzz.js';
import { parsers } from './index.js';
import type { ParsedFields, Parser } from './index.js';

const ctx = { now: Date.parse('2024-03-05T00:00:00Z') };
const OUTCOMES = new Set(['success', 'failure', 'unknown']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** What every result must look like; typed fields are checked on what the parsers themselves produce. */
function checkFields(fields: ParsedFields | undefined, line: string): void {
  if (fields === undefined) return;
  assert.ok(isPlainObject(fields), 'result is an object');
  assert.equal(typeof fields.event.dataset, 'string');
  assert.ok(fields.event.dataset.length > 0, 'dataset is not empty');
  // Serialisable with nothing lost: no undefined values, NaN, functions or cycles.
  assert.deepEqual(JSON.parse(JSON.stringify(fields)), fields);
  const ts = fields['@timestamp'];
  if (ts !== undefined) {
    assert.equal(typeof ts, 'string');
    assert.equal(new Date(ts).toISOString(), ts, '@timestamp is ISO 8601 UTC');
  }
  if (line.trimStart().startsWith('{') && fields.event.dataset !== 'nginx.access' && fields.event.dataset !== 'apache.access') {
    return; // a passed-through JSON document holds whatever its sender put in it
  }
  const { event } = fields;
  if (event.outcome !== undefined) assert.ok(OUTCOMES.has(event.outcome));
  if (event.category !== undefined) assert.ok(event.category.every((c) => typeof c === 'string'));
  if (event.duration !== undefined) assert.ok(Number.isInteger(event.duration) && event.duration >= 0);
  for (const endpoint of [fields.source, fields.destination]) {
    if (endpoint === undefined) continue;
    if (endpoint.ip !== undefined) assert.notEqual(isIP(endpoint.ip), 0, `valid IP: ${endpoint.ip}`);
    if (endpoint.port !== undefined) assert.ok(Number.isInteger(endpoint.port) && endpoint.port >= 0 && endpoint.port <= 65535);
    if (endpoint.domain !== undefined) assert.ok(endpoint.domain.length > 0);
  }
  const pid = fields.process?.pid;
  if (pid !== undefined) assert.ok(Number.isInteger(pid) && pid >= 0);
  const status = fields.http?.response?.status_code;
  if (status !== undefined) assert.ok(Number.isInteger(status) && status >= 100 && status <= 999);
  if (fields.user?.name !== undefined) assert.ok(fields.user.name.length > 0, 'user.name is never empty');
}

function run(parser: Parser, line: string): void {
  let result: ParsedFields | undefined;
  assert.doesNotThrow(() => {
    result = parser.parse(line, ctx);
  });
  checkFields(result, line);
}

// Pieces of real formats, so that random lines reach deep into the parsers rather than failing at byte 1.
const PIECES = [
  'Failed password for ', 'Accepted publickey for ', 'invalid user ', ' from ', ' port ', ' ssh2', ': ', ' [preauth]',
  'Invalid user ', 'Connection closed by ', 'authenticating user ', 'Received disconnect from ', ':11: ', 'Disconnected from ',
  'pam_unix(sshd:auth): ', 'authentication failure; ', 'rhost=', ' user=', 'session opened for user ', ' by ', '(uid=0)',
  'message repeated 3 times: [ ', ']', 'PAM 2 more authentication failures;', 'error: ', 'maximum authentication attempts exceeded for ',
  ' : ', ' ; ', 'TTY=pts/0', 'USER=root', 'COMMAND=', 'new user: name=', ', UID=', ', home=', ', shell=', "'", '"', '\\', '\\"',
  '[', '{', '}', '=', ' ', '  ', '192.0.2.1', '2001:db8::1', '::ffff:198.51.100.2', 'example.com', '65535', '99999', '-',
  'GET /a?b=c HTTP/1.1', '" 200 ', '" 404 -', '"-" ', '0.123 ', '\x16\x03\x01', '\u0000', '\r', '\n', '\x1b[31m', '\ufffd', '\ufeff',
];
const HEADERS = [
  '', 'Mar  4 10:00:00 gw sshd[1]: ', 'Mar  4 10:00:00 gw sudo: ', 'Mar  4 10:00:00 gw su[2]: ', 'Mar  4 10:00:00 gw useradd[3]: ',
  'Mar  4 10:00:00 gw chpasswd[4]: ', 'Mar  4 10:00:00 sshd[5]: ', '<38>Mar  4 10:00:00 gw sshd[6]: ', '2024-03-04T10:00:00Z gw sshd[7]: ',
  '<38>1 2024-03-04T10:00:00Z gw sshd 8 - ', '<38>1 - - - - - [', '192.0.2.1 - - [04/Mar/2024:10:00:00 +0000] "', '"192.0.2.1 - - [04/Mar/2024:10:00:00 +0000] "',
  '{"remote_addr":"192.0.2.1","request":"', '{"', '{"event":{"dataset":',
];
const piece = fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 }));
const nearLine = fc.tuple(fc.constantFrom(...HEADERS), fc.array(piece, { maxLength: 24 })).map(([h, p]) => h + p.join(''));

for (const [name, parser] of Object.entries(parsers)) {
  describe(`parser contract: ${name}`, () => {
    it('never throws and returns a well-formed result, for any string', () => {
      fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (line) => run(parser, line)), { numRuns: runs(300) });
      fc.assert(fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), (line) => run(parser, line)), { numRuns: runs(300) });
    });

    it('never throws and returns a well-formed result, for lines made of pieces of real formats', () => {
      fc.assert(fc.property(nearLine, (line) => run(parser, line)), { numRuns: runs(600) });
    });

    it('never throws on JSON values of any shape', () => {
      fc.assert(fc.property(fc.json({ maxDepth: 6 }), (line) => run(parser, line)), { numRuns: runs(200) });
    });
  });
}

// Long lines that would take quadratic (or worse) time in a backtracking pattern with overlapping
// quantifiers: each is hundreds of kilobytes, so a super-linear parser would run for minutes and hit the
// timeout below, while a linear one takes milliseconds. The timeout is a hang guard, not a benchmark.
const N = 60_000;
const SSH = 'Mar  4 10:00:00 gw sshd[1]: ';
const ACCESS = '192.0.2.1 - - [04/Mar/2024:10:00:00 +0000] "';
const ADVERSARIAL: Array<[string, string]> = [
  ['letters', 'a'.repeat(10 * N)],
  ['spaces', ' '.repeat(10 * N)],
  ['NUL and replacement characters', '\u0000\ufffd'.repeat(5 * N)],
  ['CRLF injection', 'Mar  4 10:00:00 gw sshd[1]: x\r\n'.repeat(N / 2)],
  ['ANSI escapes', '\x1b[31mred\x1b[0m'.repeat(N)],
  ['login: many " from "', SSH + 'Failed password for ' + ' from x'.repeat(N)],
  ['login: many addresses and ports', SSH + 'Failed password for invalid user ' + ' from 192.0.2.1 port 5'.repeat(N)],
  ['login: many ssh2: tails', SSH + 'Failed password for ' + ' from 192.0.2.1 port 5 ssh2: '.repeat(N) + 'x'],
  ['login: no address at all', SSH + 'Accepted password for ' + 'root '.repeat(2 * N)],
  ['invalid user: many " from "', SSH + 'Invalid user ' + ' from '.repeat(N) + 'x y'],
  ['connection closed: many words', SSH + 'Connection closed by authenticating user ' + 'a '.repeat(3 * N) + '!'],
  ['disconnecting: many words', SSH + 'Disconnecting invalid user ' + 'a '.repeat(3 * N) + ': x'],
  ['received disconnect: many colons', SSH + 'Received disconnect from ' + ':1'.repeat(3 * N)],
  ['PAM error: many " from "', SSH + 'error: PAM: Authentication failure for ' + ' from a'.repeat(N) + ' x'],
  ['repeated: many brackets', SSH + 'message repeated 2 times: [ ' + '[ '.repeat(3 * N)],
  ['bad protocol: many quotes', SSH + "Bad protocol version identification '" + "' from ".repeat(N) + 'x y'],
  ['starting session: many " from "', SSH + 'Starting session: shell on pts/0 for ' + ' from a port 1'.repeat(N) + 'x'],
  ['not allowed: many " from "', SSH + 'User ' + ' from x not'.repeat(N)],
  ['max attempts: many " from "', SSH + 'maximum authentication attempts exceeded for ' + ' from a port 1 ssh2'.repeat(N) + ' x'],
  ['PAM pairs', SSH + 'pam_unix(sshd:auth): authentication failure; ' + 'a=b '.repeat(2 * N)],
  ['PAM session', SSH + 'pam_unix(sshd:session): session opened for user ' + '(uid=0)'.repeat(N) + ' x'],
  ['sudo: many separators', 'Mar  4 10:00:00 gw sudo: a : ' + 'X ; '.repeat(2 * N)],
  ['useradd: many fields', 'Mar  4 10:00:00 gw useradd[1]: new user: name=a, UID=1, GID=1, home=/h, shell=' + ', from='.repeat(N) + ','],
  ['su: long tokens', 'Mar  4 10:00:00 gw su[1]: (to ' + 'a'.repeat(5 * N) + ') b on ' + ':'.repeat(N)],
  ['syslog: long tag', 'Mar  4 10:00:00 gw ' + 'a'.repeat(10 * N) + '[1]: x'],
  ['syslog: brackets', 'Mar  4 10:00:00 [' + '['.repeat(10 * N)],
  ['RFC 5424: escapes in structured data', '<1>1 - h a p m [x a="' + '\\"'.repeat(5 * N)],
  ['RFC 5424: many elements', '<1>1 - h a p m ' + '[a b="c"]'.repeat(N)],
  ['access: escaped quotes in request', ACCESS + '\\"'.repeat(5 * N)],
  ['access: quote-space pairs', ACCESS + 'GET / HTTP/1.1" 200 1 "' + '" '.repeat(5 * N)],
  ['access: quote-space-digit in request', ACCESS + '" 2'.repeat(3 * N)],
  ['access: many extra fields', ACCESS + 'GET / HTTP/1.1" 200 1 "-" "-" ' + '0.1 '.repeat(3 * N)],
  ['access: long head', '1 '.repeat(5 * N) + '[04/Mar/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 1'],
  ['access: wrapped in quotes', '"' + ACCESS + '"'.repeat(5 * N) + '"'],
  ['JSON: deep objects', '{"a":'.repeat(N) + '1' + '}'.repeat(N)],
  ['JSON: deep arrays', '['.repeat(5 * N) + ']'.repeat(5 * N)],
  ['JSON: long dotted key', '{"' + 'a.'.repeat(3 * N) + 'b":1}'],
  ['JSON: many dotted keys', '{' + Array.from({ length: N / 2 }, (_, i) => `"k${i}.x":${i}`).join(',') + '}'],
  ['JSON: unterminated', '{"a":"' + 'x'.repeat(10 * N)],
];

describe('adversarial long lines finish (linear-time parsing)', { timeout: 120_000 }, () => {
  for (const [label, line] of ADVERSARIAL) {
    it(`${label} (${Math.round(line.length / 1000)} kB)`, { timeout: 30_000 }, () => {
      for (const parser of Object.values(parsers)) run(parser, line);
    });
  }
});
