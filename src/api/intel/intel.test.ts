// Threat intelligence end to end through a real Vigil: a feed file, sshd lines from a listed address, the tagged
// events, the alert raised by the threat-intel detector, the feeds and lookup routes, and health.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EcsEvent } from '../../core/event.js';
import { startTestVigil } from '../../testing/runtime.js';

test('a listed address is tagged, alerted on, and shown by the lookup', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-intel-api-'));
  const feed = join(dir, 'bad-ips.txt');
  writeFileSync(feed, '# test feed\n203.0.113.0/24\n');
  const vigil = await startTestVigil({ threat_intel: { feeds: [{ name: 'scanners', path: feed, severity: 'high', description: 'Known SSH scanners' }] } });
  try {
    const lines = [
      'Mar  3 11:00:01 web1 sshd[100]: Failed password for root from 203.0.113.7 port 5000 ssh2',
      'Mar  3 11:00:02 web1 sshd[100]: Failed password for admin from 203.0.113.7 port 5001 ssh2',
      'Mar  3 11:00:03 web1 sshd[100]: Accepted password for bob from 8.8.8.8 port 5002 ssh2',
    ];
    const ingest = await vigil.call('/api/v1/events?format=sshd', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: lines.join('\n') });
    assert.equal(ingest.status, 200);

    let alerts: { total: number; alerts: { rule: { kind: string; id: string }; severity: string; entity: { field: string; value: string }; count: number; evidence: string[] }[] } = { total: 0, alerts: [] };
    for (let i = 0; i < 100 && alerts.total === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      alerts = (await (await vigil.call('/api/v1/alerts')).json()) as typeof alerts;
    }
    assert.equal(alerts.total, 1);
    assert.deepEqual([alerts.alerts[0]!.rule.kind, alerts.alerts[0]!.rule.id, alerts.alerts[0]!.severity, alerts.alerts[0]!.entity], ['intel', 'threat-intel/scanners', 'high', { field: 'source.ip', value: '203.0.113.7' }]);
    assert.equal(alerts.alerts[0]!.evidence.length, 2);

    await vigil.runtime.pipeline.idle();
    const tagged = (await (await vigil.call('/api/v1/events?q=threat.feed.name:scanners&from=2000-01-01T00:00:00Z')).json()) as { total: number; events: EcsEvent[] };
    assert.equal(tagged.total, 2);
    const threat = tagged.events[0]!.threat as { indicator: Record<string, unknown>; enrichments: { matched: Record<string, unknown> }[] };
    assert.deepEqual(threat.indicator, { type: 'ipv4-addr', name: '203.0.113.0/24', provider: 'scanners', description: 'Known SSH scanners' });
    assert.equal(threat.enrichments[0]!.matched.field, 'source.ip');
    const google = (await (await vigil.call('/api/v1/events?q=source.ip:8.8.8.8&from=2000-01-01T00:00:00Z')).json()) as { events: EcsEvent[] };
    assert.equal(google.events[0]!.source?.geo?.country_iso_code, 'US');
    assert.equal(google.events[0]!.threat, undefined);

    const feeds = (await (await vigil.call('/api/v1/intel/feeds')).json()) as { feeds: { name: string; indicators: number; age_seconds: number }[]; indicators: number };
    assert.deepEqual(feeds.feeds.map((f) => [f.name, f.indicators]), [['scanners', 1]]);
    assert.ok(feeds.feeds[0]!.age_seconds >= 0);

    const lookup = (await (await vigil.call('/api/v1/intel/lookup?value=203.0.113.7')).json()) as { kind: string; feeds: { feed: string }[]; geo: unknown; online: unknown[]; events: { total: number } };
    assert.equal(lookup.kind, 'ip');
    assert.deepEqual(lookup.feeds.map((f) => f.feed), ['scanners']);
    assert.deepEqual(lookup.geo, { geo: { name: 'documentation' } });
    // The two sshd lines and the detection event that names the address.
    assert.equal(lookup.events.total, 3);
    assert.equal((await vigil.call('/api/v1/intel/lookup?value=nonsense')).status, 400);
    assert.equal((await vigil.call('/api/v1/intel/lookup?value=8.8.8.8', { token: null })).status, 401);

    // A changed feed is read again on request (admins only).
    writeFileSync(feed, '198.51.100.0/24\n');
    const viewer = vigil.runtime.credentials.createToken('vera', 'viewer').token;
    assert.equal((await vigil.call('/api/v1/intel/feeds/refresh', { method: 'POST', token: viewer })).status, 403);
    const refreshed = (await (await vigil.call('/api/v1/intel/feeds/refresh', { method: 'POST' })).json()) as { feeds: { indicators: number; refreshes: number }[] };
    assert.equal(refreshed.feeds[0]!.refreshes, 2);
    const after = (await (await vigil.call('/api/v1/intel/lookup?value=203.0.113.7&online=false&events=0')).json()) as { feeds: unknown[] };
    assert.deepEqual(after.feeds, []);

    const health = (await (await vigil.call('/api/v1/health', { token: null })).json()) as { components: Record<string, { ok: boolean; indicators?: number }> };
    assert.equal(health.components.threat_intel!.ok, true);
    assert.equal(health.components.geoip!.ok, true);
  } finally {
    await vigil.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
