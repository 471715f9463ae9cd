// The network collector against this machine's real /proc: listeners and connections this test opens show up with
// our pid, and interface counters give rates. Samples are taken by hand (tick), so nothing waits on a timer.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, test } from 'node:test';
import { systemClock } from '../../core/clock.js';
import { RecordingIngest } from '../../testing/ingest.js';
import { LinuxNetworkReader } from './linux/net.js';
import { UserNames } from './linux/users.js';
import { NetworkCollector } from './network.js';

const linux = { skip: process.platform !== 'linux' ? 'reads Linux /proc' : false };
const users = new UserNames();
const closers: (() => unknown)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

function collector(ingest: RecordingIngest, options: { loopbackConnections?: boolean; maxConnectionEvents?: number } = {}) {
  const warnings: string[] = [];
  const c = new NetworkCollector(
    { ingest, clock: systemClock, dataDir: '/nonexistent', hostName: 'test-host', warn: (m) => warnings.push(m) },
    new LinuxNetworkReader('/proc'),
    { intervalMs: 60_000, ...options },
    (uid) => users.lookup(uid),
  );
  closers.push(() => c.close());
  return { c, warnings };
}

const listen = (server: net.Server, host = '127.0.0.1') => new Promise<number>((resolve) => server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port)));

test('a TCP listener opened after the first sample is reported with our pid, and again when it closes', linux, async () => {
  const ingest = new RecordingIngest();
  const { c } = collector(ingest);
  await c.tick(); // baseline: what exists is not reported
  assert.equal(ingest.find({ action: 'listening_started' }).length, 0);

  const server = net.createServer();
  const port = await listen(server);
  await c.tick();
  const started = ingest.find({ action: 'listening_started' }).filter((d) => (d.destination as { port: number }).port === port);
  assert.equal(started.length, 1);
  const e = started[0]!;
  assert.equal(e.event.dataset, 'host.network');
  assert.deepEqual(e.event.category, ['network']);
  assert.deepEqual(e.network, { transport: 'tcp', type: 'ipv4' });
  assert.deepEqual(e.destination, { ip: '127.0.0.1', port });
  assert.equal((e.process as { pid: number }).pid, process.pid);
  assert.equal((e.process as { executable: string }).executable, process.execPath);
  assert.equal((e.user as { id: string }).id, String(process.getuid!()));
  assert.equal((e.host as { name: string }).name, 'test-host');
  assert.equal((e.system as { socket: { state: string } }).socket.state, 'LISTEN');
  assert.match(e.message as string, new RegExp(`listening on 127\\.0\\.0\\.1:${port} by .*\\[${process.pid}\\]`));

  await new Promise<void>((resolve) => server.close(() => resolve()));
  await c.tick();
  const stopped = ingest.find({ action: 'listening_stopped' }).filter((d) => (d.destination as { port: number }).port === port);
  assert.equal(stopped.length, 1);
  assert.equal((stopped[0]!.process as { pid: number }).pid, process.pid, 'the stop event keeps the owner learned at start');
  assert.deepEqual(stopped[0]!.event.type, ['end']);
});

test('a new connection gives connection_opened on each side: ingress to the listener, egress from the client', linux, async () => {
  const ingest = new RecordingIngest();
  const { c } = collector(ingest, { loopbackConnections: true });
  const server = net.createServer(() => undefined);
  const port = await listen(server);
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  await c.tick();
  const client = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  closers.push(() => client.destroy());
  await c.tick();
  const opened = ingest.find({ action: 'connection_opened' }).filter((d) => (d.destination as { port: number }).port === port || (d.source as { port: number }).port === port);
  const inbound = opened.find((d) => (d.network as { direction: string }).direction === 'ingress');
  const outbound = opened.find((d) => (d.network as { direction: string }).direction === 'egress');
  assert.ok(inbound && outbound, `both sides reported: ${JSON.stringify(opened)}`);
  assert.deepEqual(inbound.destination, { ip: '127.0.0.1', port });
  assert.deepEqual(inbound.source, { ip: '127.0.0.1', port: client.localPort });
  assert.deepEqual(outbound.source, { ip: '127.0.0.1', port: client.localPort });
  assert.deepEqual(outbound.destination, { ip: '127.0.0.1', port });
  for (const d of [inbound, outbound]) {
    assert.equal((d.process as { pid: number }).pid, process.pid);
    assert.deepEqual(d.event.type, ['connection', 'start']);
    assert.equal((d.system as { socket: { state: string } }).socket.state, 'ESTABLISHED');
  }
  // Seen once: the next sample does not report it again.
  const before = ingest.find({ action: 'connection_opened' }).length;
  await c.tick();
  assert.equal(ingest.find({ action: 'connection_opened' }).length, before);
});

test('loopback connections are left out by default; a cap counts what it does not report', linux, async () => {
  const ingest = new RecordingIngest();
  const { c } = collector(ingest);
  const server = net.createServer(() => undefined);
  const port = await listen(server);
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  await c.tick();
  const client = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  closers.push(() => client.destroy());
  await c.tick();
  assert.equal(ingest.find({ action: 'connection_opened' }).filter((d) => (d.destination as { port: number }).port === port).length, 0);

  const capped = new RecordingIngest();
  const { c: c2 } = collector(capped, { loopbackConnections: true, maxConnectionEvents: 1 });
  await c2.tick();
  const more = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
  await Promise.all(more.map((s) => new Promise((resolve) => s.once('connect', resolve))));
  closers.push(() => more.forEach((s) => s.destroy()));
  await c2.tick();
  assert.equal(capped.find({ action: 'connection_opened' }).length, 1);
  assert.ok((c2.status().connections_not_reported as number) >= 3);
});

test('a bound UDP socket is a listener', linux, async () => {
  const ingest = new RecordingIngest();
  const { c } = collector(ingest);
  await c.tick();
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  closers.push(() => socket.close());
  await c.tick();
  const port = socket.address().port;
  const e = ingest.find({ action: 'listening_started' }).find((d) => (d.destination as { port: number }).port === port);
  assert.ok(e, 'udp listener reported');
  assert.equal((e.network as { transport: string }).transport, 'udp');
  assert.equal((e.process as { pid: number }).pid, process.pid);
});

test('interface traffic: per-interface counters and rates, and the host total without loopback', linux, async () => {
  const ingest = new RecordingIngest();
  const { c } = collector(ingest);
  await c.tick();
  assert.equal(ingest.find({ metricset: 'interface' }).length, 0, 'the first sample only records counters');
  // Some loopback traffic between the samples.
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  const port = await listen(server);
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => undefined);
  await new Promise((resolve) => client.once('connect', resolve));
  client.write(Buffer.alloc(100_000));
  await new Promise((resolve) => setTimeout(resolve, 200));
  client.destroy();
  await c.tick();
  const lo = ingest.find({ metricset: 'interface' }).find((d) => (d.system as { network: { name: string } }).network.name === 'lo');
  assert.ok(lo, 'lo reported');
  const network = (lo.system as { network: { in: Record<string, number>; out: Record<string, number> } }).network;
  assert.ok(network.in.bytes! > 200_000 && network.in.bytes_per_sec! > 1000, JSON.stringify(network));
  assert.ok(network.out.packets! > 0 && network.out.packets_per_sec! > 0);
  assert.equal(lo.event.kind, 'metric');
  const [total] = ingest.find({ metricset: 'network' });
  assert.ok(total, 'host total reported');
  const host = total.host as { network: { ingress: { bytes: number; packets: number }; egress: { bytes: number } } };
  assert.ok(host.network.ingress.bytes < network.in.bytes_per_sec! * 10, 'loopback is not counted in the host total');
  assert.ok(typeof host.network.egress.bytes === 'number');
  assert.equal((total.metricset as { period: number }).period, 60_000);
});
