// Vigil's roles as separate processes over a 3-node JetStream cluster (real nats-server processes, replicas 3):
// while `vigil simulate` runs, the stream's leader node and one of two analyze workers are killed. Afterwards every
// acknowledged event is stored exactly once, the detections are those one process raises on the same traffic,
// each once, and the surviving worker holds every partition with nothing left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { EcsEvent } from '../../src/core/event.js';
import { parseConfig } from '../../src/config/config.js';
import { Bus, STREAMS, SUBJECTS } from '../../src/bus/connection.js';
import { PartitionTable } from '../../src/bus/leases.js';
import { freePort, natsServerAvailable, startNats } from '../../src/testing/nats.js';
import { runVigil, startVigilProcess, type ServerProcess } from '../../src/testing/process.js';
import { startTestVigil } from '../../src/testing/runtime.js';

const skip = natsServerAvailable() ? false : 'nats-server is not installed (scripts/test.sh installs it as root)';
const TOKEN = `vgl_${'c'.repeat(40)}`;
const PARTITIONS = 8;
const SEED = '11';

interface Detected {
  rule: { id: string; ruleset: string };
  message: string;
  vigil: { entity?: { field: string; value: string } };
}

async function call(url: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${TOKEN}`);
  return fetch(url + path, { ...init, headers });
}

/** Every event matching `q` (newest first, all pages). */
async function searchAll<T = EcsEvent>(url: string, q: string, token = TOKEN): Promise<T[]> {
  const out: T[] = [];
  let cursor = '';
  for (;;) {
    const r = await fetch(`${url}/api/v1/events?q=${encodeURIComponent(q)}&from=now-1d&limit=5000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, await r.clone().text());
    const body = (await r.json()) as { events: T[]; next: string | null };
    out.push(...body.events);
    if (!body.next) return out;
    cursor = body.next;
  }
}

/**
 * Detections compared with single-process mode: in full where the rule groups by the partition key (the source
 * address) or matches single events; by rule only where inputs were forwarded to another partition's windows (a
 * host's error rate, a user's logins), which see them interleaved in another order (docs/scaling.md).
 */
function detectionKeys(detections: Detected[]): string[] {
  return detections
    .map((d) => (d.rule.ruleset === 'sigma' || d.vigil.entity?.field === 'source.ip' ? `${d.rule.id} ${d.message}` : `${d.rule.id} (forwarded)`))
    .sort();
}

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('killing the JetStream leader and an analyze worker during `vigil simulate` loses nothing and raises nothing twice', { skip, timeout: 300_000 }, async (t) => {
  const began = Date.now();
  // The reference: the same simulated traffic through one Vigil process.
  const single = await startTestVigil({ syslog: { host: '127.0.0.1' }, ml: { enabled: false } }, { syslogPort: 'ephemeral' });
  let reference: { detections: string[]; alerts: string[] };
  try {
    const r = await runVigil(['simulate', '--server', single.url, '--token', single.token, '--syslog', `127.0.0.1:${single.runtime.syslog!.tcpPort}`, '--wait', '0', '--seed', SEED]);
    assert.equal(r.code, 0, r.stderr);
    await until('the reference run to settle', async () => {
      await single.runtime.pipeline.idle();
      const before = (await searchAll(single.url, 'event.kind:alert', single.token)).length;
      await new Promise((res) => setTimeout(res, 1000));
      await single.runtime.pipeline.idle();
      return before > 0 && (await searchAll(single.url, 'event.kind:alert', single.token)).length === before;
    }, 60_000);
    reference = {
      detections: detectionKeys(await searchAll<Detected>(single.url, 'event.kind:alert', single.token)),
      alerts: single.runtime.alerts.list({ limit: 1000 }).alerts.map((a) => `${a.rule.id} ${a.entity?.value}`).sort(),
    };
  } finally {
    await single.close();
  }

  t.diagnostic(`single-process reference after ${Math.round((Date.now() - began) / 1000)} s`);
  const nats = await startNats({ size: 3 });
  const dirs: string[] = [];
  const processes: ServerProcess[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-bus-e2e-'));
    dirs.push(d);
    return d;
  };
  const busConfig = { servers: nats.nodes.map((n) => n.url), replicas: 3, partitions: PARTITIONS, lease_seconds: 2, publish_timeout_seconds: 60 };
  const configFile = join(dir(), 'vigil.yaml');
  writeFileSync(configFile, stringify({ syslog: { host: '127.0.0.1' }, collect: false, files: { enabled: false }, ml: { enabled: false }, bus: busConfig }));
  const env = { VIGIL_ADMIN_TOKEN: TOKEN };
  const start = (role: string, extra: string[] = []) => startVigilProcess(['--role', role, '--config', configFile, '--data-dir', dir(), '--port', '0', ...extra], env);
  const observer = await Bus.connect(parseConfig({ bus: busConfig }).bus!, 'vigil test');
  try {
    const syslogPort = await freePort();
    const starting = [start('store,api', ['--syslog-port', '0']), start('ingest', ['--syslog-port', String(syslogPort)]), start('analyze'), start('analyze')];
    for (const s of starting) void s.then((p) => processes.push(p), () => undefined);
    const [store, ingest, worker1] = (await Promise.all(starting)) as [ServerProcess, ServerProcess, ServerProcess, ServerProcess];
    t.diagnostic(`processes up after ${Math.round((Date.now() - began) / 1000)} s`);
    const table = new PartitionTable(observer, 'observer', 2000);
    const owners = async () => Promise.all(Array.from({ length: PARTITIONS }, async (_, p) => (await table.read(p)).record?.owner ?? ''));
    await until('both workers holding half the partitions', async () => {
      const held = await owners();
      const counts = new Map<string, number>();
      for (const o of held) counts.set(o, (counts.get(o) ?? 0) + 1);
      return counts.size === 2 && [...counts.values()].every((c) => c === PARTITIONS / 2) && !counts.has('');
    }, 60_000);

    // Our own sender beside the simulator: numbered events, each remembered once JetStream acknowledged it.
    const acknowledged = new Set<number>();
    let refused = 0;
    let sending = true;
    let n = 0;
    const sender = (async () => {
      while (sending) {
        const batch = Array.from({ length: 20 }, () => n++);
        const body = batch.map((i) => JSON.stringify({ '@timestamp': new Date().toISOString(), event: { dataset: 'faulttest' }, labels: { n: String(i) }, source: { ip: `10.77.${i % 7}.${i % 200}` }, message: `fault test ${i}` })).join('\n');
        try {
          const r = await call(ingest.url, '/api/v1/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
          if (r.status === 200) for (const i of batch) acknowledged.add(i);
          else refused++;
          await r.arrayBuffer();
        } catch {
          refused++;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const simulation = runVigil(['simulate', '--server', ingest.url, '--token', TOKEN, '--syslog', `127.0.0.1:${syslogPort}`, '--wait', '0', '--seed', SEED]);
    // As soon as the simulator's first messages arrive: kill the stream's leader, and one analyze worker.
    await until('the simulator sending', async () => {
      const health = (await (await fetch(`${ingest.url}/api/v1/health`)).json()) as { counters: Record<string, Record<string, number>> };
      return Object.entries(health.counters.events_received_total ?? {}).some(([k, v]) => k.startsWith('input=syslog') && v > 0);
    }, 60_000);
    const leader = await observer.leader(STREAMS.raw.name);
    assert.ok(leader);
    await nats.kill(leader);
    worker1.child.kill('SIGKILL');
    t.diagnostic(`killed ${leader} (the stream leader) and an analyze worker after ${Math.round((Date.now() - began) / 1000)} s`);
    const simulated = await simulation;
    assert.equal(simulated.code, 0, simulated.stderr);
    await new Promise((r) => setTimeout(r, 2000));
    sending = false;
    await sender;
    assert.ok(acknowledged.size > 100, `events acknowledged while nodes died (${acknowledged.size}, ${refused} refused)`);
    assert.notEqual(await observer.leader(STREAMS.raw.name), leader, 'a new leader was elected');

    // The survivor takes every partition over and catches up: each checkpoint at its partition's last message,
    // and nothing left unstored.
    const survivor = async () => new Set(await owners());
    const explain = async () => {
      const raw = await observer.jsm.streams.get(STREAMS.raw.name);
      const parts = await Promise.all(
        Array.from({ length: PARTITIONS }, async (_, p) => `${p}: ${JSON.stringify((await table.read(p)).record)} last ${(await raw.getMessage({ last_by_subj: SUBJECTS.raw(p) }))?.seq}`),
      );
      const analyzed = (await observer.jsm.streams.info(STREAMS.analyzed.name)).state;
      return [...parts, `analyzed: ${JSON.stringify(analyzed)}`, ...processes.map((p) => p.output().slice(-3000))].join('\n');
    };
    await until('the surviving worker caught up', async () => {
      const held = await survivor();
      if (held.size !== 1 || held.has('')) return false;
      const raw = await observer.jsm.streams.get(STREAMS.raw.name);
      for (let p = 0; p < PARTITIONS; p++) {
        const last = await raw.getMessage({ last_by_subj: SUBJECTS.raw(p) });
        const { record } = await table.read(p);
        if (last && record!.seq < last.seq) return false;
      }
      return (await observer.jsm.streams.info(STREAMS.analyzed.name)).state.messages === 0;
    }, 120_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await explain()}`);
    });

    t.diagnostic(`caught up after ${Math.round((Date.now() - began) / 1000)} s; ${acknowledged.size} events acknowledged, ${refused} batches refused`);
    // Every acknowledged event stored, exactly once (and nothing stored twice at all).
    const stored = await searchAll(store.url, 'event.dataset:faulttest');
    const copies = new Map<string, number>();
    for (const e of stored) {
      const key = (e.labels as Record<string, string>).n!;
      copies.set(key, (copies.get(key) ?? 0) + 1);
    }
    for (const i of acknowledged) assert.equal(copies.get(String(i)), 1, `event ${i} stored ${copies.get(String(i)) ?? 0} times`);
    for (const [key, count] of copies) assert.equal(count, 1, `event ${key} stored ${count} times`);
    const ids = await searchAll(store.url, 'NOT event.dataset:faulttest');
    assert.equal(new Set(ids.map((e) => e.event.id)).size, ids.length, 'no event id stored twice');
    // The simulator's traffic, whole.
    const count = async (q: string) => (await searchAll(store.url, q)).length;
    assert.equal(await count('event.dataset:sshd AND source.ip:218.92.0.107 AND event.outcome:failure'), 60);
    assert.equal(await count('event.dataset:nginx.access AND source.ip:45.155.205.233'), 12);
    assert.equal(await count('event.dataset:host.network AND source.ip:185.220.101.34'), 60);

    // The detections and alerts one process raises on the same traffic, each once.
    assert.deepEqual(detectionKeys(await searchAll<Detected>(store.url, 'event.kind:alert')), reference.detections);
    const alerts = (await (await call(store.url, '/api/v1/alerts?limit=1000')).json()) as { alerts: { rule: { id: string }; entity: { value: string } | null }[] };
    assert.deepEqual(alerts.alerts.map((a) => `${a.rule.id} ${a.entity?.value}`).sort(), reference.alerts);
  } finally {
    await observer.close();
    for (const p of processes) p.child.kill('SIGKILL');
    await nats.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

test('`vigil start --role` explains what a role needs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-roles-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const noBus = await runVigil(['start', '--role', 'analyze', '--data-dir', dir]);
  assert.notEqual(noBus.code, 0);
  assert.match(noBus.stderr, /needs the bus: set `bus: nats:\/\/HOST:4222`/);
  const apiAlone = await runVigil(['start', '--role', 'api', '--bus', 'nats://127.0.0.1:9']);
  assert.notEqual(apiAlone.code, 0);
  assert.match(apiAlone.stderr, /--role store,api/);
  const unknown = await runVigil(['start', '--role', 'ingest,parse']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unknown role "parse"/);
  const unreachable = await runVigil(['start', '--role', 'analyze', '--bus', 'nats://127.0.0.1:9', '--data-dir', dir]);
  assert.notEqual(unreachable.code, 0);
  assert.match(unreachable.stderr, /cannot reach NATS at nats:\/\/127\.0\.0\.1:9/);
});
