import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Detection, Detector } from '../../core/detection.js';
import type { EcsEvent } from '../../core/event.js';
import { startTestVigil } from '../../testing/runtime.js';

/** A detector of the test's own: flags each sshd failure, naming its source address as the entity. */
const failedLogins: Detector = {
  name: 'test-failed-login',
  process(events: readonly EcsEvent[]): Detection[] {
    return events
      .filter((e) => e.event.dataset === 'sshd' && e.event.outcome === 'failure' && e.source?.ip)
      .map((e) => ({
        source: { kind: 'sigma', id: 'test-failed-login', title: 'Failed SSH login', author: 'Vigil tests' },
        severity: 'medium',
        timestamp: e['@timestamp'],
        entity: { field: 'source.ip', value: e.source!.ip! },
        evidence: [e.event.id],
        reason: `failed login for ${e.user?.name ?? '?'}`,
      }));
  },
};

const lines = [
  'Mar  3 11:00:01 web1 sshd[100]: Failed password for root from 203.0.113.7 port 5000 ssh2',
  'Mar  3 11:00:02 web1 sshd[100]: Failed password for admin from 203.0.113.7 port 5001 ssh2',
  'Mar  3 11:00:03 web1 sshd[100]: Accepted password for bob from 198.51.100.2 port 5002 ssh2',
];

test('detections on ingested events become deduplicated alerts, searchable detection events, and triage through the API', async () => {
  const vigil = await startTestVigil();
  try {
    vigil.runtime.detect.setDetectors([failedLogins]);
    const ingest = await vigil.call('/api/v1/events?format=sshd', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: lines.join('\n') });
    assert.equal(ingest.status, 200);
    // Detection runs once the batch is stored, and its events are written through the pipeline in turn.
    let list: { total: number; alerts: { id: string; count: number; entity: { value: string }; rule: { author: string }; evidence: string[] }[] } = { total: 0, alerts: [] };
    for (let i = 0; i < 100 && list.total === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      list = (await (await vigil.call('/api/v1/alerts?status=open')).json()) as typeof list;
    }
    assert.equal(list.total, 1);
    const alert = list.alerts[0]!;
    assert.equal(alert.count, 2);
    assert.equal(alert.entity.value, '203.0.113.7');
    assert.equal(alert.rule.author, 'Vigil tests');
    await vigil.runtime.pipeline.idle();
    const detectionEvents = (await (await vigil.call('/api/v1/events?q=event.dataset:vigil.alert AND source.ip:203.0.113.7&from=2000-01-01T00:00:00Z')).json()) as { total: number; events: EcsEvent[] };
    assert.equal(detectionEvents.total, 2);
    assert.equal((detectionEvents.events[0] as unknown as { rule: { name: string } }).rule.name, 'Failed SSH login');

    const incidents = (await (await vigil.call('/api/v1/incidents?status=open')).json()) as { total: number; incidents: { id: string; alerts: string[]; entity: { value: string } }[] };
    assert.equal(incidents.total, 1);
    assert.deepEqual(incidents.incidents[0]!.alerts, [alert.id]);
    const incident = (await (await vigil.call(`/api/v1/incidents/${incidents.incidents[0]!.id}`)).json()) as { alert_details: { id: string }[] };
    assert.deepEqual(incident.alert_details.map((a) => a.id), [alert.id]);
    const ack = await vigil.call(`/api/v1/incidents/${incidents.incidents[0]!.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'acknowledged', extra: 1 }) });
    assert.equal(ack.status, 400); // unknown fields are refused, naming them
    assert.match(((await ack.json()) as { error: { message: string } }).error.message, /extra|unrecognized/i);

    const one = (await (await vigil.call(`/api/v1/alerts/${alert.id}`)).json()) as { evidence_events: EcsEvent[] };
    assert.deepEqual(one.evidence_events.map((e) => e.user?.name), ['root', 'admin']);

    // Roles: a viewer reads but cannot change; an analyst can, and is named in the audit trail.
    const viewer = vigil.runtime.credentials.createToken('vera', 'viewer').token;
    const analyst = vigil.runtime.credentials.createToken('ana', 'analyst').token;
    assert.equal((await vigil.call(`/api/v1/alerts/${alert.id}`, { token: viewer })).status, 200);
    const patch = (token: string, body: unknown) => vigil.call(`/api/v1/alerts/${alert.id}`, { method: 'PATCH', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await patch(viewer, { status: 'acknowledged' })).status, 403);
    const bad = await patch(analyst, { status: 'closed' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { id: string } }).error.id, 'bad_request');
    assert.equal((await patch(analyst, { verdict: 'false_positive', note: 'our scanner' })).status, 200);
    const changed = (await (await vigil.call(`/api/v1/alerts/${alert.id}`)).json()) as { verdict: string; confidence: number; history: { by: string; action: string }[] };
    assert.equal(changed.verdict, 'false_positive');
    assert.equal(changed.confidence, 0.5); // medium prior Beta(4,4); verdicts move the rule's unjudged and future alerts
    assert.deepEqual(changed.history.map((h) => `${h.by}:${h.action}`), ['vigil:created', 'ana:verdict', 'ana:note']);
    assert.equal(vigil.runtime.alerts.ruleConfidence('test-failed-login', 'medium').value, 0.444);

    const bulk = await vigil.call('/api/v1/alerts', { method: 'PATCH', token: analyst, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: [alert.id], status: 'resolved' }) });
    assert.equal(bulk.status, 200);
    assert.equal(((await (await vigil.call('/api/v1/alerts?status=resolved')).json()) as { total: number }).total, 1);
    assert.equal((await vigil.call('/api/v1/alerts/nope')).status, 404);
    assert.equal((await vigil.call('/api/v1/alerts?severity=urgent')).status, 400);

    const suppression = await vigil.call('/api/v1/suppressions', { method: 'POST', token: analyst, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entity: '203.0.113.7', reason: 'pentest' }) });
    assert.equal(suppression.status, 201);
    assert.equal(((await (await vigil.call('/api/v1/suppressions')).json()) as { suppressions: unknown[] }).suppressions.length, 1);
  } finally {
    await vigil.close();
  }
});

test('alerts and incidents can be listed by the time they were active in (from/to, absolute or relative)', async () => {
  const vigil = await startTestVigil();
  try {
    const at = (iso: string, ip: string): Detection => ({
      source: { kind: 'sigma', id: 'test-range', title: 'Range test', author: 'Vigil tests' },
      severity: 'high',
      timestamp: iso,
      entity: { field: 'source.ip', value: ip },
      evidence: [],
      reason: `seen ${ip}`,
      tags: ['attack.credential_access'],
    });
    vigil.runtime.alerts.handle([at('2024-05-01T10:00:00.000Z', '192.0.2.10'), at('2024-05-03T10:00:00.000Z', '192.0.2.11'), at(new Date().toISOString(), '192.0.2.12')]);
    const ips = async (path: string) => ((await (await vigil.call(path)).json()) as { alerts: { entity: { value: string } }[] }).alerts.map((a) => a.entity.value).sort();
    assert.deepEqual(await ips('/api/v1/alerts?from=2024-05-02T00:00:00Z&to=2024-06-01T00:00:00Z'), ['192.0.2.11']);
    assert.deepEqual(await ips('/api/v1/alerts?to=2024-05-02T00:00:00Z'), ['192.0.2.10']);
    assert.deepEqual(await ips('/api/v1/alerts?from=now-1h'), ['192.0.2.12']);
    assert.equal((await vigil.call('/api/v1/alerts?from=2024-06-01T00:00:00Z&to=2024-05-01T00:00:00Z')).status, 400);
    assert.equal((await vigil.call('/api/v1/alerts?from=yesterday-ish')).status, 400);
    const incidents = async (path: string) => ((await (await vigil.call(path)).json()) as { incidents: { entity: { value: string } }[] }).incidents.map((i) => i.entity.value).sort();
    assert.deepEqual(await incidents('/api/v1/incidents?from=now-1h'), ['192.0.2.12']);
    assert.deepEqual(await incidents('/api/v1/incidents?from=2024-05-02T00:00:00Z&to=2024-06-01T00:00:00Z'), ['192.0.2.11']);
  } finally {
    await vigil.close();
  }
});
