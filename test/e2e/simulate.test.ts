// `vigil simulate` against a real server: its traffic arrives through syslog TCP and the HTTP API, parsed into the
// datasets the detections read, with the attack steps where the scenarios put them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runVigil } from '../../src/testing/process.js';
import { startTestVigil } from '../../src/testing/runtime.js';

test('every scenario is delivered through the real inputs and parsed', async () => {
  const vigil = await startTestVigil({ syslog: { host: '127.0.0.1' } }, { syslogPort: 'ephemeral' });
  try {
    const ingest = vigil.runtime.credentials.createToken('simulator', 'ingest').token;
    const result = await runVigil(['simulate', '--server', vigil.url, '--token', ingest, '--syslog', `127.0.0.1:${vigil.runtime.syslog!.tcpPort}`, '--wait', '0', '--seed', '7']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /sent \d+ events/);
    const count = async (q: string) => {
      for (let i = 0; i < 50; i++) {
        const body = (await (await vigil.call(`/api/v1/events?q=${encodeURIComponent(q)}&from=now-1h&limit=1`)).json()) as { total: number };
        if (body.total > 0 || i === 49) return body.total;
        await new Promise((r) => setTimeout(r, 100));
      }
      return 0;
    };
    // Brute force and the compromise's brute force: 60 failures from one source, read by the sshd parser via syslog.
    assert.equal(await count('event.dataset:sshd AND source.ip:218.92.0.107 AND event.outcome:failure'), 60);
    assert.equal(await count('event.dataset:sshd AND user.name:bob AND event.outcome:success AND source.ip:218.92.0.107'), 1);
    assert.equal(await count('event.dataset:sudo AND user.name:bob'), 1);
    assert.equal(await count('event.dataset:sshd AND source.ip:61.177.172.13'), 25);
    assert.equal(await count('event.dataset:nginx.access AND source.ip:45.155.205.233'), 12);
    assert.equal(await count('event.dataset:host.network AND source.ip:185.220.101.34'), 60);
    assert.equal(await count('event.dataset:host.network AND event.action:listening_started AND source.port:4444'), 1);
    assert.equal(await count('event.dataset:nginx.access AND source.ip:5.188.10.176'), 8);
    assert.ok((await count('event.dataset:nginx.access AND http.response.status_code>=500')) >= 40);
    assert.equal(await count('tags:_parse_failure'), 0);
  } finally {
    await vigil.close();
  }
});

test('--dry-run prints the traffic; the same seed gives the same attacks; bad options are explained', async () => {
  const a = await runVigil(['simulate', '--scenario', 'sqli', '--dry-run', '--seed', '3']);
  assert.equal(a.code, 0);
  assert.match(a.stdout, /UNION%20SELECT/);
  const attacks = (text: string) => text.split('\n').filter((l) => l.includes('45.155.205.233')).map((l) => l.replace(/\[[^\]]+\]/, ''));
  const b = await runVigil(['simulate', '--scenario', 'sqli', '--dry-run', '--seed', '3']);
  assert.deepEqual(attacks(a.stdout), attacks(b.stdout));
  const bad = await runVigil(['simulate', '--scenario', 'nope']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Allowed choices are/);
  const noToken = await runVigil(['simulate', '--scenario', 'scan'], { VIGIL_TOKEN: '' });
  assert.notEqual(noToken.code, 0);
  assert.match(noToken.stderr, /no token/);
});
