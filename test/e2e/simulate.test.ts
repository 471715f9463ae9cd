// `vigil simulate` against a real server: its traffic arrives through syslog TCP and the HTTP API, parsed into the
// datasets the detections read, with the attack steps where the scenarios put them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runVigil } from '../../src/testing/process.js';
import { startTestVigil } from '../../src/testing/runtime.js';
import { SCENARIOS } from '../../src/simulate/scenarios.js';

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
    assert.equal(await count('event.dataset:host.network AND event.action:listening_started AND destination.port:4444'), 1);
    assert.equal(await count('event.dataset:nginx.access AND source.ip:5.188.10.176'), 8);
    // Impossible travel: two logins of carol, placed by the bundled GeoIP database in two countries.
    assert.equal(await count('event.dataset:sshd AND user.name:carol AND source.geo.country_iso_code:GB'), 1);
    assert.equal(await count('event.dataset:sshd AND user.name:carol AND source.geo.country_iso_code:BR'), 1);
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

test('each scenario raises its expected detections, about its attacker, and nothing else; the compromise is one incident', { timeout: 120_000 }, async () => {
  const vigil = await startTestVigil({ syslog: { host: '127.0.0.1' } }, { syslogPort: 'ephemeral' });
  try {
    const analyst = vigil.runtime.credentials.createToken('simulator', 'analyst').token;
    const scenarios = SCENARIOS.filter((s) => s.expect.every((id) => vigil.runtime.rules.get(id) !== undefined));
    assert.ok(scenarios.length >= 6, `scenarios with their rules loaded: ${scenarios.map((s) => s.name).join(', ')}`);
    const args = ['simulate', '--server', vigil.url, '--token', analyst, '--syslog', `127.0.0.1:${vigil.runtime.syslog!.tcpPort}`, '--wait', '60s', '--seed', '11'];
    const result = await runVigil([...args, ...scenarios.flatMap((s) => ['--scenario', s.name])]);
    assert.equal(result.code, 0, result.stderr);
    await vigil.runtime.pipeline.idle();
    const { alerts } = vigil.runtime.alerts.list({ limit: 1000 });
    const expected = new Set(scenarios.flatMap((s) => s.expect));
    // Every rule expected, and no other rule. An anomaly model may also flag an attacker's request (the exfiltration
    // is an unusual one) once it has trained, which depends on timing; what it flags must be an attacker too (below).
    const ruleAlerts = alerts.filter((a) => a.rule.kind !== 'model');
    assert.deepEqual(new Set(ruleAlerts.map((a) => a.rule.id)), expected, alerts.map((a) => `${a.rule.title} ${a.entity?.value}`).join('\n'));
    const attackers = new Set(['218.92.0.107', '61.177.172.13', '45.155.205.233', '185.220.101.34', '5.188.10.176', 'bob', 'root', 'shop-web-1', 'carol']);
    for (const alert of alerts) assert.ok(alert.entity && attackers.has(alert.entity.value), `${alert.rule.title} is about ${alert.entity?.value}`);
    // Brute force, the login it won, sudo to a root shell and a backdoor listener: one critical incident.
    const critical = vigil.runtime.incidents.list({ severity: ['critical'] }).incidents;
    assert.equal(critical.length, 1, JSON.stringify(vigil.runtime.incidents.list().incidents.map((i) => [i.title, i.stage, i.entities])));
    assert.equal(critical[0]!.stage, 'compromise');
    assert.match(critical[0]!.title, /Possible compromise: 218\.92\.0\.107/);
    // Impossible travel names both places, the distance, the time apart and the speed.
    const travel = alerts.find((a) => a.rule.id === '8afdeb73-249d-4591-9210-bc2c261e8006');
    assert.ok(travel, 'impossible travel alert');
    assert.match(travel.reason, /carol logged in from United Kingdom \(81\.2\.69\.192\) .* and from Brazil \(177\.54\.144\.1\) .*: at least [\d,]+ km apart .* in \d+ min, [\d,]+ km\/h \(more than 1,000 km\/h\)/);
  } finally {
    await vigil.close();
  }
});
