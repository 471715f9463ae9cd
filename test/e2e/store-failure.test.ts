// A store that cannot write, for real: the server runs with a file size limit (RLIMIT_FSIZE, as `ulimit -f`), so
// DuckDB's writes past it fail with EFBIG exactly as on a full disk, while reads go on working. Ingestion answers 503
// with Retry-After and acknowledges nothing, health says `down`, the syslog TCP receiver stops reading (the sender is
// held back), UDP losses are counted, a stop does not hang, and after a restart with room every acknowledged event is there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startVigilProcess, type ServerProcess } from '../../src/testing/process.js';

const TOKEN = 'vgl_store-failure-test-token-0123456789';


async function stop(server: ServerProcess, signal: NodeJS.Signals): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill(signal);
  await exited;
}

async function metric(server: ServerProcess, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const m = pattern.exec(text);
  return m ? Number(m[1]) : 0;
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('when the store cannot write: 503 with Retry-After, health down, syslog TCP paused, UDP losses counted, acknowledged events kept', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-store-failure-'));
  const config = join(dir, 'vigil.yaml');
  writeFileSync(config, 'files:\n  enabled: false\nretention:\n  max_age_days: 0\nml:\n  enabled: false\n');
  const syslogPort = await freePort();
  const args = ['--port', '0', '--syslog-port', String(syslogPort), '--no-collect', '--data-dir', join(dir, 'data'), '--config', config];
  const env = { VIGIL_ADMIN_TOKEN: TOKEN };
  let server = await startVigilProcess(args, env, { fileSizeKiB: 512 });
  try {
    const post = (body: string) => fetch(`${server.url}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' }, body });
    const event = (n: number, size: number) => JSON.stringify({ message: `fill ${n} ${'x'.repeat(size)}`, labels: { run: 'store-failure' } });

    // Fill the disk: events until one is refused, then smaller ones until they are refused too.
    const acked: string[] = [];
    let refused: Response | undefined;
    let n = 0;
    for (const size of [4096, 1024, 128]) {
      for (let i = 0; i < 400; i++) {
        const response = await post(event(n++, size));
        if (response.status === 200) {
          acked.push(...((await response.json()) as { ids: string[] }).ids);
          continue;
        }
        refused = response;
        break;
      }
    }
    assert.ok(refused, 'the store filled up');
    assert.ok(acked.length > 20, `${acked.length} events were stored before it did`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.equal(((await refused.json()) as { error: { id: string } }).error.id, 'unavailable');
    const bigger = await post(event(n++, 8192));
    assert.equal(bigger.status, 503, 'a batch that does not fit is refused whole');
    await bigger.body?.cancel();

    const health = await fetch(`${server.url}/api/v1/health`);
    assert.equal(health.status, 503);
    const body = (await health.json()) as { status: string; problems: string[]; store: { ok: boolean; write_error?: string } };
    assert.equal(body.status, 'down');
    assert.ok(body.problems.includes('store'));
    assert.match(body.store.write_error ?? '', /./, 'health names the write error');
    // Reads still work.
    assert.equal((await fetch(`${server.url}/api/v1/events?q=labels.run:store-failure&limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);

    // UDP cannot be held back: what cannot be stored is counted as lost.
    const udp = dgram.createSocket('udp4');
    const datagram = `<13>1 2024-05-01T10:00:00Z host app 1 - - udp ${'u'.repeat(9000)}`;
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve, reject) => udp.send(datagram, syslogPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    udp.close();
    // Every datagram the receiver got (the kernel may drop some of a burst before that) is counted as lost.
    const udpDropped = () => metric(server, /^vigil_events_dropped_total\{input="syslog_udp",reason="store_unavailable",intentional="false"\} (\d+)$/m);
    const udpReceived = () => metric(server, /^vigil_events_received_total\{input="syslog_udp"\} (\d+)$/m);
    await until('the UDP messages received to be counted as dropped', async () => (await udpReceived()) >= 10 && (await udpDropped()) === (await udpReceived()));

    // TCP can: the receiver stops reading, so the sender's data piles up on its own side instead of being lost.
    const stored = await metric(server, /^vigil_events_stored_total (\d+)$/m);
    const socket = net.connect(syslogPort, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const line = `<13>1 2024-05-01T10:00:00Z host app 1 - - tcp ${'t'.repeat(9000)}\n`;
    let queued = 0;
    const writer = setInterval(() => {
      // 40 MB at most: far beyond what the kernel buffers of both ends hold.
      for (let i = 0; i < 100 && queued < 40_000_000; i++) {
        socket.write(line);
        queued += line.length;
      }
    }, 20);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    clearInterval(writer);
    assert.ok(socket.writableLength > 10_000_000, `${socket.writableLength} bytes still wait on the sender's side: the server stopped reading`);
    assert.equal(await metric(server, /^vigil_events_stored_total (\d+)$/m), stored, 'nothing more was stored');
    assert.equal(await metric(server, /^vigil_events_dropped_total\{input="syslog_tcp",reason="[^"]+",intentional="false"\} (\d+)$/m), 0, 'and nothing from TCP was dropped');

    // Stopping does not hang on what the store keeps refusing: the receiver gives it up after a grace period.
    const stopping = Date.now();
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 60_000))]);
    assert.notEqual(code, 'still running', `vigil did not stop within ${Math.round((Date.now() - stopping) / 1000)} s:\n${server.output().slice(-2000)}`);
    socket.destroy();

    // Room again: every acknowledged event is there, once, and ingestion works.
    await stop(server, 'SIGKILL');
    server = await startVigilProcess(args, env);
    const found = await fetch(`${server.url}/api/v1/events?q=labels.run:store-failure&from=now-1d&limit=10000`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const ids = ((await found.json()) as { events: { event: { id: string } }[] }).events.map((e) => e.event.id);
    assert.deepEqual(new Set(ids).size, ids.length);
    const missing = acked.filter((id) => !ids.includes(id));
    assert.deepEqual(missing, [], `${missing.length} acknowledged events were lost`);
    const after = await post(event(n++, 8192));
    assert.equal(after.status, 200);
    await after.body?.cancel();
  } finally {
    await stop(server, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
