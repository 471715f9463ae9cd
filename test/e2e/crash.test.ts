// Acknowledged means durable: a sender in its own process posts 5,000 events/s; the server is killed with SIGKILL in
// the middle of it and started again on the same port. Every event that got a 2xx answer is stored exactly once, and
// the batches the sender retried through the crash (with ids of its own) are stored once, not twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, freePort, startVigilProcess, type ServerProcess } from '../../src/testing/process.js';

const TOKEN = 'vgl_crash-test-admin-token-0123456789';
const SENDER = fileURLToPath(new URL('../../src/testing/paced-sender.ts', import.meta.url));


function exited(server: ServerProcess): Promise<unknown> {
  return server.child.exitCode !== null || server.child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => server.child.once('exit', resolve));
}

test('kill -9 while a separate sender posts 5,000 events/s: every acknowledged event is stored exactly once after restart', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
  const config = join(dir, 'vigil.yaml');
  writeFileSync(config, 'files:\n  enabled: false\nretention:\n  max_age_days: 0\n');
  const port = await freePort();
  const args = ['--port', String(port), '--syslog-port', '0', '--no-collect', '--data-dir', join(dir, 'data'), '--config', config];
  const env = { VIGIL_ADMIN_TOKEN: TOKEN };
  const ackedFile = join(dir, 'acked.txt');
  const run = `crash${Date.now()}`;
  const total = 30_000;
  let server = await startVigilProcess(args, env);
  try {
    const sender = spawn(process.execPath, ['--import', 'tsx', SENDER, '--url', server.url, '--token', TOKEN, '--acked', ackedFile, '--rate', '5000', '--total', String(total), '--batch', '50', '--run', run], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let ackedSoFar = 0;
    let reachedKill: () => void = () => {};
    const killPoint = new Promise<void>((resolve) => (reachedKill = resolve));
    sender.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const m of chunk.toString().matchAll(/acked (\d+)/g)) ackedSoFar = Number(m[1]);
      if (ackedSoFar >= 5000) reachedKill();
    });
    sender.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const senderDone = new Promise<number | null>((resolve) => sender.once('exit', resolve));

    // A second or so into the stream, with requests in flight: SIGKILL, no chance to flush anything.
    await Promise.race([killPoint, senderDone]);
    assert.ok(ackedSoFar >= 5000, `the sender got going before the kill:\n${out}`);
    server.child.kill('SIGKILL');
    await exited(server);
    const ackedAtKill = readFileSync(ackedFile, 'utf8').split('\n').filter(Boolean).length;
    // The sender keeps trying (and failing) while the server is down; then the server comes back on the same port.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    server = await startVigilProcess(args, env);
    const code = await senderDone;
    assert.equal(code, 0, out);
    const summary = /done sent=(\d+) acked=(\d+) failures=(\d+) seconds=([\d.]+)/.exec(out);
    assert.ok(summary, out);
    assert.ok(Number(summary[3]) > 0, 'some requests failed while the server was down');
    t.diagnostic(`sender: ${summary[0]}; ${ackedAtKill} events acknowledged before the kill`);

    const acked = readFileSync(ackedFile, 'utf8').split('\n').filter(Boolean);
    assert.ok(acked.length > ackedAtKill, 'the sender went on after the restart');
    const seen = new Map<string, number>();
    let cursor: string | undefined;
    do {
      const response = await fetch(`${server.url}/api/v1/events?q=${encodeURIComponent(`labels.run:${run}`)}&from=now-1d&limit=10000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(response.status, 200);
      const page = (await response.json()) as { events: { event: { id: string } }[]; next: string | null };
      for (const e of page.events) seen.set(e.event.id, (seen.get(e.event.id) ?? 0) + 1);
      cursor = page.next ?? undefined;
    } while (cursor);

    const missing = acked.filter((id) => !seen.has(id));
    assert.equal(missing.length, 0, `${missing.length} of ${acked.length} acknowledged events were lost, e.g. ${missing.slice(0, 3).join(', ')}`);
    const twice = [...seen].filter(([, n]) => n > 1);
    assert.equal(twice.length, 0, `stored more than once: ${twice.slice(0, 3).map(([id]) => id).join(', ')}`);
    assert.equal(new Set(acked).size, acked.length, 'no id was acknowledged twice');
    // Every batch with the sender's own ids was retried until acknowledged: all of them are there, once.
    const own = [...seen.keys()].filter((id) => id.startsWith(`${run}-`));
    const expectedOwn = Array.from({ length: total / 50 }, (_, b) => b).filter((b) => b % 2 === 0).length * 50;
    assert.equal(own.length, expectedOwn);
  } finally {
    server.child.kill('SIGTERM');
    await exited(server);
    rmSync(dir, { recursive: true, force: true });
  }
});
