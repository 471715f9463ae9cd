import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import type { Detection } from '../core/detection.js';
import type { Incident } from '../core/alert.js';
import { AlertManager } from './manager.js';
import { IncidentTracker, MAX_INCIDENT_ALERTS, MAX_INCIDENT_ENTITIES, alertStage, incidentStage } from './incidents.js';

const T0 = Date.parse('2024-05-01T10:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function detection(id: string, minutes: number, group: Record<string, string>, tags: string[], severity: Detection['severity'] = 'medium'): Detection {
  const [field, value] = Object.entries(group)[0]!;
  return { source: { kind: 'correlation', id, title: id }, severity, timestamp: at(minutes), entity: { field, value }, group, evidence: [`${id}-${minutes}`], reason: `${id} ${value}`, tags };
}

function withTracker(run: (alerts: AlertManager, incidents: IncidentTracker, clock: ManualClock, reopen: () => IncidentTracker) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-incidents-'));
  const clock = new ManualClock(T0);
  const alerts = new AlertManager({ dataDir: dir, clock, flushIntervalMs: 60_000 });
  const incidents = new IncidentTracker({ dataDir: dir, clock, tickMs: 0 });
  alerts.onChange((alert) => incidents.observe(alert));
  try {
    run(alerts, incidents, clock, () => {
      incidents.close();
      return new IncidentTracker({ dataDir: dir, clock, tickMs: 0 });
    });
  } finally {
    alerts.close();
    incidents.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('stages come from ATT&CK tags; a compromise needs the steps in order', () => {
  assert.equal(alertStage({ tags: ['attack.credential_access', 'attack.t1110.001'] }), 'credential_access');
  assert.equal(alertStage({ tags: ['attack.T1078'] }), 'initial_access');
  assert.equal(alertStage({ tags: ['attack.privilege-escalation'] }), 'privilege_escalation');
  assert.equal(alertStage({ tags: ['cve.2021-44228'] }), 'activity');
  const step = (m: number, stage: Parameters<typeof incidentStage>[0][number]['stage']) => ({ at: at(m), stage });
  assert.equal(incidentStage([step(0, 'credential_access'), step(5, 'initial_access'), step(9, 'privilege_escalation')]), 'compromise');
  assert.equal(incidentStage([step(9, 'credential_access'), step(5, 'initial_access'), step(0, 'privilege_escalation')]), 'privilege_escalation');
  assert.equal(incidentStage([step(0, 'initial_access'), step(5, 'privilege_escalation')]), 'privilege_escalation');
});

test('brute force, then a login from the source, then sudo by that user: one critical "possible compromise" incident', () => {
  withTracker((alerts, incidents) => {
    const opened: Incident[] = [];
    const worsened: Incident[] = [];
    incidents.onEscalation((incident, _level, why) => (why === 'opened' ? opened : worsened).push(incident));
    alerts.handle([detection('ssh-brute-force', 0, { 'source.ip': '203.0.113.50' }, ['attack.credential_access', 'attack.t1110'], 'medium')]);
    alerts.handle([detection('unrelated-scan', 1, { 'source.ip': '198.51.100.9' }, ['attack.discovery'], 'low')]);
    alerts.handle([detection('success-after-brute-force', 4, { 'source.ip': '203.0.113.50', 'user.name': 'bob' }, ['attack.initial_access', 'attack.t1078'], 'high')]);
    assert.equal(incidents.list().total, 2);
    alerts.handle([detection('sudo-to-root', 6, { 'user.name': 'bob' }, ['attack.privilege_escalation'], 'medium')]);
    const { incidents: list } = incidents.list({ severity: ['critical'] });
    assert.equal(list.length, 1);
    const incident = list[0]!;
    assert.equal(incident.stage, 'compromise');
    assert.equal(incident.title, 'Possible compromise: 203.0.113.50');
    assert.deepEqual(incident.timeline.map((t) => t.rule), ['ssh-brute-force', 'success-after-brute-force', 'sudo-to-root']);
    assert.deepEqual(incident.entities.sort(), ['203.0.113.50', 'bob']);
    assert.ok(incident.confidence > 0.5);
    assert.match(incident.confidence_explanation, /3 alerts/);
    assert.equal(opened.length, 2);
    assert.equal(worsened.length, 1);
    // More detections of an alert already in the incident do not add timeline entries.
    alerts.handle([detection('ssh-brute-force', 7, { 'source.ip': '203.0.113.50' }, ['attack.credential_access'])]);
    assert.equal(incidents.get(incident.id).timeline.length, 3);
    assert.equal(incidents.get(incident.id).last_seen, at(7));
  });
});

test('alerts outside the correlation window, or after resolution, start a new incident', () => {
  withTracker((alerts, incidents) => {
    alerts.handle([detection('a', 0, { 'source.ip': '192.0.2.1' }, [])]);
    alerts.handle([detection('b', 200, { 'source.ip': '192.0.2.1' }, [])]); // 200 min > 120 min window
    assert.equal(incidents.list().total, 2);
    const newest = incidents.list().incidents[0]!;
    incidents.update(newest.id, { status: 'resolved', note: 'blocked at the firewall' }, 'ana');
    alerts.handle([detection('c', 201, { 'source.ip': '192.0.2.1' }, [])]);
    assert.equal(incidents.list().total, 3);
    assert.deepEqual(incidents.get(newest.id).history.map((h) => `${h.by}:${h.action}`), ['vigil:created', 'ana:status', 'ana:note']);
  });
});

test('an unacknowledged high incident escalates each period up to the cap; acknowledging stops it; state survives a restart', () => {
  withTracker((alerts, incidents, clock, reopen) => {
    const levels: number[] = [];
    incidents.onEscalation((_i, level, why) => why === 'unacknowledged' && levels.push(level));
    alerts.handle([detection('c2-beacon', 0, { 'host.name': 'web1' }, ['attack.command_and_control'], 'high')]);
    alerts.handle([detection('noise', 0, { 'host.name': 'web2' }, [], 'low')]);
    assert.deepEqual(incidents.tick(), []);
    clock.advance(16 * 60_000);
    assert.equal(incidents.tick().length, 1);
    clock.advance(16 * 60_000);
    incidents.tick();
    clock.advance(16 * 60_000);
    incidents.tick(); // the cap (2) is reached
    assert.deepEqual(levels, [1, 2]);
    const id = incidents.list({ severity: ['high'] }).incidents[0]!.id;
    incidents.flush();
    const again = reopen();
    assert.equal(again.get(id).escalation, 2);
    again.update(id, { status: 'acknowledged' }, 'ana');
    clock.advance(60 * 60_000);
    assert.deepEqual(again.tick(), []);
    again.close();
  });
});

test('thousands of alerts chained through one shared user make one bounded incident: the first alerts listed, the rest counted', () => {
  withTracker((alerts, incidents) => {
    // Every brute-forcing address tries root: each alert is about its own address and the same user.
    for (let i = 0; i < 3000; i++) {
      const ip = `10.0.${i >> 8}.${i & 255}`;
      const d = detection('ssh-brute-force', i / 1000, { 'source.ip': ip }, ['attack.credential_access'], 'high');
      d.related = { ip: [ip], user: ['root'] };
      alerts.handle([d]);
    }
    const { incidents: list, total } = incidents.list();
    assert.equal(total, 1, 'one incident: they all share root');
    const incident = list[0]!;
    assert.equal(incident.alerts.length, MAX_INCIDENT_ALERTS);
    assert.equal(incident.timeline.length, MAX_INCIDENT_ALERTS);
    assert.equal(incident.unlisted_alerts, 3000 - MAX_INCIDENT_ALERTS);
    assert.equal(incident.entities.length, MAX_INCIDENT_ENTITIES);
    const stats = incidents.stats();
    assert.ok(stats.confidences <= MAX_INCIDENT_ALERTS, JSON.stringify(stats));
    assert.ok(stats.indexedEntities <= MAX_INCIDENT_ENTITIES, JSON.stringify(stats));
  });
});

test('evicted incidents leave nothing behind in the indexes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-incidents-'));
  const clock = new ManualClock(T0);
  const incidents = new IncidentTracker({ dataDir: dir, clock, tickMs: 0, maxIncidents: 100 });
  const alerts = new AlertManager({ dataDir: dir, clock, flushIntervalMs: 60_000, maxAlerts: 100 });
  alerts.onChange((alert) => incidents.observe(alert));
  try {
    for (let i = 0; i < 5000; i++) alerts.handle([detection('scan', i / 100, { 'source.ip': `10.1.${i >> 8}.${i & 255}` }, ['attack.discovery'])]);
    const stats = incidents.stats();
    assert.ok(stats.incidents <= 100 && stats.incidents >= 95, JSON.stringify(stats));
    assert.ok(stats.indexedEntities <= stats.incidents && stats.indexedAlerts <= stats.incidents && stats.confidences <= stats.incidents, JSON.stringify(stats));
    assert.ok(alerts.size <= 100);
  } finally {
    alerts.close();
    incidents.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
