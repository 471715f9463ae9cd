// The collectors together: one that cannot read its source (a missing /proc, a missing journal) says so once and
// reports unhealthy, while the others go on; through a real Vigil, their events are stored, /api/v1/health shows
// each collector, and /api/v1/hosts shows this host with its latest figures.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { systemClock } from '../../core/clock.js';
import { RecordingIngest } from '../../testing/ingest.js';
import { startTestVigil } from '../../testing/runtime.js';
import { LinuxMetricsReader } from './linux/stat.js';
import { LinuxNetworkReader } from './linux/net.js';
import { LinuxProcessReader } from './linux/processes.js';
import { UserNames } from './linux/users.js';
import { MetricsCollector } from './metrics.js';
import { NetworkCollector } from './network.js';
import { ProcessCollector } from './process.js';

const linux = { skip: process.platform !== 'linux' ? 'reads Linux /proc' : false };

test('collectors pointed at a missing /proc are unhealthy with one warning each; a working one goes on', linux, async () => {
  const warnings: string[] = [];
  const ingest = new RecordingIngest();
  const context = { ingest, clock: systemClock, dataDir: '/nonexistent', warn: (m: string) => warnings.push(m) };
  const missing = '/nonexistent/proc';
  const broken = [
    new NetworkCollector(context, new LinuxNetworkReader(missing), { intervalMs: 60_000 }),
    new MetricsCollector(context, new LinuxMetricsReader(missing), { intervalMs: 60_000 }),
    new ProcessCollector(context, new LinuxProcessReader(missing, new UserNames()), { intervalMs: 60_000, scanIntervalMs: 60_000 }),
  ];
  const working = new MetricsCollector(context, new LinuxMetricsReader('/proc'), { intervalMs: 60_000 });
  for (let i = 0; i < 3; i++) for (const c of [...broken, working]) await c.tick();
  for (const c of broken) {
    const status = c.status();
    assert.equal(status.ok, false, c.name);
    assert.match(String(status.error), /nonexistent\/proc/, `${c.name} names what it cannot read: ${status.error}`);
  }
  assert.equal(warnings.length, 3, `one warning per broken collector, not per sample:\n${warnings.join('\n')}`);
  assert.ok(warnings.every((w) => /^vigil: host\.(network|metrics|process) collector: /.test(w)));
  assert.equal(working.status().ok, true);
  assert.equal(ingest.find({ metricset: 'system' }).length, 3, 'the working collector delivered every sample');
  for (const c of [...broken, working]) await c.close();
});

test('a busy pipeline is waited for; the sample is delivered once it takes it', linux, async () => {
  const ingest = new RecordingIngest({ busy: 2 });
  const c = new MetricsCollector({ ingest, clock: systemClock, dataDir: '/nonexistent' }, new LinuxMetricsReader('/proc'), { intervalMs: 60_000 });
  await c.tick();
  assert.equal(ingest.find({ metricset: 'system' }).length, 1);
  assert.equal(c.status().dropped, undefined);
});

test('through a real Vigil: collector events stored, health per collector, this host in /api/v1/hosts', { ...linux, timeout: 60_000 }, async () => {
  const vigil = await startTestVigil({
    collect: {
      enabled: true,
      network: { interval_seconds: 0.3 },
      metrics: { interval_seconds: 0.3 },
      process: { interval_seconds: 0.3, scan_interval_ms: 150 },
      auth: { source: 'file', paths: ['/nonexistent/auth.log'] },
    },
  });
  try {
    const search = async (q: string) => ((await (await vigil.call(`/api/v1/events?q=${encodeURIComponent(q)}&limit=1`)).json()) as { total: number }).total;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await search('event.dataset:host.metrics AND metricset.name:system AND host.cpu.usage>=0')) === 0) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok((await search('event.dataset:host.metrics AND metricset.name:system AND host.cpu.usage>=0')) > 0, 'metrics stored and searchable by their fields');
    assert.ok((await search('event.dataset:host.network AND metricset.name:network')) > 0);
    assert.ok((await search('event.dataset:host.process AND metricset.name:process')) > 0);
    const [metric] = ((await (await vigil.call('/api/v1/events?q=metricset.name:system&limit=1')).json()) as { events: Record<string, { original?: string }>[] }).events;
    assert.equal(metric!.event!.original, undefined, 'metrics carry no made-up event.original');

    const healthResponse = await vigil.call('/api/v1/health', { token: null });
    const health = (await healthResponse.json()) as { status: string; components: Record<string, { ok: boolean; error?: string }> };
    assert.equal(healthResponse.status, 200, 'Vigil still takes events');
    assert.equal(health.status, 'degraded', 'a failing collector makes the whole degraded');
    assert.equal(health.components['host.auth']!.ok, false);
    assert.match(health.components['host.auth']!.error!, /no readable auth log file \(\/nonexistent\/auth\.log\)/);
    for (const name of ['host.network', 'host.metrics', 'host.process']) assert.equal(health.components[name]!.ok, true, name);

    const viewer = vigil.runtime.credentials.createToken('viewer', 'viewer').token;
    const hostsResponse = await vigil.call('/api/v1/hosts', { token: viewer });
    assert.equal(hostsResponse.status, 200, 'a viewer may read hosts');
    const hosts = (await hostsResponse.json()) as { total: number; hosts: { name: string; collector: boolean; stale: boolean; interval_seconds: number; metrics: { cpu_usage: number; memory_used_pct: number }; filesystems: Record<string, { used_pct: number }>; network: unknown }[] };
    const me = hosts.hosts.find((h) => h.name === hostname());
    assert.ok(me, JSON.stringify(hosts));
    assert.equal(me.collector, true);
    assert.equal(me.stale, false);
    assert.equal(me.interval_seconds, 0.3);
    assert.ok(me.metrics.cpu_usage >= 0 && me.metrics.cpu_usage <= 1);
    assert.ok(me.metrics.memory_used_pct > 0 && me.metrics.memory_used_pct < 1);
    assert.ok(me.filesystems['/']!.used_pct > 0);
    const one = await vigil.call(`/api/v1/hosts/${encodeURIComponent(hostname())}`);
    assert.equal(((await one.json()) as { name: string }).name, hostname());
    assert.equal((await vigil.call('/api/v1/hosts/no-such-host')).status, 404);
    const ingestToken = vigil.runtime.credentials.createToken('shipper', 'ingest').token;
    assert.equal((await vigil.call('/api/v1/hosts', { token: ingestToken })).status, 403);
  } finally {
    await vigil.close();
  }
});
