// Password guessing against a real server: the dashboard login and HTTP Basic share one lockout, the answers are the
// same for users that do not exist, the lock survives kill -9 and a restart, and `vigil user unlock` lifts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVigil, startVigilProcess, type ServerProcess } from '../../src/testing/process.js';

const TOKEN = 'vgl_lockout-test-admin-token-0123456789';
const PASSWORD = 'the real admin password';

async function stop(server: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill(signal);
  await exited;
}

test('failed logins lock an account across the dashboard and HTTP Basic, through a restart, until vigil user unlock', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-lockout-'));
  const dataDir = join(dir, 'data');
  const config = join(dir, 'vigil.yaml');
  writeFileSync(config, 'files:\n  enabled: false\nlogin:\n  max_failures: 3\n  lockout_minutes: 10\n');
  const args = ['--port', '0', '--syslog-port', '0', '--no-collect', '--data-dir', dataDir, '--config', config];
  const env = { VIGIL_ADMIN_TOKEN: TOKEN, VIGIL_ADMIN_PASSWORD: PASSWORD };
  let server = await startVigilProcess(args, env);
  try {
    const login = async (username: string, password: string) => {
      const response = await fetch(`${server.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
      const body = (await response.json()) as { error?: { id: string; message: string } };
      return { status: response.status, retryAfter: response.headers.get('retry-after'), error: body.error };
    };
    const basic = async (username: string, password: string) => {
      const response = await fetch(`${server.url}/es/`, { headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` } });
      await response.body?.cancel();
      return { status: response.status, retryAfter: response.headers.get('retry-after') };
    };

    // Two wrong passwords through the form, the third through Basic: the account is locked.
    assert.equal((await login('admin', 'guess 1')).status, 401);
    assert.equal((await basic('admin', 'guess 2')).status, 401);
    const third = await login('admin', 'guess 3');
    assert.equal(third.status, 423);
    assert.equal(third.retryAfter, '600');
    assert.match(third.error!.message, /locked for 10 more minutes/);
    // Locked means locked: the right password is refused, by both ways in.
    assert.equal((await login('admin', PASSWORD)).status, 423);
    assert.equal((await basic('admin', PASSWORD)).status, 423);
    // A name that does not exist goes through exactly the same answers.
    const ghost = [await login('ghost', 'guess 1'), await login('ghost', 'guess 2'), await login('ghost', 'guess 3'), await login('ghost', 'x')];
    assert.deepEqual(
      ghost.map((a) => [a.status, a.retryAfter, a.error?.id]),
      [
        [401, null, 'unauthorized'],
        [401, null, 'unauthorized'],
        [423, '600', 'locked'],
        [423, '600', 'locked'],
      ],
    );
    // Tokens are not passwords: automation keeps working.
    assert.equal((await fetch(`${server.url}/api/v1/alerts`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);

    const listed = await runVigil(['user', 'list', '--data-dir', dataDir]);
    assert.match(listed.stdout, /admin .* locked until \d{4}-/);

    // kill -9 and start again: the lock is still there.
    await stop(server, 'SIGKILL');
    server = await startVigilProcess(args, env);
    assert.equal((await login('admin', PASSWORD)).status, 423);

    const unlocked = await runVigil(['user', 'unlock', 'admin', '--data-dir', dataDir]);
    assert.equal(unlocked.code, 0, unlocked.stderr);
    assert.match(unlocked.stdout, /unlocked admin/);
    const notLocked = await runVigil(['user', 'unlock', 'admin', '--data-dir', dataDir]);
    assert.match(notLocked.stdout, /admin is not locked/);
    let answer = await login('admin', PASSWORD);
    for (let i = 0; i < 30 && answer.status === 423; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200)); // the server reads the file again within a second
      answer = await login('admin', PASSWORD);
    }
    assert.equal(answer.status, 200);

    // Everything above is in the trail, searchable like events.
    const q = encodeURIComponent('event.dataset:vigil.audit AND (event.action:account-locked OR event.action:account-unlocked OR event.action:login-failed OR event.action:login)');
    let events: { event: { action: string; reason?: string }; vigil: { audit: { details?: { method?: string }; via: string } } }[] = [];
    for (let i = 0; i < 50; i++) {
      const response = await fetch(`${server.url}/api/v1/events?q=${q}&limit=100`, { headers: { authorization: `Bearer ${TOKEN}` } });
      events = ((await response.json()) as { events: typeof events }).events;
      if (events.some((e) => e.event.action === 'login')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const count = (action: string) => events.filter((e) => e.event.action === action).length;
    assert.equal(count('account-locked'), 2, 'admin and ghost');
    assert.equal(count('account-unlocked'), 1);
    assert.equal(count('login-failed'), 6, 'every password that was checked, none of the refused attempts');
    assert.equal(count('login'), 1);
    assert.ok(events.some((e) => e.event.action === 'login-failed' && e.vigil.audit.details?.method === 'basic'));
    assert.ok(events.some((e) => e.event.action === 'login-failed' && e.event.reason === 'unknown_user'));
  } finally {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  }
});
