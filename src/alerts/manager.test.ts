import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import type { Detection } from '../core/detection.js';
import { AlertManager } from './manager.js';
import { combineConfidence } from './confidence.js';

const T0 = Date.parse('2024-05-01T10:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function bruteForce(ip: string, minutes: number, evidence: string[] = [`e-${ip}-${minutes}`]): Detection {
  return {
    source: { kind: 'correlation', id: 'brute-force', title: 'SSH brute force', author: 'Vigil' },
    severity: 'high',
    timestamp: at(minutes),
    entity: { field: 'source.ip', value: ip },
    group: { 'source.ip': ip },
    evidence,
    reason: `failed logins from ${ip}`,
    tags: ['attack.t1110'],
  };
}

function withManager(run: (open: () => AlertManager, dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-alerts-'));
  try {
    run(() => new AlertManager({ dataDir: dir, clock: new ManualClock(T0), flushIntervalMs: 60_000 }), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the same rule and group within the window updates one alert; another group or a later burst makes new ones', () => {
  withManager((open) => {
    const alerts = open();
    alerts.handle([bruteForce('203.0.113.5', 0), bruteForce('203.0.113.5', 1), bruteForce('198.51.100.7', 1)]);
    alerts.handle([bruteForce('203.0.113.5', 30)]);
    const { total, alerts: list } = alerts.list();
    assert.equal(total, 2);
    const first = list.find((a) => a.entity?.value === '203.0.113.5')!;
    assert.equal(first.count, 3);
    assert.equal(first.first_seen, at(0));
    assert.equal(first.last_seen, at(30));
    assert.deepEqual(first.evidence, ['e-203.0.113.5-0', 'e-203.0.113.5-1', 'e-203.0.113.5-30']);
    // More than the window (60 min) after the last one: a new alert.
    alerts.handle([bruteForce('203.0.113.5', 200)]);
    assert.equal(alerts.list({ entity: '203.0.113.5' }).total, 2);
    // A resolved alert is not reopened: the next detection starts a new one.
    alerts.update(first.id, { status: 'resolved' }, 'ana');
    alerts.handle([bruteForce('198.51.100.7', 2)]);
    assert.equal(alerts.list({ entity: '198.51.100.7' }).alerts[0]!.count, 2);
    alerts.close();
  });
});

test('evidence stays bounded: the first events and the newest are kept', () => {
  withManager((open) => {
    const alerts = open();
    for (let i = 0; i < 200; i++) alerts.handle([bruteForce('192.0.2.1', i / 10, [`ev${i}`])]);
    const alert = alerts.list().alerts[0]!;
    assert.equal(alert.count, 200);
    assert.equal(alert.evidence.length, 50);
    assert.equal(alert.evidence[0], 'ev0');
    assert.equal(alert.evidence.at(-1), 'ev199');
    alerts.close();
  });
});

test('a false-positive verdict lowers the rule confidence of its unjudged alerts and of the next ones, visibly', () => {
  withManager((open) => {
    const alerts = open();
    alerts.handle([bruteForce('203.0.113.1', 0), bruteForce('203.0.113.2', 0)]);
    const [a, b] = alerts.list().alerts;
    assert.equal(a!.confidence, 0.667); // high prior Beta(6, 3)
    alerts.update(a!.id, { verdict: 'false_positive' }, 'ana');
    alerts.update(a!.id, { verdict: 'false_positive' }, 'ana'); // the same verdict again changes nothing
    assert.equal(alerts.get(b!.id).confidence, 0.6); // Beta(6, 4)
    assert.match(alerts.get(b!.id).confidence_explanation, /1 false positive/);
    alerts.handle([bruteForce('203.0.113.3', 0)]);
    assert.equal(alerts.list({ entity: '203.0.113.3' }).alerts[0]!.confidence, 0.6);
    // Changing one's mind takes the old verdict back.
    alerts.update(a!.id, { verdict: 'true_positive' }, 'ana');
    assert.equal(alerts.get(b!.id).confidence, 0.7); // Beta(7, 3)
    alerts.close();
  });
});

test('every change is audited with who and what, and survives a restart; a torn last record is skipped', () => {
  withManager((open, dir) => {
    const alerts = open();
    alerts.handle([bruteForce('203.0.113.9', 0)]);
    const id = alerts.list().alerts[0]!.id;
    alerts.update(id, { status: 'acknowledged', assignee: 'ana', note: 'looking <script>alert(1)</script>' }, 'ana');
    alerts.update(id, { verdict: 'true_positive' }, 'bo');
    alerts.handle([bruteForce('203.0.113.9', 5)]); // count update, flushed on close
    alerts.close();
    appendFileSync(join(dir, 'alerts.jsonl'), '{"type":"alert","alert":{"id":"torn'); // a crash mid-write
    const reopened = open();
    const alert = reopened.get(id);
    assert.equal(alert.count, 2);
    assert.equal(alert.status, 'acknowledged');
    assert.equal(alert.verdict, 'true_positive');
    assert.equal(alert.notes[0]!.text, 'looking <script>alert(1)</script>');
    assert.deepEqual(
      alert.history.map((h) => [h.by, h.action, h.to ?? h.note]),
      [
        ['vigil', 'created', 'open'],
        ['ana', 'status', 'acknowledged'],
        ['ana', 'assignee', 'ana'],
        ['ana', 'note', 'looking <script>alert(1)</script>'],
        ['bo', 'verdict', 'true_positive'],
      ],
    );
    // The verdict's effect on the rule survived too: Beta(7, 3).
    assert.equal(reopened.ruleConfidence('brute-force', 'high').value, 0.7);
    // The journal was compacted on open: one record per alert and rule, no torn line.
    const lines = readFileSync(join(dir, 'alerts.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 2);
    reopened.close();
  });
});

test('a long-running journal is compacted as it goes: the file stays a few times the alerts, and a restart sees the same', () => {
  withManager((open, dir) => {
    const alerts = open();
    // 20 alerts updated 1,000 times each, flushed as a running Vigil does every second: 20,000 records appended.
    for (let round = 0; round < 1000; round++) {
      alerts.handle(Array.from({ length: 20 }, (_, i) => bruteForce(`203.0.113.${i}`, round / 100, [`e-${i}-${round}`])));
      alerts.flush();
    }
    const lines = readFileSync(join(dir, 'alerts.jsonl'), 'utf8').trim().split('\n');
    assert.ok(lines.length <= 10_000 + 20, `${lines.length} records for 20 alerts`);
    const before = alerts.list({ limit: 100 }).alerts.map((a) => [a.entity?.value, a.count]);
    assert.deepEqual(new Set(before.map(([, count]) => count)), new Set([1000]));
    alerts.close();
    const reopened = open();
    assert.deepEqual(reopened.list({ limit: 100 }).alerts.map((a) => [a.entity?.value, a.count]), before);
    reopened.close();
  });
});

test('suppression rules silence matching detections only, until their time; bad ones are refused', () => {
  withManager((open) => {
    const alerts = open();
    const s = alerts.addSuppression({ entity: '10.0.0.5', until: at(60), reason: 'vulnerability scanner' }, 'ana');
    alerts.handle([bruteForce('10.0.0.5', 1), bruteForce('10.0.0.6', 1)]);
    assert.deepEqual(alerts.list().alerts.map((a) => a.entity?.value), ['10.0.0.6']);
    assert.equal(alerts.suppressed, 1);
    alerts.handle([bruteForce('10.0.0.5', 61)]); // after `until`
    assert.equal(alerts.list({ entity: '10.0.0.5' }).total, 1);
    alerts.removeSuppression(s.id);
    assert.throws(() => alerts.addSuppression({ reason: 'everything' }, 'ana'), /at least one of rule, entity/);
    assert.throws(() => alerts.addSuppression({ field: 'source.ip' }, 'ana'), /field and value go together/);
    assert.throws(() => alerts.removeSuppression(s.id), /no suppression/);
    alerts.close();
  });
});

test('non-alerting detections (anomalies under threshold) make no alert; bad patches are refused', () => {
  withManager((open) => {
    const alerts = open();
    alerts.handle([{ ...bruteForce('192.0.2.9', 0), alert: false }]);
    assert.equal(alerts.list().total, 0);
    alerts.handle([bruteForce('192.0.2.9', 0)]);
    const id = alerts.list().alerts[0]!.id;
    assert.throws(() => alerts.update(id, { status: 'closed' as never }, 'ana'), /status must be one of/);
    assert.throws(() => alerts.update(id, { note: '   ' }, 'ana'), /cannot be empty/);
    assert.throws(() => alerts.get('nope'), /no alert/);
    alerts.close();
  });
});

test('incident confidence combines alerts in log-odds', () => {
  assert.equal(combineConfidence([0.6, 0.6]), 0.692);
  assert.ok(combineConfidence([0.6, 0.2]) < 0.6);
  assert.equal(combineConfidence([]), 0.5);
  assert.ok(combineConfidence([0.9, 0.9, 0.9]) > 0.99);
});
