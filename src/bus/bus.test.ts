// The bus on a real nats-server (JetStream, loopback): partitioning, leases, and the roles wired in one process —
// events stored once however often they are delivered, and detections identical to a single rule engine's, also
// when a worker dies and another takes its partitions over.
import { test, after, afterEach, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EcsEvent } from '../core/event.js';
import { parseConfig } from '../config/config.js';
import { RuleEngine } from '../detect/rules/engine.js';
import { startRoles, type RolesRuntime } from '../pipeline/roles.js';
import { natsServerAvailable, startNats, type NatsCluster } from '../testing/nats.js';
import { chunkSerialized } from './codec.js';
import { Bus, SUBJECTS } from './connection.js';
import { detectionId, hashId } from './ids.js';
import { PartitionTable } from './leases.js';
import { entityKey, partitionOf } from './partition.js';

const skip = natsServerAvailable() ? false : 'nats-server is not installed (scripts/test.sh installs it as root)';
const TOKEN = `vgl_${'b'.repeat(40)}`;
// Each test has its own server: partition records (checkpoints) outlive a test's processes, as they should.
let nats: NatsCluster;
const dirs: string[] = [];

beforeEach(async () => {
  if (!skip) nats = await startNats();
});
afterEach(async () => {
  await nats?.close();
});
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function config(bus: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bus-'));
  dirs.push(dir);
  return parseConfig({ port: 0, data_dir: dir, collect: false, files: { enabled: false }, syslog: { port: 0 }, ml: { enabled: false }, bus: { servers: [nats.url], ...bus } });
}

test('events are partitioned by entity: source address, else user, else host; ids hash their inputs', () => {
  const event = (fields: Partial<EcsEvent>): EcsEvent => ({ '@timestamp': '2026-01-01T00:00:00Z', event: { id: 'x', dataset: 'd' }, ...fields }) as EcsEvent;
  assert.equal(entityKey(event({ source: { ip: '203.0.113.9' }, user: { name: 'bob' } })), '203.0.113.9');
  assert.equal(entityKey(event({ user: { name: 'bob' }, host: { name: 'web1' } })), 'bob');
  assert.equal(entityKey(event({ host: { name: 'web1' } })), 'web1');
  assert.equal(entityKey(event({})), undefined);
  // The same key lands in the same partition in every process (FNV-1a, no per-process seed).
  const a = partitionOf(event({ source: { ip: '203.0.113.9' } }), 16);
  assert.equal(partitionOf(event({ source: { ip: '203.0.113.9' }, host: { name: 'other' } }), 16), a);
  const spread = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(event({ source: { ip: `198.51.100.${i}` } }), 16)));
  assert.equal(spread.size, 16);
  assert.match(hashId('a'), /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const d = { source: { kind: 'correlation' as const, id: 'r1', title: 'R' }, severity: 'high' as const, timestamp: 't', evidence: ['e1', 'e2'], reason: 'x', group: { 'source.ip': '1.2.3.4' } };
  assert.equal(detectionId(d), detectionId({ ...d, reason: 'other words' }));
  assert.notEqual(detectionId(d), detectionId({ ...d, evidence: ['e1', 'e3'] }));
  assert.deepEqual(chunkSerialized(['aaaa', 'bbbb', 'cc', 'dddddddddd'], 10), [['aaaa', 'bbbb'], ['cc'], ['dddddddddd']]);
});

test('`bus:` takes a list of NATS URLs, or one string of them', () => {
  const short = parseConfig({ bus: 'nats://10.0.0.5:4222, nats://10.0.0.6:4222' }).bus!;
  assert.deepEqual(short.servers, ['nats://10.0.0.5:4222', 'nats://10.0.0.6:4222']);
  assert.equal(short.replicas, 1);
  assert.equal(short.partitions, 16);
  assert.equal(parseConfig({}).bus, undefined);
  assert.equal(parseConfig({ bus: { servers: ['nats://n1:4222'], replicas: 3, partitions: 64 } }).bus!.partitions, 64);
  assert.throws(() => parseConfig({ bus: 'http://10.0.0.5:4222' }), /bus\.servers\.0: must be a NATS URL/);
  assert.throws(() => parseConfig({ bus: { servers: ['nats://n1:4222'], replicas: 7 } }), /bus\.replicas/);
});

test('a partition is held by one worker at a time; a silent holder loses it after its lease, with its checkpoint', { skip }, async () => {
  const bus = await Bus.connect(config({ lease_seconds: 1, partitions: 4 }).bus!);
  try {
    await bus.setup();
    const a = new PartitionTable(bus, 'wa', 1000);
    const b = new PartitionTable(bus, 'wb', 1000);
    const lease = await a.acquire(3);
    assert.ok(lease);
    assert.equal(await b.acquire(3), undefined, 'held by a');
    assert.equal(await lease.renew({ seq: 41, time: 1000 }), true);
    await new Promise((r) => setTimeout(r, 1200));
    const taken = await b.acquire(3);
    assert.ok(taken, 'expired, so b takes it');
    assert.deepEqual(taken.start, { seq: 41, time: 1000 });
    assert.equal(await lease.renew({ seq: 42, time: 1001 }), false, 'a finds out it lost the partition');
    await taken.release();
    const back = await a.acquire(3);
    assert.ok(back, 'released, so free at once');
    assert.equal(back.start.seq, 41);
    // Members expire with the stream's max_age.
    await a.heartbeat();
    await b.heartbeat();
    assert.equal(await a.members(), 2);
    await b.leave();
    assert.equal(await a.members(), 1);
    // Every process must use the same partition count.
    const other = await Bus.connect(config({ partitions: 5 }).bus!);
    await assert.rejects(other.setup(), /bus.partitions: 4/);
    await other.close();
  } finally {
    await bus.close();
  }
});

/** RFC 5424 sshd failures from one address, a second apart from `start`. */
function failures(ip: string, count: number, start: number, from = 0): string {
  return Array.from({ length: count }, (_, i) => `<38>1 ${new Date(start + (from + i) * 1000).toISOString()} gw sshd 4242 - - Failed password for root from ${ip} port ${50000 + from + i} ssh2`).join('\n');
}

async function call(url: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${TOKEN}`);
  return fetch(url + path, { ...init, headers });
}

async function search(url: string, q: string): Promise<EcsEvent[]> {
  const body = (await (await call(url, `/api/v1/events?q=${encodeURIComponent(q)}&from=now-1d&limit=10000`)).json()) as { events: EcsEvent[] };
  return body.events;
}

async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('ingest, two analyze workers and the store: each event stored once, detections as one engine makes them, also across a takeover', { skip, timeout: 120_000 }, async () => {
  const env = { VIGIL_ADMIN_TOKEN: TOKEN };
  const bus = { partitions: 4, lease_seconds: 1, replay_minutes: 60 };
  const started: RolesRuntime[] = [];
  try {
    const store = await startRoles(config(bus), ['store', 'api'], { env });
    started.push(store);
    const w1 = await startRoles(config(bus), ['analyze'], { env, workerId: 'w1' });
    started.push(w1);
    const w2 = await startRoles(config(bus), ['analyze'], { env, workerId: 'w2' });
    started.push(w2);
    const ingest = await startRoles(config(bus), ['ingest'], { env });
    started.push(ingest);
    await until('two workers sharing the partitions', async () => w1.analyze!.owned().length === 2 && w2.analyze!.owned().length === 2);

    // Two attackers, in partitions held by different workers if the hash allows; 25 failures each.
    const start = Date.now() - 10 * 60_000;
    const ips = ['203.0.113.9', '198.51.100.77'];
    for (const ip of ips) {
      const r = await call(ingest.url!, '/api/v1/events?format=syslog', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: failures(ip, 25, start) });
      assert.equal(r.status, 200, await r.text());
    }
    // A document with a sender-chosen id, delivered twice (an agent's retry): stored once.
    const doc = JSON.stringify({ '@timestamp': new Date(start).toISOString(), event: { id: 'agent-retry-1', dataset: 'app' }, message: 'once', host: { name: 'gw' } });
    for (let i = 0; i < 2; i++) assert.equal((await call(ingest.url!, '/api/v1/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: doc })).status, 200);
    await until('the first half stored', async () => (await search(store.url!, 'event.dataset:sshd')).length === 50);

    // The worker holding the first attacker dies without a word; the other takes its partitions over.
    const bus0 = started[0]!.bus;
    const p = partitionOf({ '@timestamp': '', event: { id: '', dataset: '' }, source: { ip: ips[0]! } } as EcsEvent, 4);
    const victim = w1.analyze!.owned().includes(p) ? w1 : w2;
    const survivor = victim === w1 ? w2 : w1;
    await victim.analyze!.crash();
    for (const ip of ips) {
      const r = await call(ingest.url!, '/api/v1/events?format=syslog', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: failures(ip, 25, start, 25) });
      assert.equal(r.status, 200);
    }
    await until('the survivor holding every partition', async () => survivor.analyze!.owned().length === 4, 20_000);
    await until('everything stored', async () => (await search(store.url!, 'event.dataset:sshd')).length === 100);
    assert.ok(survivor.analyze!.stats.takeovers >= 1);
    assert.ok(survivor.analyze!.stats.replayed >= 25, `windows rebuilt from the log (${survivor.analyze!.stats.replayed} replayed)`);
    assert.equal((await search(store.url!, 'event.dataset:app')).length, 1);

    // The same events through one rule engine, in the order they were sent, raise exactly the stored detections.
    const sshd = await search(store.url!, 'event.dataset:sshd');
    const ids = new Set(sshd.map((e) => e.event.id));
    assert.equal(ids.size, 100, 'no event stored twice');
    const engine = await RuleEngine.load({ watch: false });
    const ordered = [...sshd].sort((a, b) => a['@timestamp'].localeCompare(b['@timestamp']));
    const expected = engine.process(ordered).map(detectionId).sort();
    engine.close();
    assert.equal(expected.length, 10, '5 brute-force detections per attacker');
    await until('every detection stored', async () => (await search(store.url!, 'event.kind:alert')).length >= expected.length);
    await new Promise((r) => setTimeout(r, 500));
    const stored = (await search(store.url!, 'event.kind:alert')).map((e) => e.event.id).sort();
    assert.deepEqual(stored, expected);
    // One alert per attacker, counting its five detections once each.
    const alerts = (await (await call(store.url!, '/api/v1/alerts')).json()) as { alerts: { entity: { value: string }; count: number }[] };
    assert.deepEqual(alerts.alerts.map((a) => [a.entity.value, a.count]).sort(), ips.map((ip) => [ip, 5]).sort());

    // A message published again under another id (what a takeover can produce) changes nothing.
    const again = sshd.slice(0, 5).map((e) => JSON.stringify(e));
    await bus0.publish(SUBJECTS.raw(p), `{"e":[${again.join(',')}]}`, 'replayed-by-hand');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await search(store.url!, 'event.dataset:sshd')).length, 100);
    assert.ok(survivor.analyze!.stats.duplicates >= 5);
    // And analyzed events the store may have already (a batch redone after a takeover, a sender's id) are checked.
    const [app] = await search(store.url!, 'event.dataset:app');
    await bus0.publish(SUBJECTS.analyzed, JSON.stringify({ e: sshd.slice(0, 3), d: [], a: 1 }), 'redone-batch');
    await bus0.publish(SUBJECTS.analyzed, JSON.stringify({ e: [app], d: [], u: [0] }), 'sender-id-again');
    await until('both messages taken', async () => store.intake!.stats.duplicates >= 4);
    assert.equal((await search(store.url!, 'event.dataset:sshd')).length, 100);
    assert.equal((await search(store.url!, 'event.dataset:app')).length, 1);
  } finally {
    for (const s of started.reverse()) await s.close();
  }
});
