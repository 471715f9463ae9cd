// parseLine and the format map: reasons, line clean-up (CRLF, wrapped quotes), and whole fixture files.
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isFormat, parseLine, parsers } from './index.js';
import type { ParsedFields } from './index.js';

const ctx = { now: Date.parse('2024-03-05T00:00:00Z') };

function fixture(name: string): string {
  return readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
}

function parsed(line: string, format: string): ParsedFields {
  const outcome = parseLine(line, format, ctx);
  assert.ok(outcome.ok, `refused (${outcome.ok ? '' : outcome.reason}): ${line}`);
  return outcome.fields;
}

describe('the format map', () => {
  it('names exactly the documented formats, each parser under its own name', () => {
    assert.deepEqual(Object.keys(parsers).sort(), ['apache', 'auto', 'json', 'nginx', 'sshd', 'syslog']);
    for (const [name, parser] of Object.entries(parsers)) assert.equal(parser.name, name);
  });

  it('isFormat accepts those names only', () => {
    assert.ok(isFormat('auto'));
    assert.ok(isFormat('sshd'));
    assert.equal(isFormat('toString'), false);
    assert.equal(isFormat('__proto__'), false);
    assert.equal(isFormat('SYSLOG'), false);
  });
});

describe('parseLine', () => {
  it('refuses an unknown format and empty lines with a reason', () => {
    assert.deepEqual(parseLine('x', 'csv', ctx), { ok: false, reason: 'unknown format' });
    assert.deepEqual(parseLine('', 'auto', ctx), { ok: false, reason: 'empty line' });
    assert.deepEqual(parseLine(' \r', 'syslog', ctx), { ok: false, reason: 'empty line' });
  });

  it('gives each format its own reason for a line it does not read', () => {
    const line = 'definitely not a log line';
    assert.deepEqual(parseLine(line, 'auto', ctx), { ok: false, reason: 'no parser matched' });
    assert.deepEqual(parseLine(line, 'syslog', ctx), { ok: false, reason: 'not a syslog line' });
    assert.deepEqual(parseLine(line, 'sshd', ctx), { ok: false, reason: 'not an auth log line' });
    assert.deepEqual(parseLine(line, 'nginx', ctx), { ok: false, reason: 'not an access log line' });
    assert.deepEqual(parseLine(line, 'apache', ctx), { ok: false, reason: 'not an access log line' });
    assert.deepEqual(parseLine(line, 'json', ctx), { ok: false, reason: 'invalid JSON' });
  });

  it('ignores a trailing CR, in every format', () => {
    const syslog = parsed('Mar  4 10:00:00 gw sshd[1]: Invalid user bob from 192.0.2.1 port 22\r', 'syslog');
    assert.equal(syslog.source?.port, 22);
    assert.equal(syslog.message, 'Invalid user bob from 192.0.2.1 port 22');
    const access = parsed('192.0.2.1 - - [04/Mar/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "agent"\r', 'nginx');
    assert.equal(access.user_agent?.original, 'agent');
    const json = parsed('{"message":"m"}\r', 'json');
    assert.equal(json.message, 'm');
  });

  it('auto picks JSON, access log or syslog by the line', () => {
    assert.equal(parsed('{"a":1}', 'auto').event.dataset, 'json');
    assert.equal(parsed('192.0.2.1 - - [04/Mar/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 1', 'auto').event.dataset, 'nginx.access');
    assert.equal(parsed('Mar  4 10:00:00 gw sshd[1]: Invalid user bob from 192.0.2.1', 'auto').event.dataset, 'sshd');
    assert.equal(parsed('<13>Mar  4 10:00:00 gw app: hello', 'auto').event.dataset, 'syslog');
  });
});

/** The dataset each program of the auth.log fixture must land in (written out here, not taken from the parser). */
const AUTH_DATASETS: Record<string, string> = {
  CRON: 'pam', sshd: 'sshd', sudo: 'sudo', su: 'su', 'systemd-logind': 'syslog',
  groupadd: 'accounts', useradd: 'accounts', chpasswd: 'accounts', usermod: 'accounts', passwd: 'accounts', userdel: 'accounts',
};

describe('fixture files', () => {
  it('auth.log: every line parses into its program\'s dataset, with host, program and time', () => {
    const lines = fixture('auth.log').split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 53);
    let withAction = 0;
    for (const line of lines) {
      const program = /^\w{3} [ \d]\d [\d:]{8} bastion-1 ([\w-]+)/.exec(line)![1]!;
      for (const format of ['sshd', 'syslog', 'auto']) {
        const fields = parsed(line, format);
        assert.equal(fields.event.dataset, AUTH_DATASETS[program], `${format}: ${line}`);
        assert.equal(fields.host?.name, 'bastion-1');
        assert.equal(fields.process?.name, program);
        assert.match(fields['@timestamp'] ?? '', /^2024-01-14T0[67]:\d\d:\d\d\.000Z$/);
      }
      if (parsed(line, 'sshd').event.action !== undefined) withAction++;
    }
    // Only the two systemd-logind lines and `PAM service(sshd) ignoring max retries` say nothing we map.
    assert.equal(withAction, lines.length - 3);
  });

  it('auth.log: the failed logins of 203.0.113.77 add up, counting the repeated message', () => {
    let failures = 0;
    for (const line of fixture('auth.log').split('\n').filter((l) => l.length > 0)) {
      const f = parsed(line, 'sshd');
      if (f.event.action === 'ssh_login' && f.event.outcome === 'failure' && f.source?.ip === '203.0.113.77') {
        const auth = (f['system'] as { auth?: { repeated?: number } } | undefined)?.auth;
        failures += auth?.repeated ?? 1;
      }
    }
    assert.equal(failures, 5);
  });

  it('access.log: every line is an access event with client, time and status', () => {
    const lines = fixture('access.log').split('\n').filter((l) => l.length > 0);
    const statuses: number[] = [];
    for (const line of lines) {
      for (const format of ['nginx', 'apache', 'auto']) {
        const f = parsed(line, format);
        assert.equal(f.event.dataset, format === 'apache' ? 'apache.access' : 'nginx.access');
        assert.ok(f.source?.ip !== undefined || f.source?.domain !== undefined, line);
        assert.match(f['@timestamp'] ?? '', /^2024-03-03T10:/);
      }
      statuses.push(parsed(line, 'nginx').http?.response?.status_code ?? 0);
    }
    assert.deepEqual(statuses, [200, 200, 404, 404, 400, 400, 408, 201, 200, 404, 200, 200, 200, 200, 304]);
    const failures = lines.filter((l) => parsed(l, 'nginx').event.outcome === 'failure').length;
    assert.equal(failures, 6);
  });

  it('scanner.log: CRLF, lines wrapped in extra quotes, last line without newline', () => {
    const lines = fixture('scanner.log').split('\n');
    assert.equal(lines.length, 6);
    const got = lines.map((l) => parsed(l, 'apache'));
    assert.deepEqual(got.map((f) => f.http?.request?.method), ['GET', 'POST', 'GET', 'SCANNERPROBE', 'GET', 'OPTIONS']);
    assert.deepEqual(got.map((f) => f.http?.response?.status_code), [200, 302, 404, 501, 400, 200]);
    assert.ok(got.every((f) => f.source?.ip === '192.0.2.44'));
    assert.equal(got[0]!.url?.query, 'id=1%27+AND+1=1--');
    assert.equal(got[2]!.url?.query, 'q=\\xf0\\x9f\\x92\\xa9');
    assert.equal(got[2]!.user_agent?.original, 'Mozilla/5.0');
    assert.equal(got[5]!.user_agent?.original, 'Mozilla/5.0');
    assert.equal(got[5]!.http?.response?.body, undefined);
  });

  it('nginx-json.log: JSON access records in auto, nginx and json formats', () => {
    const lines = fixture('nginx-json.log').split('\n').filter((l) => l.length > 0);
    for (const format of ['auto', 'nginx', 'json']) {
      const got = lines.map((l) => parsed(l, format));
      assert.ok(got.every((f) => f.event.dataset === 'nginx.access'));
      assert.deepEqual(got.map((f) => f.http?.response?.status_code), [200, 404, 401, 400]);
      assert.deepEqual(got.map((f) => f.user?.name), [undefined, undefined, 'ops', undefined]);
      assert.deepEqual(got.map((f) => f.event.duration), [18_000_000, 0, 120_000_000, 1_000_000]);
      assert.equal(got[3]!.url, undefined);
    }
    assert.equal(parsed(lines[0]!, 'apache').event.dataset, 'apache.access');
  });
});
