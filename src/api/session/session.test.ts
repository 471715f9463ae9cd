import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestVigil } from '../../testing/runtime.js';
import { Credentials } from '../auth/credentials.js';
import { SessionStore } from './sessions.js';

const PASSWORD = 'a long admin password';

test('login sets an HttpOnly SameSite=Strict cookie that authenticates reads; changes need the CSRF token; logout ends it', async () => {
  const vigil = await startTestVigil({}, { env: { VIGIL_ADMIN_PASSWORD: PASSWORD } });
  try {
    const login = (password: string, headers: Record<string, string> = {}) =>
      fetch(`${vigil.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username: 'admin', password }) });
    const wrong = await login('nope');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    // Login CSRF: another site cannot log the browser in.
    assert.equal((await login(PASSWORD, { origin: 'https://evil.example' })).status, 403);

    const ok = await login(PASSWORD);
    assert.equal(ok.status, 200);
    const setCookie = ok.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^vigil_session=[A-Za-z0-9_-]{40,}; Path=\/; HttpOnly; SameSite=Strict$/);
    const body = (await ok.json()) as { user: string; role: string; csrf: string };
    assert.equal(body.user, 'admin');
    assert.equal(body.role, 'admin');
    const cookie = setCookie.split(';')[0]!;

    const me = (await (await fetch(`${vigil.url}/api/v1/session`, { headers: { cookie } })).json()) as { csrf: string };
    assert.equal(me.csrf, body.csrf);
    assert.equal((await fetch(`${vigil.url}/api/v1/alerts`, { headers: { cookie } })).status, 200);
    assert.equal((await fetch(`${vigil.url}/api/v1/alerts`, { headers: { cookie: 'vigil_session=forged-session-value-000000000' } })).status, 401);

    const suppress = (headers: Record<string, string>) =>
      fetch(`${vigil.url}/api/v1/suppressions`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ entity: '192.0.2.1' }) });
    assert.equal((await suppress({})).status, 403);
    assert.equal((await suppress({ 'x-csrf-token': body.csrf.slice(1) })).status, 403);
    assert.equal((await suppress({ 'x-csrf-token': body.csrf })).status, 201);
    // A bearer token needs no CSRF token: no browser sends it by itself.
    assert.equal((await vigil.call('/api/v1/suppressions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entity: '192.0.2.2' }) })).status, 201);

    assert.equal((await fetch(`${vigil.url}/api/v1/session`, { method: 'DELETE', headers: { cookie } })).status, 403);
    const out = await fetch(`${vigil.url}/api/v1/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': body.csrf } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await fetch(`${vigil.url}/api/v1/alerts`, { headers: { cookie } })).status, 401);
    assert.equal((await fetch(`${vigil.url}/api/v1/session`, { headers: { cookie } })).status, 401);
  } finally {
    await vigil.close();
  }
});

test('sessions expire when idle and at their maximum age; a removed user is logged out; guessing locks the account', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-session-'));
  try {
    const credentials = new Credentials(dir);
    credentials.addUser('ana', 'analyst', 'analyst password');
    credentials.addUser('vera', 'viewer', 'viewer password');
    let now = 1_000_000;
    const sessions = new SessionStore(credentials, { idleMs: 60_000, maxAgeMs: 3_600_000, now: () => now });

    const a = sessions.login('ana', 'analyst password', '127.0.0.1');
    assert.equal(sessions.principalOf(a.id)?.principal.role, 'analyst');
    now += 59_000;
    assert.ok(sessions.get(a.id), 'used within the idle time: still there');
    now += 61_000;
    assert.equal(sessions.get(a.id), undefined, 'idle too long');

    const b = sessions.login('ana', 'analyst password', '127.0.0.1');
    for (let i = 0; i < 100; i++) {
      now += 50_000;
      if (!sessions.get(b.id)) break;
    }
    assert.equal(sessions.get(b.id), undefined, 'past the maximum age however busy');
    assert.ok(now - b.session.created <= 3_600_000 + 50_000);

    const v = sessions.login('vera', 'viewer password', '127.0.0.1');
    credentials.removeUser('vera');
    assert.equal(sessions.principalOf(v.id), undefined);

    for (let i = 0; i < 4; i++) assert.throws(() => sessions.login('ana', 'guess', '198.51.100.9'), /wrong user name or password/);
    assert.throws(() => sessions.login('ana', 'guess', '198.51.100.9'), /this account is locked for 15 more minutes/);
    assert.throws(() => sessions.login('ana', 'analyst password', '198.51.100.9'), /too many failed logins/);
    assert.throws(() => sessions.login('ana', 'analyst password', '127.0.0.1'), /locked/, 'the account is locked whatever the address');
    now += 15 * 60_000 + 1;
    assert.ok(sessions.login('ana', 'analyst password', '198.51.100.9'), 'the lock lifts after its time');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sessions are kept in the data dir by digest only: they survive a new store; logout, expiry and a new password end them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-session-'));
  try {
    const file = join(dir, 'sessions.json');
    const credentials = new Credentials(dir);
    credentials.addUser('ana', 'analyst', 'analyst password');
    credentials.addUser('bob', 'viewer', 'viewer password');
    let now = 5_000_000;
    const options = { idleMs: 60_000, maxAgeMs: 3_600_000, now: () => now, file };
    const first = new SessionStore(credentials, options);
    const a = first.login('ana', 'analyst password', '127.0.0.1');
    const b = first.login('bob', 'viewer password', '127.0.0.1');
    const c = first.login('ana', 'analyst password', '127.0.0.1');
    assert.equal(first.principalOf(b.id)?.principal.role, 'viewer');
    const text = readFileSync(file, 'utf8');
    for (const secret of [a.id, b.id, a.session.csrf, b.session.csrf]) assert.equal(text.includes(secret), false, 'neither ids nor CSRF tokens are written');
    assert.equal(statSync(file).mode & 0o077, 0, 'only the owner may read it');
    first.logout(c.id);
    now += 30_000;
    assert.ok(first.get(a.id));
    first.close(); // writes ana's last use

    // A restart: the same ids work, with the same CSRF token; the logged-out one does not come back.
    const second = new SessionStore(credentials, options);
    assert.equal(second.principalOf(a.id)?.principal.name, 'ana');
    assert.equal(second.get(a.id)?.csrf, a.session.csrf);
    assert.equal(second.get(c.id), undefined);
    assert.equal(second.get('x'.repeat(43)), undefined);
    second.close();

    // Bob stays idle past the limit while ana keeps working (her last use was kept): only ana's session is loaded.
    now += 50_000;
    const third = new SessionStore(credentials, options);
    assert.ok(third.get(a.id));
    assert.equal(third.get(b.id), undefined, 'idle too long, also across a restart');
    // A new password ends the sessions opened with the old one.
    credentials.setPassword('ana', 'a new analyst password');
    assert.equal(third.principalOf(a.id), undefined);
    third.close();
    assert.equal(new SessionStore(credentials, options).get(a.id), undefined);

    // A damaged file logs everyone out but does not stop the server.
    writeFileSync(file, '{not json');
    const fourth = new SessionStore(credentials, options);
    assert.equal(fourth.size, 0);
    assert.ok(fourth.login('bob', 'viewer password', '127.0.0.1'));
    fourth.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a restart of the server keeps the dashboard logged in; a logout before it does not come back', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-session-restart-'));
  try {
    let vigil = await startTestVigil({}, { dataDir, env: { VIGIL_ADMIN_PASSWORD: PASSWORD } });
    const login = async () => {
      const res = await fetch(`${vigil.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
      return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: ((await res.json()) as { csrf: string }).csrf };
    };
    const kept = await login();
    const ended = await login();
    assert.equal((await fetch(`${vigil.url}/api/v1/session`, { method: 'DELETE', headers: { cookie: ended.cookie, 'x-csrf-token': ended.csrf } })).status, 204);
    await vigil.close();

    vigil = await startTestVigil({}, { dataDir, env: { VIGIL_ADMIN_PASSWORD: PASSWORD } });
    try {
      const me = await fetch(`${vigil.url}/api/v1/session`, { headers: { cookie: kept.cookie } });
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { csrf: string }).csrf, kept.csrf);
      const note = await fetch(`${vigil.url}/api/v1/suppressions`, { method: 'POST', headers: { cookie: kept.cookie, 'x-csrf-token': kept.csrf, 'content-type': 'application/json' }, body: JSON.stringify({ entity: '192.0.2.3' }) });
      assert.equal(note.status, 201);
      assert.equal((await fetch(`${vigil.url}/api/v1/session`, { headers: { cookie: ended.cookie } })).status, 401);
    } finally {
      await vigil.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
