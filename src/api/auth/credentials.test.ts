// Users and tokens: hashes at rest, roles, expiry, and changes made by another process picked up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Credentials, roleAllows } from './credentials.js';

function withDir(run: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-auth-'));
  return Promise.resolve(run(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('role matrix: ingest only sends, viewer reads, analyst triages, admin manages', () => {
  const expected: Record<string, string[]> = {
    ingest: ['ingest'],
    viewer: ['viewer'],
    analyst: ['ingest', 'viewer', 'analyst'],
    admin: ['ingest', 'viewer', 'analyst', 'admin'],
  };
  for (const [role, allowed] of Object.entries(expected)) {
    for (const required of ['ingest', 'viewer', 'analyst', 'admin'] as const) {
      assert.equal(roleAllows(role as 'admin', required), allowed.includes(required), `${role} on a ${required} route`);
    }
  }
});

test('first start creates admin once; secrets are stored only as hashes', () =>
  withDir((dir) => {
    const credentials = new Credentials(dir);
    const first = credentials.bootstrap();
    assert.ok(first?.password && first.token.startsWith('vgl_'));
    assert.equal(credentials.bootstrap(), undefined, 'a second start creates nothing');
    const file = readFileSync(join(dir, 'auth.json'), 'utf8');
    assert.ok(!file.includes(first.password!), 'no clear password on disk');
    assert.ok(!file.includes(first.token), 'no clear token on disk');
    assert.equal(credentials.authenticatePassword('admin', first.password!)?.role, 'admin');
    assert.equal(credentials.authenticatePassword('admin', 'wrong password'), undefined);
    assert.equal(credentials.authenticateToken(first.token)?.role, 'admin');
    assert.equal(credentials.authenticateToken(first.token + 'x'), undefined);
  }));

test('VIGIL_ADMIN_PASSWORD sets the admin password; VIGIL_ADMIN_TOKEN is accepted as admin', () =>
  withDir((dir) => {
    const credentials = new Credentials(dir, { envAdminToken: 'vgl_from-the-environment' });
    const first = credentials.bootstrap('a chosen password');
    assert.equal(first?.password, undefined);
    assert.equal(credentials.authenticatePassword('admin', 'a chosen password')?.role, 'admin');
    assert.deepEqual(credentials.authenticateToken('vgl_from-the-environment'), { kind: 'env', name: 'VIGIL_ADMIN_TOKEN', role: 'admin' });
  }));

test('expired tokens are refused; revoked tokens stop working in a server that loaded them earlier', async () =>
  withDir(async (dir) => {
    const server = new Credentials(dir);
    const cli = new Credentials(dir);
    const { token } = cli.createToken('shipper', 'ingest');
    const expired = cli.createToken('old', 'viewer', new Date(Date.now() - 1000)).token;
    assert.equal(server.authenticateToken(token)?.role, 'ingest', 'a token made by another process is found');
    assert.equal(server.authenticateToken(expired), undefined);
    cli.revokeToken('shipper');
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(server.authenticateToken(token), undefined);
  }));

test('bad user input is refused with a reason', () =>
  withDir((dir) => {
    const credentials = new Credentials(dir);
    assert.throws(() => credentials.addUser('bad name!', 'viewer', 'long enough'), /user name/);
    assert.throws(() => credentials.addUser('bob', 'viewer', 'short'), /at least 8/);
    credentials.addUser('bob', 'viewer', 'long enough');
    assert.throws(() => credentials.addUser('bob', 'viewer', 'long enough'), /already exists/);
    assert.throws(() => credentials.revokeToken('nothing'), /no token/);
  }));
