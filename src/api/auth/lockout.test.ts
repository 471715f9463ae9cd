import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { VigilError } from '../../core/errors.js';
import type { AuditRecord } from '../../audit/event.js';
import { Credentials } from './credentials.js';
import { addressKey, DEFAULT_LOCKOUT, LoginGuard, unlockAccount, type LockoutPolicy } from './lockout.js';

const MINUTE = 60_000;

function setup(policy: Partial<LockoutPolicy> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-lockout-'));
  const credentials = new Credentials(dir);
  credentials.addUser('ana', 'analyst', 'the right password');
  const clock = new ManualClock(Date.parse('2024-05-01T10:00:00Z'));
  const records: AuditRecord[] = [];
  const make = () => new LoginGuard({ policy: { ...DEFAULT_LOCKOUT, ...policy }, dataDir: dir, clock, audit: { record: (...r) => records.push(...r) } });
  const guard = make();
  const login = (g: LoginGuard, user: string, password: string, address = '198.51.100.7') => g.attempt(user, address, 'dashboard', () => credentials.checkPassword(user, password));
  /** The error a login answers, as the client sees it: status, id, message, Retry-After. */
  const answer = (g: LoginGuard, user: string, password: string, address?: string) => {
    try {
      login(g, user, password, address);
      return { status: 200 };
    } catch (err) {
      assert.ok(err instanceof VigilError);
      return { status: err.status, id: err.id, message: err.message, retryAfter: err.retryAfter };
    }
  };
  return { dir, credentials, clock, records, guard, make, login, answer, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('five failures lock the account for 15 minutes, even for the right password, and the answers never tell whether the user exists', () => {
  const t = setup();
  try {
    const real: unknown[] = [];
    const ghost: unknown[] = [];
    for (let i = 0; i < 7; i++) {
      real.push(t.answer(t.guard, 'ana', 'guess', `198.51.100.${i}`));
      ghost.push(t.answer(t.guard, 'nobody', 'guess', `203.0.113.${i}`));
    }
    assert.deepEqual(real, ghost, 'a user that does not exist is answered exactly like one that does');
    assert.deepEqual(real.slice(0, 4), Array(4).fill({ status: 401, id: 'unauthorized', message: 'wrong user name or password', retryAfter: undefined }));
    assert.deepEqual(real[4], { status: 423, id: 'locked', message: 'too many failed logins: this account is locked for 15 more minutes (an admin can lift it with `vigil user unlock NAME`)', retryAfter: 900 });
    assert.equal((real[6] as { status: number }).status, 423);
    // Locked: the right password is refused too, from any address, without being checked.
    assert.equal(t.answer(t.guard, 'ana', 'the right password', '192.0.2.1').status, 423);
    t.clock.advance(10 * MINUTE);
    const later = t.answer(t.guard, 'ana', 'the right password', '192.0.2.1');
    assert.equal(later.status, 423);
    assert.equal(later.retryAfter, 300);
    t.clock.advance(5 * MINUTE + 1000);
    assert.deepEqual(t.login(t.guard, 'ana', 'the right password', '192.0.2.1'), { name: 'ana', role: 'analyst' });

    const actions = t.records.map((r) => r.action);
    assert.equal(actions.filter((a) => a === 'login-failed').length, 10, 'each checked failure is recorded; refused attempts are only counted');
    const locks = t.records.filter((r) => r.action === 'account-locked');
    assert.deepEqual(locks.map((r) => r.target?.id), ['ana', 'nobody']);
    assert.equal(t.records.find((r) => r.action === 'login-failed' && r.actor.name === 'nobody')?.reason, 'unknown_user');
    assert.equal(t.records.find((r) => r.action === 'login-failed' && r.actor.name === 'ana')?.reason, 'wrong_password');
    assert.equal(t.records.at(-1)?.action, 'login');
    assert.equal(t.guard.stats().refused.account_locked, 6);
  } finally {
    t.done();
  }
});

test('failures spread beyond the window do not lock; each repeated lock lasts twice as long, up to the maximum', () => {
  const t = setup({ maxLockMs: 50 * MINUTE });
  try {
    for (let i = 0; i < 10; i++) {
      assert.equal(t.answer(t.guard, 'ana', 'guess').status, 401);
      t.clock.advance(4 * MINUTE); // at most four failures in any 15 minutes
    }
    const durations: number[] = [];
    for (let round = 0; round < 4; round++) {
      let last;
      for (let i = 0; i < 5; i++) last = t.answer(t.guard, 'ana', 'guess', `192.0.2.${round * 5 + i}`);
      assert.equal(last?.status, 423);
      durations.push(last!.retryAfter! / 60);
      t.clock.advance(last!.retryAfter! * 1000 + 1000);
    }
    assert.deepEqual(durations, [15, 30, 50, 50]);
    assert.deepEqual(t.records.filter((r) => r.action === 'account-locked').map((r) => r.details?.strikes), [1, 2, 3, 4]);
    // The right password after a lock ran out forgives the strikes.
    t.login(t.guard, 'ana', 'the right password');
    for (let i = 0; i < 4; i++) t.answer(t.guard, 'ana', 'guess', `192.0.2.${100 + i}`);
    assert.equal(t.answer(t.guard, 'ana', 'guess', '192.0.2.104').retryAfter, 15 * 60);
  } finally {
    t.done();
  }
});

test('locks survive a restart, and `unlockAccount` (vigil user unlock) lifts one in a running guard', async () => {
  const t = setup();
  try {
    for (let i = 0; i < 5; i++) t.answer(t.guard, 'ana', 'guess', `192.0.2.${i}`);
    const file = JSON.parse(readFileSync(join(t.dir, 'lockouts.json'), 'utf8')) as { accounts: Record<string, { strikes: number }> };
    assert.equal(file.accounts.ana?.strikes, 1);
    const restarted = t.make();
    assert.equal(t.answer(restarted, 'ana', 'the right password').status, 423, 'a new process honours the lock');
    assert.deepEqual(restarted.locked().map((l) => l.name), ['ana']);

    assert.equal(unlockAccount(t.dir, 'ana'), true);
    assert.equal(unlockAccount(t.dir, 'ana'), false);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the file is read again at most once a second
    assert.deepEqual(t.login(restarted, 'ana', 'the right password'), { name: 'ana', role: 'analyst' });
    // A lock the guard takes after that is written over the unlocked file, not lost or merged back.
    for (let i = 0; i < 5; i++) t.answer(restarted, 'nobody', 'guess', `192.0.2.${50 + i}`);
    const after = JSON.parse(readFileSync(join(t.dir, 'lockouts.json'), 'utf8')) as { accounts: Record<string, unknown> };
    assert.deepEqual(Object.keys(after.accounts), ['nobody']);
  } finally {
    t.done();
  }
});

test('an address that fails too often is refused whatever names it tries (429); IPv6 counts by /64', () => {
  const t = setup({ addressMaxFailures: 20 });
  try {
    for (let i = 0; i < 19; i++) assert.equal(t.answer(t.guard, `user${i}`, 'guess', '2001:db8:1:2::10').status, 401);
    const limit = t.answer(t.guard, 'user19', 'guess', '2001:db8:1:2:ffff::1');
    assert.deepEqual(limit, { status: 429, id: 'rate_limited', message: 'too many failed logins from this address: wait and try again', retryAfter: 900 });
    assert.equal(t.answer(t.guard, 'ana', 'the right password', '2001:db8:1:2::99').status, 429, 'the same /64');
    assert.equal(t.answer(t.guard, 'ana', 'the right password', '2001:db8:1:3::10').status, 200, 'another /64');
    assert.equal(t.records.filter((r) => r.action === 'address-blocked').length, 1);
    assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    t.clock.advance(15 * MINUTE + 1);
    assert.equal(t.answer(t.guard, 'ana', 'the right password', '2001:db8:1:2::10').status, 200);
  } finally {
    t.done();
  }
});

test('guessing with sixty thousand names and addresses keeps the state within its 50,000 entries', () => {
  const t = setup({ maxFailures: 1_000_000, addressMaxFailures: 1_000_000 });
  try {
    // A cheap check stands in for scrypt here: the guard's bookkeeping is what is measured.
    for (let i = 0; i < 60_000; i++) {
      try {
        t.guard.attempt(`name${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'basic', () => ({ ok: false, reason: 'unknown_user' }));
      } catch {
        // 401
      }
    }
    const stats = t.guard.stats();
    assert.ok(stats.tracked_accounts <= 50_000, `${stats.tracked_accounts} accounts tracked`);
    assert.ok(stats.tracked_addresses <= 50_000, `${stats.tracked_addresses} addresses tracked`);
  } finally {
    t.done();
  }
});
