// The per-host registry: updated from stored events, stale when a collecting host goes quiet for the configured
// number of its intervals, and seeded from the store so that a restart remembers hosts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import type { EcsEvent } from '../../core/event.js';
import { startTestVigil } from '../../testing/runtime.js';
import { HostRegistry } from './registry.js';

const T0 = Date.parse('2025-03-01T12:00:00Z');
let n = 0;

function metrics(host: string, at: number, periodMs = 10_000, cpu = 0.25): EcsEvent {
  return {
    '@timestamp': new Date(at).toISOString(),
    event: { id: `m${n++}`, dataset: 'host.metrics', kind: 'metric', ingested: new Date(at).toISOString() },
    host: { name: host, cpu: { usage: cpu }, os: { type: 'linux' } },
    metricset: { name: 'system', period: periodMs },
    system: { memory: { total: 1000, actual: { used: { pct: 0.4 } }, swap: { used: { pct: 0 } } }, load: { '1': 0.5, '5': 0.4, '15': 0.3 } },
  } as EcsEvent;
}

function log(host: string, at: number): EcsEvent {
  return { '@timestamp': new Date(at).toISOString(), event: { id: `l${n++}`, dataset: 'sshd', ingested: new Date(at).toISOString() }, host: { name: host } };
}

test('hosts from stored events: latest figures, last seen, stale after three intervals of silence', () => {
  const clock = new ManualClock(T0);
  const registry = new HostRegistry({ clock, staleAfterIntervals: 3 });
  registry.observe([metrics('web1', T0), log('router', T0), log('web1', T0 + 500)]);
  registry.observe([
    {
      '@timestamp': new Date(T0).toISOString(),
      event: { id: 'f1', dataset: 'host.metrics', kind: 'metric', ingested: new Date(T0).toISOString() },
      host: { name: 'web1' },
      metricset: { name: 'filesystem', period: 10_000 },
      system: { filesystem: { mount_point: '/', used: { pct: 0.61 }, total: 5e10 } },
    } as EcsEvent,
    {
      '@timestamp': new Date(T0).toISOString(),
      event: { id: 'n1', dataset: 'host.network', kind: 'metric', ingested: new Date(T0).toISOString() },
      host: { name: 'web1' },
      metricset: { name: 'network', period: 10_000 },
      system: { network: { in: { bytes_per_sec: 1200 }, out: { bytes_per_sec: 800 } } },
    } as EcsEvent,
  ]);
  const [router, web1] = registry.list();
  assert.equal(web1!.name, 'web1');
  assert.equal(web1!.events, 4);
  assert.equal(web1!.last_seen, new Date(T0 + 500).toISOString());
  assert.equal(web1!.collector, true);
  assert.equal(web1!.interval_seconds, 10);
  assert.equal(web1!.stale, false);
  assert.deepEqual(web1!.metrics, { updated: new Date(T0).toISOString(), cpu_usage: 0.25, load: { '1': 0.5, '5': 0.4, '15': 0.3 }, memory_used_pct: 0.4, memory_total_bytes: 1000, swap_used_pct: 0 });
  assert.deepEqual(web1!.filesystems, { '/': { used_pct: 0.61, total_bytes: 5e10, updated: new Date(T0).toISOString() } });
  assert.deepEqual(web1!.network, { in_bytes_per_sec: 1200, out_bytes_per_sec: 800, updated: new Date(T0).toISOString() });
  assert.deepEqual(web1!.os, { type: 'linux' });
  assert.equal(router!.collector, false);
  assert.equal(router!.stale, null, 'a host that only sends logs is never stale: silence is normal there');

  clock.set(T0 + 30_000);
  assert.equal(registry.get('web1')!.stale, false, 'exactly three intervals is not yet stale');
  clock.set(T0 + 30_001);
  assert.equal(registry.get('web1')!.stale, true);
  // Logs alone do not revive a collecting host: its collector is what went quiet.
  registry.observe([log('web1', T0 + 31_000)]);
  assert.equal(registry.get('web1')!.stale, true);
  registry.observe([metrics('web1', T0 + 31_000, 10_000, 0.9)]);
  assert.equal(registry.get('web1')!.stale, false);
  assert.equal(registry.get('web1')!.metrics!.cpu_usage, 0.9);
  // An older sample arriving late (an agent's buffer draining) does not replace newer figures.
  registry.observe([metrics('web1', T0 + 1000, 10_000, 0.1)]);
  assert.equal(registry.get('web1')!.metrics!.cpu_usage, 0.9);
});

test('the interval is each host\'s own (metricset.period), and a remote agent\'s status is shown', () => {
  const clock = new ManualClock(T0);
  const registry = new HostRegistry({ clock, staleAfterIntervals: 2 });
  registry.observe([metrics('slow', T0, 60_000)]);
  registry.observe([
    {
      '@timestamp': new Date(T0).toISOString(),
      event: { id: 'a1', dataset: 'host.agent', kind: 'state', ingested: new Date(T0).toISOString() },
      host: { name: 'slow' },
      agent: { type: 'vigil-agent', id: 'abc', version: '0.1.0' },
      vigil: { agent: { collectors: [{ name: 'host.auth', ok: false }], buffer: { pending: 3 } } },
    } as EcsEvent,
  ]);
  clock.set(T0 + 100_000);
  const slow = registry.get('slow')!;
  assert.equal(slow.interval_seconds, 60);
  assert.equal(slow.stale, false);
  assert.deepEqual(slow.agent, { type: 'vigil-agent', id: 'abc', version: '0.1.0' });
  assert.deepEqual(slow.agent_status, { collectors: [{ name: 'host.auth', ok: false }], buffer: { pending: 3 }, updated: new Date(T0).toISOString() });
  clock.set(T0 + 120_001);
  assert.equal(registry.get('slow')!.stale, true);
});

test('a restarted Vigil remembers hosts from the store', { timeout: 60_000 }, async () => {
  const first = await startTestVigil();
  const now = Date.now();
  const docs = [metrics('db1', now - 5000), log('db1', now - 4000), log('fw1', now - 3000)].map((e) => {
    const { event, ...rest } = e;
    return { ...rest, event: { dataset: event.dataset, ...(event.kind ? { kind: event.kind } : {}) } };
  });
  const response = await first.call('/api/v1/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(docs) });
  assert.equal(response.status, 200);
  await first.runtime.close();

  const second = await startTestVigil({}, { dataDir: first.dataDir });
  try {
    let hosts: { name: string; metrics: { cpu_usage?: number } | null; collector: boolean; events: number }[] = [];
    for (let i = 0; i < 100 && hosts.length < 2; i++) {
      hosts = ((await (await second.call('/api/v1/hosts')).json()) as { hosts: typeof hosts }).hosts;
      if (hosts.length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(hosts.map((h) => h.name), ['db1', 'fw1']);
    assert.equal(hosts[0]!.collector, true);
    assert.equal(hosts[0]!.metrics!.cpu_usage, 0.25);
    assert.equal(hosts[0]!.events, 0, 'seeded hosts count events from this start on');
  } finally {
    await second.close();
    await first.close();
  }
});
