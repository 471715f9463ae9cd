// Password guessing is stopped two ways, for the dashboard login and for HTTP Basic alike (OWASP Authentication
// Cheat Sheet, "Account lockout"; NIST SP 800-63B §5.2.2 "Rate limiting"): an account that fails `max_failures` times
// within the window is locked for a while, longer at each repeat; an address that fails too often is refused for a
// while whatever names it tries. Names that do not exist are treated exactly like those that do, so neither the
// answers nor their timing say which users exist. Locks are kept in `lockouts.json`, so a restart does not lift them,
// and `vigil user unlock NAME` lifts one (a running server reads the file again within a second).
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { VigilError } from '../../core/errors.js';
import { addressKey } from '../../core/ip.js';
import type { AuditSink } from '../../audit/trail.js';

export interface LockoutPolicy {
  /** Failed logins of one account within `windowMs` that lock it. */
  maxFailures: number;
  windowMs: number;
  /** The first lock; each further lock within `strikeMemoryMs` doubles it, up to `maxLockMs`. */
  lockMs: number;
  maxLockMs: number;
  /** Failed logins from one address (an IPv6 /64) within `windowMs` that get it refused for `addressLockMs`. */
  addressMaxFailures: number;
  addressLockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  maxLockMs: 24 * 3_600_000,
  addressMaxFailures: 20,
  addressLockMs: 15 * 60_000,
};

/** The policy from the `login` block of the configuration. */
export function lockoutPolicy(config: { max_failures: number; window_minutes: number; lockout_minutes: number; max_lockout_minutes: number; max_failures_per_address: number; address_lockout_minutes: number }): LockoutPolicy {
  return {
    maxFailures: config.max_failures,
    windowMs: config.window_minutes * 60_000,
    lockMs: config.lockout_minutes * 60_000,
    maxLockMs: Math.max(config.lockout_minutes, config.max_lockout_minutes) * 60_000,
    addressMaxFailures: config.max_failures_per_address,
    addressLockMs: config.address_lockout_minutes * 60_000,
  };
}

export const LOCKOUT_FILE = 'lockouts.json';

/** One account's lock: until when, and how many locks in a row (the next one lasts twice as long). */
export interface AccountLock {
  until: number;
  strikes: number;
}

interface LockFile {
  version: 1;
  accounts: Record<string, AccountLock>;
}

/** How the login was attempted, for the audit trail. */
export type LoginMethod = 'dashboard' | 'basic';

export type PasswordCheck = { ok: true; name: string; role: string } | { ok: false; reason: 'unknown_user' | 'wrong_password' | 'disabled' };

/** Entries kept per map: an attacker with many names or addresses pushes out the oldest, never grows memory. */
const MAX_TRACKED = 50_000;
/** Locks kept (and written); beyond it the one that ends first goes. */
const MAX_LOCKS = 10_000;
/** How long a lock is remembered after it ends, for the doubling of the next one. */
const STRIKE_MEMORY_FACTOR = 2;

function touch<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_TRACKED) map.delete(map.keys().next().value!);
}

/** The key of an address: IPv4 as is, IPv6 by its /64 (core/ip.ts). */
export { addressKey };

/** Reads and writes the locks file, re-reading it when another process (`vigil user unlock`) changed it. */
export class LockFileStore {
  readonly path: string;
  private mtimeMs = -1;
  private lastCheck = 0;

  constructor(dataDir: string) {
    this.path = join(dataDir, LOCKOUT_FILE);
  }

  /** The locks on disk when the file changed since the last read (at most one check a second unless `force`), else undefined. */
  readIfChanged(force = false): Map<string, AccountLock> | undefined {
    const now = Date.now();
    if (!force && now - this.lastCheck < 1000) return undefined;
    this.lastCheck = now;
    let mtime: number;
    try {
      mtime = statSync(this.path).mtimeMs;
    } catch {
      if (this.mtimeMs === -1) return undefined;
      this.mtimeMs = -1;
      return new Map();
    }
    if (mtime === this.mtimeMs) return undefined;
    this.mtimeMs = mtime;
    return this.read();
  }

  read(): Map<string, AccountLock> {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<LockFile>;
      const out = new Map<string, AccountLock>();
      for (const [name, lock] of Object.entries(parsed.accounts ?? {})) {
        if (typeof lock?.until === 'number' && typeof lock.strikes === 'number') out.set(name, { until: lock.until, strikes: lock.strikes });
      }
      return out;
    } catch {
      return new Map();
    }
  }

  write(locks: ReadonlyMap<string, AccountLock>): void {
    const file: LockFile = { version: 1, accounts: Object.fromEntries(locks) };
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(file, null, 1) + '\n', { mode: 0o600 });
    renameSync(tmp, this.path);
    try {
      this.mtimeMs = statSync(this.path).mtimeMs;
    } catch {
      this.mtimeMs = -1;
    }
  }
}

/** Lifts an account's lock in the data directory; true when there was one. For `vigil user unlock`. */
export function unlockAccount(dataDir: string, name: string): boolean {
  const store = new LockFileStore(dataDir);
  const locks = store.read();
  if (!locks.delete(name)) return false;
  store.write(locks);
  return true;
}

/** Locks of the data directory that are in force now. */
export function activeLocks(dataDir: string, now = Date.now()): Map<string, AccountLock> {
  return new Map([...new LockFileStore(dataDir).read()].filter(([, lock]) => lock.until > now));
}

export interface LoginGuardOptions {
  policy: LockoutPolicy;
  /** Where `lockouts.json` lives; without it locks last until the process ends. */
  dataDir?: string;
  clock?: Clock;
  audit?: AuditSink;
}

export class LoginGuard {
  private readonly policy: LockoutPolicy;
  private readonly clock: Clock;
  private readonly audit: AuditSink | undefined;
  private readonly file: LockFileStore | undefined;
  /** Failure times per account name within the window (oldest first). */
  private readonly failures = new Map<string, number[]>();
  private readonly addressFailures = new Map<string, number[]>();
  private locks = new Map<string, AccountLock>();
  private readonly addressBlocks = new Map<string, number>();
  /** Attempts refused without a password check, by reason. */
  readonly refused = { account_locked: 0, address_blocked: 0 };

  constructor(options: LoginGuardOptions) {
    this.policy = options.policy;
    this.clock = options.clock ?? systemClock;
    this.audit = options.audit;
    if (options.dataDir !== undefined) {
      this.file = new LockFileStore(options.dataDir);
      this.locks = this.file.readIfChanged(true) ?? new Map();
    }
  }

  private sync(): void {
    const fresh = this.file?.readIfChanged();
    if (fresh) this.locks = fresh;
  }

  /** Writes the locks after a change to `changed`'s. */
  private save(changed: string): void {
    if (!this.file) return;
    // Another process may have lifted a lock since the last read: start from its version, with this one change.
    const fresh = this.file.readIfChanged(true);
    if (fresh) {
      const mine = this.locks.get(changed);
      this.locks = fresh;
      if (mine) this.locks.set(changed, mine);
      else this.locks.delete(changed);
    }
    try {
      this.file.write(this.locks);
    } catch (err) {
      console.error(`vigil: cannot write ${this.file.path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * Checks a password under the policy: refuses at once (without checking it) when the account is locked (423) or
   * the address is refused (429); otherwise checks it, counts a failure, locks when the count is reached, and
   * answers the user, or throws 401. The same answers whether or not the user exists.
   */
  attempt(user: string, address: string, method: LoginMethod, check: () => PasswordCheck): { name: string; role: string } {
    const now = this.clock.now();
    this.sync();
    const name = user.slice(0, 256);
    const addr = addressKey(address);
    const blockedUntil = this.addressBlocks.get(addr);
    if (blockedUntil !== undefined && blockedUntil > now) {
      this.refused.address_blocked++;
      throw new VigilError('rate_limited', 'too many failed logins from this address: wait and try again', { retryAfter: Math.ceil((blockedUntil - now) / 1000) });
    }
    const lock = this.locks.get(name);
    if (lock && lock.until > now) {
      this.refused.account_locked++;
      throw lockedError(lock.until - now);
    }
    const result = check();
    if (result.ok) {
      this.failures.delete(name);
      if (lock) {
        // A lock that ran out, followed by the right password: its strikes are forgiven.
        this.locks.delete(name);
        this.save(name);
      }
      if (method === 'dashboard') {
        this.audit?.record({ action: 'login', category: 'authentication', type: ['start'], outcome: 'success', actor: { name: result.name, kind: 'user', role: result.role }, via: 'dashboard', sourceIp: address, message: `${result.name} logged in to the dashboard` });
      }
      return { name: result.name, role: result.role };
    }
    const accountLock = this.fail(this.failures, name, now, this.policy.maxFailures) ? this.lock(name, now) : undefined;
    const addressBlock = this.fail(this.addressFailures, addr, now, this.policy.addressMaxFailures) ? now + this.policy.addressLockMs : undefined;
    const records: Parameters<AuditSink['record']> = [
      {
        action: 'login-failed',
        category: 'authentication',
        type: ['start'],
        outcome: 'failure',
        reason: result.reason,
        actor: { name, kind: 'anonymous' },
        via: method === 'dashboard' ? 'dashboard' : 'api',
        sourceIp: address,
        message: `failed ${method === 'dashboard' ? 'dashboard' : 'HTTP Basic'} login as ${JSON.stringify(name.slice(0, 64))} (${result.reason.replace('_', ' ')})`,
        details: { method },
      },
    ];
    if (accountLock) {
      const minutes = Math.round((accountLock.until - now) / 60_000);
      records.push({
        action: 'account-locked',
        category: 'authentication',
        type: ['info'],
        outcome: 'success',
        reason: 'too_many_failures',
        actor: { name: 'vigil', kind: 'system' },
        via: 'server',
        sourceIp: address,
        target: { kind: 'user', id: name },
        message: `account ${JSON.stringify(name.slice(0, 64))} locked for ${minutes} minutes after ${this.policy.maxFailures} failed logins (lock ${accountLock.strikes} in a row)`,
        details: { until: new Date(accountLock.until).toISOString(), strikes: accountLock.strikes, minutes },
      });
    }
    if (addressBlock !== undefined) {
      this.addressBlocks.delete(addr);
      touch(this.addressBlocks, addr, addressBlock);
      records.push({
        action: 'address-blocked',
        category: 'authentication',
        type: ['info'],
        outcome: 'success',
        reason: 'too_many_failures',
        actor: { name: 'vigil', kind: 'system' },
        via: 'server',
        sourceIp: address,
        message: `logins from ${addr} refused for ${Math.round(this.policy.addressLockMs / 60_000)} minutes after ${this.policy.addressMaxFailures} failures`,
        details: { address: addr, until: new Date(addressBlock).toISOString() },
      });
    }
    this.audit?.record(...records);
    // The failure that reaches the limit is answered like the ones after it, so the lock is seen at once.
    if (addressBlock !== undefined) throw new VigilError('rate_limited', 'too many failed logins from this address: wait and try again', { retryAfter: Math.ceil(this.policy.addressLockMs / 1000) });
    if (accountLock) throw lockedError(accountLock.until - now);
    throw new VigilError('unauthorized', 'wrong user name or password');
  }

  /** Counts one failure in a sliding window; true when the count reached `max`. */
  private fail(map: Map<string, number[]>, key: string, now: number, max: number): boolean {
    const times = (map.get(key) ?? []).filter((t) => now - t < this.policy.windowMs);
    times.push(now);
    if (times.length >= max) {
      map.delete(key);
      return true;
    }
    touch(map, key, times.slice(-max));
    return false;
  }

  private lock(name: string, now: number): AccountLock {
    const previous = this.locks.get(name);
    // Strikes are remembered for a while after a lock ends: a guesser who waits it out gets a longer one next time.
    const remembered = previous && now - previous.until < STRIKE_MEMORY_FACTOR * this.policy.maxLockMs ? previous.strikes : 0;
    const strikes = remembered + 1;
    const duration = Math.min(this.policy.maxLockMs, this.policy.lockMs * 2 ** Math.min(30, strikes - 1));
    const lock = { until: now + duration, strikes };
    this.locks.delete(name);
    this.locks.set(name, lock);
    this.prune(now);
    this.save(name);
    return lock;
  }

  /** Forgets locks whose strikes no longer count; keeps at most MAX_LOCKS, dropping those that end first. */
  private prune(now: number): void {
    for (const [name, lock] of this.locks) if (now - lock.until >= STRIKE_MEMORY_FACTOR * this.policy.maxLockMs) this.locks.delete(name);
    if (this.locks.size <= MAX_LOCKS) return;
    const ending = [...this.locks].sort((a, b) => a[1].until - b[1].until).slice(0, this.locks.size - MAX_LOCKS);
    for (const [name] of ending) this.locks.delete(name);
  }

  /** Lifts a lock now (the running server's side of `vigil user unlock`); true when there was one in force. */
  unlock(name: string): boolean {
    this.sync();
    const lock = this.locks.get(name);
    this.failures.delete(name);
    if (!lock) return false;
    this.locks.delete(name);
    this.save(name);
    return lock.until > this.clock.now();
  }

  /** Accounts locked now, with when the lock ends. */
  locked(): { name: string; until: string; strikes: number }[] {
    this.sync();
    const now = this.clock.now();
    return [...this.locks].filter(([, l]) => l.until > now).map(([name, l]) => ({ name, until: new Date(l.until).toISOString(), strikes: l.strikes }));
  }

  /** State sizes, for health and the flood test: every map is bounded. */
  stats(): { locked: number; tracked_accounts: number; tracked_addresses: number; blocked_addresses: number; refused: { account_locked: number; address_blocked: number } } {
    const now = this.clock.now();
    let locked = 0;
    for (const lock of this.locks.values()) if (lock.until > now) locked++;
    let blocked = 0;
    for (const until of this.addressBlocks.values()) if (until > now) blocked++;
    return { locked, tracked_accounts: this.failures.size, tracked_addresses: this.addressFailures.size, blocked_addresses: blocked, refused: { ...this.refused } };
  }
}

function lockedError(remainingMs: number): VigilError {
  const minutes = Math.max(1, Math.ceil(remainingMs / 60_000));
  return new VigilError('locked', `too many failed logins: this account is locked for ${minutes} more minute${minutes === 1 ? '' : 's'} (an admin can lift it with \`vigil user unlock NAME\`)`, {
    retryAfter: Math.ceil(remainingMs / 1000),
  });
}
