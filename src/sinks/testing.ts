// Alerts and incidents for notification and export tests, with attacker-controlled text where events put it.
import type { Alert, Incident } from '../core/alert.js';
import type { Severity } from '../core/detection.js';

export function testAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'a1',
    rule: { kind: 'sigma', id: 'ssh-brute-force', title: 'SSH brute force', author: 'Vigil tests' },
    severity: 'high' as Severity,
    confidence: 0.87,
    confidence_explanation: 'test',
    entity: { field: 'source.ip', value: '203.0.113.7' },
    group: null,
    status: 'open',
    verdict: null,
    assignee: null,
    first_seen: '2024-05-01T12:00:00.000Z',
    last_seen: '2024-05-01T12:05:00.000Z',
    count: 12,
    related: { ip: ['203.0.113.7'], user: ['root'] },
    evidence: ['e1', 'e2'],
    reason: '12 failed logins for root',
    score: null,
    tags: ['attack.t1110'],
    details: null,
    notes: [],
    history: [],
    created: '2024-05-01T12:00:01.000Z',
    updated: '2024-05-01T12:05:01.000Z',
    ...overrides,
  };
}

export function testIncident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'i1',
    title: 'Attack on web1 from 203.0.113.7',
    entity: { field: 'source.ip', value: '203.0.113.7' },
    entities: ['203.0.113.7', 'root'],
    severity: 'critical',
    confidence: 0.95,
    confidence_explanation: 'test',
    stage: 'initial_access',
    status: 'open',
    assignee: null,
    alerts: ['a1', 'a2'],
    first_seen: '2024-05-01T12:00:00.000Z',
    last_seen: '2024-05-01T12:10:00.000Z',
    timeline: [{ at: '2024-05-01T12:10:00.000Z', alert: 'a2', rule: 'ssh-login-after-failures', severity: 'critical', stage: 'initial_access', summary: 'root logged in after 12 failures' }],
    escalation: 0,
    notified: null,
    history: [],
    created: '2024-05-01T12:00:01.000Z',
    updated: '2024-05-01T12:10:01.000Z',
    ...overrides,
  };
}
