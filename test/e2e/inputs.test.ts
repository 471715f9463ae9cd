// Real senders into a real Vigil: logger and rsyslogd over syslog, and a tailed file that gets rotated,
// each checked by searching the store for the parsed ECS fields.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import net from 'node:net';
import { startTestVigil, type TestVigil } from '../../src/testing/runtime.js';

const run = promisify(execFile);
const hasTool = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

let vigil: TestVigil;
let dir: string;
let tailed: string;

async function search(q: string): Promise<{ total: number; events: Record<string, any>[] }> {
  const response = await vigil.call(`/api/v1/events?q=${encodeURIComponent(q)}&limit=1000`);
  assert.equal(response.status, 200);
  return (await response.json()) as { total: number; events: Record<string, any>[] };
}

/** Polls the store until the query has `count` matches (a deadline for a hung test, not a speed assertion). */
async function waitForCount(q: string, count: number, ms = 20_000): Promise<{ total: number; events: Record<string, any>[] }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await search(q);
    if (result.total >= count || Date.now() > deadline) return result;
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-inputs-'));
  tailed = join(dir, 'auth.log');
  writeFileSync(tailed, 'Mar  3 09:00:00 filehost sshd[10]: Invalid user before-start from 192.0.2.200 port 1000\n');
  vigil = await startTestVigil(
    { syslog: { port: 5514 }, files: { enabled: true, targets: [{ path: tailed, format: 'sshd' }], start_at: 'beginning', poll_ms: 100 } },
    { syslogPort: 'ephemeral' },
  );
});
after(async () => {
  await vigil.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('syslog from real senders', () => {
  const port = () => String(vigil.runtime.syslog!.tcpPort);

  test('logger over UDP, TCP (newline and octet-counted), RFC 3164 and RFC 5424', { skip: !hasTool('logger') && 'logger is not installed' }, async () => {
    const sends: [string, string[]][] = [
      ['udp', ['--udp', '--rfc3164']],
      ['tcp', ['--tcp', '--rfc3164']],
      ['octet', ['--tcp', '--octet-count', '--rfc5424']],
      ['udp5424', ['--udp', '--rfc5424']],
    ];
    for (const [name, flags] of sends) {
      await run('logger', ['-n', '127.0.0.1', '-P', port(), ...flags, '-t', 'sshd', '-i', `Failed password for invalid user via-${name} from 203.0.113.99 port 4000 ssh2`]);
    }
    const found = await waitForCount('event.dataset:sshd AND source.ip:203.0.113.99', sends.length);
    assert.equal(found.total, sends.length);
    const users = found.events.map((e) => e.user.name).sort();
    assert.deepEqual(users, sends.map(([name]) => `via-${name}`).sort());
    for (const e of found.events) {
      assert.equal(e.event.outcome, 'failure');
      assert.match(e.log.source.address, /^127\.0\.0\.1/);
    }
  });

  test('rsyslogd forwards an auth log over TCP with octet counting', { skip: !hasTool('rsyslogd') && 'rsyslogd is not installed' }, async (t) => {
    const work = mkdtempSync(join(dir, 'rsyslog-'));
    const input = join(work, 'input.log');
    writeFileSync(input, Array.from({ length: 10 }, (_, i) => `Accepted publickey for fwd${i} from 198.51.100.${i} port 2200 ssh2`).join('\n') + '\n');
    const conf = join(work, 'rsyslog.conf');
    writeFileSync(
      conf,
      `global(workDirectory="${work}")
module(load="imfile")
input(type="imfile" file="${input}" tag="sshd[321]:" facility="auth" severity="info" ruleset="forward")
ruleset(name="forward") {
  action(type="omfwd" target="127.0.0.1" port="${port()}" protocol="tcp" TCP_Framing="octet-counted")
}
`,
    );
    const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(work, 'rsyslogd.pid')], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    const found = await waitForCount('event.dataset:sshd AND event.outcome:success AND user.name:fwd*', 10);
    assert.equal(found.total, 10);
    assert.ok(found.events.every((e) => e.process.name === 'sshd' && /^198\.51\.100\.\d$/.test(e.source.ip)));
  });
});

describe('hostile syslog', () => {
  test('a message over the size limit is cut, tagged _truncated and stored; the connection goes on', async () => {
    const long = `<38>Mar  3 09:00:00 bighost sshd[1]: Failed password for root from 192.0.2.150 port 22 ssh2 ${'A'.repeat(70_000)}`;
    const after_ = '<38>Mar  3 09:00:01 bighost sshd[1]: Failed password for root from 192.0.2.151 port 22 ssh2';
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(vigil.runtime.syslog!.tcpPort, '127.0.0.1', () => socket.end(`${long}\n${after_}\n`));
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });
    const found = await waitForCount('host.name:bighost', 2);
    assert.equal(found.total, 2);
    const cut = found.events.find((e) => (e.tags ?? []).includes('_truncated'));
    assert.ok(cut, 'the long message is stored, tagged');
    assert.ok(cut.event.original.startsWith(long.slice(0, 200)));
    assert.ok(cut.event.original.length <= 64 * 1024);
    const next = found.events.find((e) => e !== cut);
    assert.equal(next?.source.ip, '192.0.2.151', 'the message after it arrives whole and parsed');
  });
});

describe('tailed files', () => {
  test('lines appended to a tailed file arrive parsed, also across a rename rotation', async () => {
    assert.equal((await waitForCount('user.name:before-start', 1)).total, 1);
    appendFileSync(tailed, 'Mar  3 09:00:01 filehost sshd[11]: Failed password for root from 192.0.2.201 port 1001 ssh2\n');
    assert.equal((await waitForCount('source.ip:192.0.2.201', 1)).total, 1);
    appendFileSync(tailed, 'Mar  3 09:00:02 filehost sshd[12]: Failed password for root from 192.0.2.202 port 1002 ssh2\n');
    renameSync(tailed, `${tailed}.1`);
    writeFileSync(tailed, 'Mar  3 09:00:03 filehost sshd[13]: Failed password for root from 192.0.2.203 port 1003 ssh2\n');
    const found = await waitForCount('host.name:filehost AND event.dataset:sshd', 4);
    assert.equal(found.total, 4, 'nothing lost or doubled across the rotation');
    assert.ok(found.events.every((e) => e.log.file.path === tailed));
  });
});
