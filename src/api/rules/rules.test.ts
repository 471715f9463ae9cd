import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestVigil } from '../../testing/runtime.js';

const json = (body: unknown): RequestInit => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('rules: list, switch off and on (admins only), and the tester with good, broken and hostile rule text', async () => {
  const vigil = await startTestVigil();
  try {
    const list = (await (await vigil.call('/api/v1/rules')).json()) as { total: number; rules: { id: string; title: string; enabled: boolean }[]; report: { rejected: unknown[] } };
    assert.ok(list.total >= 20);
    assert.deepEqual(list.report.rejected, []);
    const brute = list.rules.find((r) => r.title === 'SSH brute force from one source')!;
    const one = (await (await vigil.call(`/api/v1/rules/${brute.id}`)).json()) as { text: string };
    assert.match(one.text, /type: event_count/);

    const analyst = vigil.runtime.credentials.createToken('ana', 'analyst').token;
    assert.equal((await vigil.call(`/api/v1/rules/${brute.id}`, { method: 'PATCH', token: analyst, ...json({ enabled: false }) })).status, 403);
    const off = await vigil.call(`/api/v1/rules/${brute.id}`, { method: 'PATCH', ...json({ enabled: false }) });
    assert.equal(((await off.json()) as { enabled: boolean }).enabled, false);
    assert.equal(vigil.runtime.rules.get(brute.id)!.enabled, false);
    assert.equal((await vigil.call(`/api/v1/rules/${brute.id}`, { method: 'PATCH', ...json({ enabled: 'no' }) })).status, 400);
    assert.equal((await vigil.call('/api/v1/rules/nope', { method: 'PATCH', ...json({ enabled: true }) })).status, 404);

    const rule = 'title: Root login\nid: 11111111-2222-4333-8444-555555555555\nlogsource:\n  product: linux\n  service: sshd\ndetection:\n  sel:\n    user.name: root\n  condition: sel\nlevel: low\n';
    const events = [{ event: { dataset: 'sshd' }, user: { name: 'root' } }, { event: { dataset: 'sshd' }, user: { name: '<script>alert(1)</script>' } }];
    const tested = (await (await vigil.call('/api/v1/rules/test', { method: 'POST', token: analyst, ...json({ rule, events }) })).json()) as { matches: { index: number }[]; problems: unknown[] };
    assert.deepEqual(tested.matches.map((m) => m.index), [0]);
    assert.deepEqual(tested.problems, []);
    // Broken YAML and a ReDoS-shaped regex are reported as problems with their line, never run or crash.
    const broken = (await (await vigil.call('/api/v1/rules/test', { method: 'POST', token: analyst, ...json({ rule: 'title: [unclosed\n  : :', events }) })).json()) as { problems: { line: number }[] };
    assert.ok(broken.problems.length > 0);
    const redos = rule.replace('user.name: root', "user.name|re: '(a+)+$'");
    const slow = (await (await vigil.call('/api/v1/rules/test', { method: 'POST', token: analyst, ...json({ rule: redos, events: [{ event: { dataset: 'sshd' }, user: { name: 'a'.repeat(50_000) + '!' } }] }) })).json()) as { matches: unknown[] };
    assert.deepEqual(slow.matches, []);
    assert.equal((await vigil.call('/api/v1/rules/test', { method: 'POST', token: analyst, ...json({ rule, events: 'x' }) })).status, 400);
    assert.equal((await vigil.call('/api/v1/rules/test', { method: 'POST', token: analyst, headers: { 'content-type': 'application/json' }, body: '{"rule": ' })).status, 400);
  } finally {
    await vigil.close();
  }
});
