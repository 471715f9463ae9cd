// The audit trail end to end: actions through the API, the dashboard login and the `vigil` command become
// `vigil.audit` events that search finds like any other; senders cannot forge them; the journal ships exactly once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTestVigil, type TestVigil } from '../testing/runtime.js';
import { runVigil } from '../testing/process.js';
import type { Detection } from '../core/detection.js';
import { AUDIT_JOURNAL, appendAuditRecords } from './trail.js';
import { AuditShipper } from './shipper.js';

const PASSWORD = 'the admin password';

interface AuditDoc {
  '@timestamp': string;
  event: { id: string; dataset: string; kind: string; category: string[]; type: string[]; action: string; outcome: string; reason?: string };
  user: { name: string; roles?: string[]; target?: { name: string } };
  source?: { ip: string };
  message: string;
  tags?: string[];
  vigil: { audit: { actor: { name: string; kind: string; role?: string }; via: string; target?: { kind: string; id: string; name?: string }; details?: Record<string, unknown> } };
}

async function search(vigil: TestVigil, q: string, token?: string): Promise<AuditDoc[]> {
  const response = await vigil.call(`/api/v1/events?q=${encodeURIComponent(q)}&limit=1000&from=now-1d`, token ? { token } : {});
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { events: AuditDoc[] }).events;
}

/** Waits until the query finds at least `count` events (the shipper stores new records within a second or so). */
async function waitFor(vigil: TestVigil, q: string, count = 1): Promise<AuditDoc[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = await search(vigil, q);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function detection(ip: string): Detection {
  return {
    source: { kind: 'correlation', id: 'audit-test-rule', title: 'Audit test rule', author: 'Vigil' },
    severity: 'high',
    timestamp: new Date().toISOString(),
    entity: { field: 'source.ip', value: ip },
    group: { 'source.ip': ip },
    evidence: [`e-${ip}`],
    reason: `test detection about ${ip}`,
  };
}

describe('the audit trail', () => {
  let vigil: TestVigil;
  let analyst: string;
  let viewer: string;
  let ingest: string;

  before(async () => {
    vigil = await startTestVigil({}, { env: { VIGIL_ADMIN_PASSWORD: PASSWORD } });
    analyst = vigil.runtime.credentials.createToken('alice-token', 'analyst').token;
    viewer = vigil.runtime.credentials.createToken('victor-token', 'viewer').token;
    ingest = vigil.runtime.credentials.createToken('shipper', 'ingest').token;
  });
  after(async () => {
    await vigil.close();
  });

  test('the server start is recorded with a digest of the configuration', async () => {
    const [start] = await waitFor(vigil, 'event.dataset:vigil.audit AND event.action:vigil-started');
    assert.ok(start);
    assert.equal(start.event.kind, 'event');
    assert.deepEqual(start.event.category, ['configuration']);
    assert.equal(start.vigil.audit.actor.kind, 'system');
    assert.match(String(start.vigil.audit.details?.config_sha256), /^[0-9a-f]{64}$/);
  });

  test('analysts triage and suppress, admins switch rules: each change is an event naming who, how and from where', async () => {
    const [alert] = vigil.runtime.alerts.handle([detection('192.0.2.44')]);
    assert.ok(alert);
    const patch = await vigil.call(`/api/v1/alerts/${alert.id}`, { method: 'PATCH', token: analyst, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'acknowledged', verdict: 'true_positive', note: 'looked at it' }) });
    assert.equal(patch.status, 200);
    const bulk = await vigil.call('/api/v1/alerts', { method: 'PATCH', token: analyst, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: [alert.id], status: 'resolved' }) });
    assert.equal(bulk.status, 200);
    const suppression = (await (await vigil.call('/api/v1/suppressions', { method: 'POST', token: analyst, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entity: '192.0.2.45', reason: 'scanner we run' }) })).json()) as { id: string };
    assert.equal((await vigil.call(`/api/v1/suppressions/${suppression.id}`, { method: 'DELETE', token: analyst })).status, 204);
    const ruleId = vigil.runtime.rules.list()[0]!.id;
    assert.equal((await vigil.call(`/api/v1/rules/${ruleId}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"enabled":false}' })).status, 200);
    assert.equal((await vigil.call('/api/v1/rules/no-such-rule', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"enabled":true}' })).status, 404);
    // Too few samples: the retrain fails, and the failure is on record too.
    assert.equal((await vigil.call('/api/v1/models/web-requests/retrain', { method: 'POST', token: analyst })).status, 409);

    const updates = await waitFor(vigil, `event.dataset:vigil.audit AND event.action:alert-updated AND vigil.audit.target.id:"${alert.id}"`, 2);
    assert.equal(updates.length, 2);
    const first = updates.find((u) => (u.vigil.audit.details?.changes as unknown[]).length === 3)!;
    assert.ok(first, JSON.stringify(updates));
    assert.equal(first.user.name, 'alice-token');
    assert.deepEqual(first.user.roles, ['analyst']);
    assert.equal(first.vigil.audit.actor.kind, 'token');
    assert.equal(first.vigil.audit.via, 'api');
    assert.equal(first.source?.ip, '127.0.0.1');
    assert.deepEqual(first.event.category, ['configuration']);
    assert.deepEqual(first.vigil.audit.details?.changes, [
      { field: 'status', from: 'open', to: 'acknowledged' },
      { field: 'verdict', from: null, to: 'true_positive' },
      { field: 'note', note: 'looked at it' },
    ]);
    const config = await waitFor(vigil, 'event.dataset:vigil.audit AND (event.action:suppression-created OR event.action:suppression-removed OR event.action:rule-disabled OR event.action:model-retrained)', 4);
    const actions = config.map((e) => `${e.event.action}:${e.event.outcome}`).sort();
    assert.deepEqual(actions, ['model-retrained:failure', 'rule-disabled:success', 'suppression-created:success', 'suppression-removed:success']);
    assert.equal(config.find((e) => e.event.action === 'rule-disabled')?.vigil.audit.actor.kind, 'token');
    const failedEnable = await waitFor(vigil, 'event.dataset:vigil.audit AND event.action:rule-enabled AND event.outcome:failure');
    assert.equal(failedEnable[0]?.event.reason, 'not_found');
  });

  test('dashboard logins, failures and logouts are recorded; a viewer can search the trail but not write to it', async () => {
    const login = (password: string) => fetch(`${vigil.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
    assert.equal((await login('not it')).status, 401);
    const ok = await login(PASSWORD);
    assert.equal(ok.status, 200);
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
    const { csrf } = (await ok.json()) as { csrf: string };
    assert.equal((await fetch(`${vigil.url}/api/v1/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } })).status, 204);
    const trail = await waitFor(vigil, 'event.dataset:vigil.audit AND event.category:authentication AND user.name:admin', 3);
    const byAction = new Map(trail.map((e) => [e.event.action, e]));
    assert.equal(byAction.get('login-failed')?.event.outcome, 'failure');
    assert.equal(byAction.get('login-failed')?.event.reason, 'wrong_password');
    assert.equal(byAction.get('login')?.vigil.audit.via, 'dashboard');
    assert.equal(byAction.get('logout')?.vigil.audit.via, 'dashboard');

    const seen = await search(vigil, 'event.dataset:vigil.audit', viewer);
    assert.ok(seen.length >= 5, 'a viewer reads the trail');
    const forged = await vigil.call('/api/v1/events', { method: 'POST', token: viewer, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event: { dataset: 'vigil.audit', action: 'login' } }) });
    assert.equal(forged.status, 403, 'a viewer cannot send events at all');
  });

  test('documents that claim a vigil.* dataset are stored under external.vigil.*, tagged, never as the real thing', async () => {
    const forged = { event: { dataset: 'vigil.audit', action: 'user-removed', kind: 'event', outcome: 'success' }, user: { name: 'forger' }, message: 'forged audit record' };
    const json = await vigil.call('/api/v1/events', { method: 'POST', token: ingest, headers: { 'content-type': 'application/json' }, body: JSON.stringify([forged, { ...forged, event: { ...forged.event, dataset: 'vigil.alert', kind: 'alert' } }]) });
    assert.equal(json.status, 200);
    assert.deepEqual(((await json.json()) as { datasets: Record<string, number> }).datasets, { 'external.vigil.audit': 1, 'external.vigil.alert': 1 });
    const line = await vigil.call('/api/v1/events?format=json', { method: 'POST', token: ingest, headers: { 'content-type': 'text/plain' }, body: JSON.stringify(forged) });
    assert.equal(line.status, 200);
    const bulk = await vigil.call('/es/_bulk', {
      method: 'POST',
      token: ingest,
      headers: { 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ create: { _index: 'vigil.audit' } })}\n${JSON.stringify({ message: 'forged through bulk', user: { name: 'forger' } })}\n`,
    });
    assert.equal(bulk.status, 200);
    const renamed = await waitFor(vigil, 'event.dataset:external.vigil.audit AND user.name:forger', 3);
    assert.equal(renamed.length, 3);
    assert.ok(renamed.every((e) => e.tags?.includes('_vigil_reserved_dataset')));
    assert.deepEqual(await search(vigil, 'event.dataset:vigil.audit AND user.name:forger'), []);
    assert.deepEqual(await search(vigil, 'event.dataset:vigil.alert AND user.name:forger'), []);
  });

  test('user and token changes made with the vigil command beside a running server reach the trail', async () => {
    const env = { VIGIL_USER_PASSWORD: 'a good long password' };
    const added = await runVigil(['user', 'add', 'carol', '--role', 'analyst', '--data-dir', vigil.dataDir], env);
    assert.equal(added.code, 0, added.stderr);
    const token = await runVigil(['token', 'create', '--name', 'ci', '--role', 'ingest', '--data-dir', vigil.dataDir]);
    assert.equal(token.code, 0, token.stderr);
    const revoked = await runVigil(['token', 'revoke', 'ci', '--data-dir', vigil.dataDir]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const trail = await waitFor(vigil, 'event.dataset:vigil.audit AND event.category:iam', 3);
    const actions = trail.map((e) => e.event.action).sort();
    assert.deepEqual(actions, ['token-created', 'token-revoked', 'user-created']);
    const user = trail.find((e) => e.event.action === 'user-created')!;
    assert.equal(user.vigil.audit.via, 'cli');
    assert.equal(user.vigil.audit.actor.kind, 'cli');
    assert.equal(user.user.target?.name, 'carol');
    assert.ok(!JSON.stringify(trail).includes('vgl_'), 'no token secret reaches the trail');
    // `vigil search` finds them like any events.
    const cli = await runVigil(['search', 'event.dataset:vigil.audit AND event.action:user-created', '--format', 'ndjson', '--server', vigil.url, '--token', vigil.token]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /"target":\{"name":"carol"\}/);
  });

  test('the journal ships every record once, across restarts and lines cut by a crash', async () => {
    const journal = join(vigil.dataDir, AUDIT_JOURNAL);
    await vigil.runtime.auditShipper.flush();
    // A crash in the middle of a write leaves half a line; the next record still arrives whole.
    appendFileSync(journal, '{"@timestamp":"2024-');
    appendAuditRecords(vigil.dataDir, [{ action: 'after-torn-line', category: 'configuration', type: ['info'], outcome: 'success', actor: { name: 'test', kind: 'system' }, via: 'server', message: 'written after a torn line' }]);
    await vigil.runtime.auditShipper.flush();
    assert.equal((await waitFor(vigil, 'event.dataset:vigil.audit AND event.action:after-torn-line')).length, 1);
    assert.equal(vigil.runtime.auditShipper.stats().corrupt, 1);
    // Shipping the whole journal again (the offset lost) stores nothing twice: records keep their ids.
    const before = (await search(vigil, 'event.dataset:vigil.audit')).length;
    const lines = readFileSync(journal, 'utf8').trim().split('\n').length;
    assert.ok(lines >= before);
    rmSync(join(vigil.dataDir, 'audit.offset.json'));
    const replay = new AuditShipper({ dataDir: vigil.dataDir, ingest: vigil.runtime.pipeline });
    await replay.flush();
    await replay.close();
    assert.ok(replay.stats().shipped >= lines - 1, `${replay.stats().shipped} of ${lines} lines shipped again`);
    assert.equal((await search(vigil, 'event.dataset:vigil.audit')).length, before);
  });
});
