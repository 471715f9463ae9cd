// A remote agent against a real server, both real processes: lines appended to a tailed file arrive exactly once,
// though the server is killed (kill -9) and restarted and the agent is restarted while the server is down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { runVigil, startAgentProcess, startVigilProcess } from '../../src/testing/process.js';

const ADMIN = 'vgl_agent-test-admin-token-0123456789';
const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));

interface Stored {
  message: string;
  event: { id: string };
  agent?: { type: string };
  host?: { name: string };
}

async function storedLines(url: string): Promise<Stored[]> {
  const response = await fetch(`${url}/api/v1/events?q=${encodeURIComponent('labels.run:agent-e2e')}&limit=10000`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(response.status, 200);
  return ((await response.json()) as { events: Stored[] }).events;
}

async function waitForCount(url: string, count: number, ms = 60_000): Promise<Stored[]> {
  const deadline = Date.now() + ms;
  let got: Stored[] = [];
  while (Date.now() < deadline) {
    got = await storedLines(url);
    if (got.length >= count) return got;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`expected ${count} events, found ${got.length}`);
}

function bufferedBytes(dir: string): number {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.seg')).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  } catch {
    return 0;
  }
}

async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const line = (i: number) => JSON.stringify({ message: `agent-e2e line ${String(i).padStart(4, '0')}`, labels: { run: 'agent-e2e' } });
const append = (file: string, from: number, to: number) => {
  for (let i = from; i < to; i++) appendFileSync(file, line(i) + '\n');
};

test('every line reaches the server exactly once across a server kill -9, an agent restart and a server restart', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-agent-e2e-'));
  const serverConfig = join(dir, 'server.yaml');
  writeFileSync(serverConfig, 'files:\n  enabled: false\nretention:\n  max_age_days: 0\n');
  const agentConfig = join(dir, 'agent.yaml');
  writeFileSync(agentConfig, 'files:\n  enabled: false\n');
  const dataDir = join(dir, 'data');
  const agentDir = join(dir, 'agent');
  const file = join(dir, 'app.log');
  writeFileSync(file, '');
  const serverArgs = (port: string) => ['--port', port, '--syslog-port', '0', '--no-collect', '--data-dir', dataDir, '--config', serverConfig];
  const processes: ChildProcess[] = [];
  try {
    let server = await startVigilProcess(serverArgs('0'), { VIGIL_ADMIN_TOKEN: ADMIN });
    processes.push(server.child);
    const port = new URL(server.url).port;
    const created = await runVigil(['token', 'create', '--role', 'ingest', '--name', 'agent', '--data-dir', dataDir]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^vgl_/);

    const agentArgs = ['--server', server.url, '--no-collect', '--tail', `${file}=json`, '--data-dir', agentDir, '--config', agentConfig, '--host-name', 'remote-e2e'];
    let agent = await startAgentProcess(agentArgs, { VIGIL_TOKEN: token });
    processes.push(agent.child);

    // 1. Both up.
    append(file, 0, 50);
    await waitForCount(server.url, 50);

    // 2. The server dies; lines keep coming and wait in the agent's buffer.
    server.child.kill('SIGKILL');
    await exited(server.child);
    append(file, 50, 100);
    await until(() => bufferedBytes(join(agentDir, 'buffer')) > 50 * 60, 30_000, 'the agent to buffer the lines written while the server is down');

    // 3. The agent is restarted meanwhile; more lines are written while it is stopped.
    agent.child.kill('SIGTERM');
    await exited(agent.child);
    append(file, 100, 130);
    agent = await startAgentProcess(agentArgs, { VIGIL_TOKEN: token });
    processes.push(agent.child);
    append(file, 130, 150);

    // 4. The server comes back on the same port and data directory: everything arrives, once.
    server = await startVigilProcess(serverArgs(port), { VIGIL_ADMIN_TOKEN: ADMIN });
    processes.push(server.child);
    await waitForCount(server.url, 150);
    // Let any retry in flight land, then count again.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const stored = await storedLines(server.url);
    const counts = new Map<string, number>();
    for (const e of stored) counts.set(e.message, (counts.get(e.message) ?? 0) + 1);
    const missing = Array.from({ length: 150 }, (_, i) => `agent-e2e line ${String(i).padStart(4, '0')}`).filter((m) => !counts.has(m));
    assert.deepEqual(missing, [], 'no line lost');
    const twice = [...counts].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no line stored twice');
    assert.equal(stored.length, 150);
    assert.equal(new Set(stored.map((e) => e.event.id)).size, 150);
    assert.ok(stored.every((e) => UUIDV7.test(e.event.id)), 'ids are UUIDv7, given by the agent');
    assert.ok(stored.every((e) => e.agent?.type === 'vigil-agent' && e.host?.name === 'remote-e2e'));

    // The server knows the agent's host.
    const hosts = (await (await fetch(`${server.url}/api/v1/hosts`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { hosts: { name: string; agent?: { type: string } }[] };
    assert.ok(hosts.hosts.some((h) => h.name === 'remote-e2e' && h.agent?.type === 'vigil-agent'));
    await until(() => bufferedBytes(join(agentDir, 'buffer')) === 0, 30_000, 'the buffer to empty');
  } finally {
    for (const child of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(processes.map(exited));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vigil agent --help explains the systemd install; --print-systemd-unit prints a unit', async () => {
  const help = await runVigil(['agent', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--print-systemd-unit/);
  assert.match(help.stdout, /systemctl daemon-reload && sudo systemctl enable --now vigil-agent/);
  const unit = await runVigil(['agent', '--server', 'https://vigil.example.com:3000', '--tail', '/var/log/app.log=json', '--print-systemd-unit']);
  assert.equal(unit.code, 0, unit.stderr);
  assert.match(unit.stdout, /^\[Service\]$/m);
  assert.match(unit.stdout, /^ExecStart=\S+ \S+bin\/vigil\.js agent --server https:\/\/vigil\.example\.com:3000 --data-dir \/var\/lib\/vigil-agent --tail \/var\/log\/app\.log=json$/m);
  assert.match(unit.stdout, /^EnvironmentFile=\/etc\/vigil-agent\.env$/m);
  assert.doesNotMatch(unit.stdout, /vgl_[A-Za-z0-9_-]{8,}/, 'no token in the unit');
  const noToken = await runVigil(['agent', '--server', 'http://127.0.0.1:1'], { VIGIL_TOKEN: '' });
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /no token/);
});
