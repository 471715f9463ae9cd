// The metrics collector against this machine's real /proc: every figure present and plausible next to what Node's
// os module and statfs say.
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { test } from 'node:test';
import { systemClock } from '../../core/clock.js';
import { RecordingIngest, type Doc } from '../../testing/ingest.js';
import { LinuxMetricsReader } from './linux/stat.js';
import { MetricsCollector } from './metrics.js';

const linux = { skip: process.platform !== 'linux' ? 'reads Linux /proc' : false };
const field = (d: Doc, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], d);
const isShare = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;

test('CPU, load, memory, swap, filesystems and disk I/O of this machine', linux, async () => {
  const ingest = new RecordingIngest();
  const c = new MetricsCollector({ ingest, clock: systemClock, dataDir: '/nonexistent', hostName: 'h1' }, new LinuxMetricsReader('/proc'), { intervalMs: 10_000, hostInfo: { architecture: 'x86_64' } });
  await c.tick();
  const [first] = ingest.find({ metricset: 'system' });
  assert.ok(first, 'the first sample already has memory and load');
  assert.equal(field(first, 'host.cpu'), undefined, 'CPU shares need two samples');
  assert.equal(field(first, 'system.memory.total'), totalmem());

  // Burn some CPU between the samples so the share cannot be 0.
  const until = Date.now() + 300;
  while (Date.now() < until) Math.sqrt(Math.random());
  await c.tick();
  const systems = ingest.find({ metricset: 'system' });
  const s = systems[systems.length - 1]!;
  assert.equal(s.event.dataset, 'host.metrics');
  assert.equal(s.event.kind, 'metric');
  assert.equal(field(s, 'host.name'), 'h1');
  assert.equal(field(s, 'host.architecture'), 'x86_64');
  const usage = field(s, 'host.cpu.usage') as number;
  assert.ok(isShare(usage) && usage > 0, `host.cpu.usage ${usage}`);
  const cores = cpus().length;
  assert.equal(field(s, 'system.cpu.cores'), cores);
  assert.ok(Math.abs((field(s, 'system.cpu.total.pct') as number) - usage * cores) < 0.001, 'total.pct is usage times cores (Metricbeat)');
  assert.equal(field(s, 'system.cpu.total.norm.pct'), usage);
  const shares = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'].map((k) => field(s, `system.cpu.${k}.norm.pct`) as number);
  assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 0.001, 'the states add up to the whole');
  for (const k of ['1', '5', '15']) assert.ok((field(s, `system.load.${k}`) as number) >= 0);
  assert.equal(field(s, 'system.load.cores'), cores);
  const mem = field(s, 'system.memory') as Record<string, unknown>;
  assert.ok(isShare(field(s, 'system.memory.actual.used.pct')));
  assert.ok(isShare(field(s, 'system.memory.used.pct')));
  assert.ok((field(s, 'system.memory.actual.used.bytes') as number) <= (mem.total as number));
  assert.ok((field(s, 'system.memory.swap.total') as number) >= 0 && isShare(field(s, 'system.memory.swap.used.pct')));

  const coresDocs = ingest.find({ metricset: 'core' });
  assert.equal(coresDocs.length, cores, 'one event per core on the second sample');
  assert.deepEqual(coresDocs.map((d) => field(d, 'system.core.id')), [...Array(cores).keys()]);
  for (const d of coresDocs) assert.ok(isShare(field(d, 'system.core.total.pct')));

  const root = ingest.find({ metricset: 'filesystem' }).filter((d) => field(d, 'system.filesystem.mount_point') === '/');
  assert.equal(root.length, 2, 'the root filesystem on both samples');
  const fs = statfsSync('/');
  assert.equal(field(root[1]!, 'system.filesystem.total'), fs.blocks * fs.bsize);
  assert.ok(isShare(field(root[1]!, 'system.filesystem.used.pct')));
  assert.ok((field(root[1]!, 'system.filesystem.files') as number) > 0);
  for (const d of ingest.find({ metricset: 'filesystem' })) assert.ok(!/^(proc|sysfs|tmpfs|cgroup2?|devpts)$/.test(field(d, 'system.filesystem.type') as string), 'no pseudo filesystems');

  const disks = ingest.find({ metricset: 'diskio' });
  if (disks.length > 0) {
    const last = disks[disks.length - 1]!;
    assert.ok(typeof field(last, 'system.diskio.name') === 'string');
    assert.ok((field(last, 'system.diskio.read.bytes') as number) >= 0);
    assert.ok(isShare(field(last, 'system.diskio.iostat.busy')), 'the second sample has rates');
    assert.ok(typeof field(s, 'host.disk.read.bytes') === 'number');
  }
  assert.equal(c.status().ok, true);
  await c.close();
});

test('per-core events can be turned off', linux, async () => {
  const ingest = new RecordingIngest();
  const c = new MetricsCollector({ ingest, clock: systemClock, dataDir: '/nonexistent' }, new LinuxMetricsReader('/proc'), { intervalMs: 10_000, perCore: false });
  await c.tick();
  await c.tick();
  assert.equal(ingest.find({ metricset: 'core' }).length, 0);
  assert.equal(ingest.find({ metricset: 'system' }).length, 2);
});
