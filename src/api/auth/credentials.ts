// Users (scrypt password hashes) and API tokens (stored as SHA-256 digests) with roles, kept in `auth.json` in the data dir.
// The file is rewritten atomically; a running server picks up changes made by `vigil user` / `vigil token`.
import { createHash, randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VigilError } from '../../core/errors.js';

export const ROLES = ['ingest', 'viewer', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What each role may do: ingest only sends; viewer reads; analyst also triages; admin manages. */
const RANK: Record<Role, number> = { ingest: 0, viewer: 1, analyst: 2, admin: 3 };

/** Whether `role` may use a route that needs `required` (ingest is not a read role: it only sends data). */
export function roleAllows(role: Role, required: Role): boolean {
  if (required === 'ingest') return role === 'ingest' || role === 'analyst' || role === 'admin';
  if (role === 'ingest') return false;
  return RANK[role] >= RANK[required];
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export interface UserRecord {
  name: string;
  role: Role;
  /** `scrypt$N$r$p$salt$hash`, base64 parts. */
  password: string;
  created: string;
  disabled?: boolean;
}

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  /** SHA-256 of the token, hex. Tokens are 256 random bits, so a fast hash is enough (no dictionary to guess from). */
  digest: string;
  created: string;
  expires?: string;
}

interface AuthFile {
  version: 1;
  users: UserRecord[];
  tokens: TokenRecord[];
}

export interface Principal {
  kind: 'user' | 'token' | 'env';
  name: string;
  role: Role;
  /** A token's id (names need not be unique): what per-client rate limits key on. */
  id?: string;
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };
const TOKEN_PREFIX = 'vgl_';

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64');
  const actual = scryptSync(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let dummy: string | undefined;
/** A hash to check passwords of unknown users against, made once with the same scrypt parameters. */
function dummyHash(): string {
  return (dummy ??= hashPassword(randomBytes(16).toString('hex')));
}

function digestToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export class Credentials {
  private readonly file: string;
  private data: AuthFile = { version: 1, users: [], tokens: [] };
  private byDigest = new Map<string, TokenRecord>();
  private mtimeMs = -1;
  private lastCheck = 0;
  private readonly envTokenDigest: string | undefined;

  constructor(dataDir: string, options: { envAdminToken?: string } = {}) {
    this.file = join(dataDir, 'auth.json');
    this.envTokenDigest = options.envAdminToken ? digestToken(options.envAdminToken) : undefined;
    this.reload();
  }

  get users(): readonly UserRecord[] {
    return this.data.users;
  }

  get tokens(): readonly TokenRecord[] {
    return this.data.tokens;
  }

  /** Re-reads the file if it changed on disk (at most once a second). */
  private refresh(): void {
    const now = Date.now();
    if (now - this.lastCheck < 1000) return;
    this.lastCheck = now;
    this.reload();
  }

  private reload(): void {
    let mtime: number;
    try {
      mtime = statSync(this.file).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.mtimeMs) return;
    let parsed: AuthFile;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8')) as AuthFile;
    } catch (err) {
      throw new VigilError('bad_config', `${this.file} is not valid JSON: ${(err as Error).message}`);
    }
    this.data = { version: 1, users: parsed.users ?? [], tokens: parsed.tokens ?? [] };
    this.byDigest = new Map(this.data.tokens.map((t) => [t.digest, t]));
    this.mtimeMs = mtime;
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2) + '\n', { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file);
    this.byDigest = new Map(this.data.tokens.map((t) => [t.digest, t]));
    this.mtimeMs = statSync(this.file).mtimeMs;
  }

  /** Who a bearer token belongs to, or undefined. */
  authenticateToken(token: string, now = Date.now()): Principal | undefined {
    const digest = digestToken(token);
    if (this.envTokenDigest !== undefined && timingSafeEqual(Buffer.from(digest), Buffer.from(this.envTokenDigest))) {
      return { kind: 'env', name: 'VIGIL_ADMIN_TOKEN', role: 'admin' };
    }
    // Checked at most once a second, so a token revoked by `vigil token revoke` stops working within a second.
    this.refresh();
    const record = this.byDigest.get(digest);
    if (record === undefined) return undefined;
    if (record.expires !== undefined && Date.parse(record.expires) <= now) return undefined;
    return { kind: 'token', name: record.name, role: record.role, id: record.id };
  }

  authenticatePassword(name: string, password: string): Principal | undefined {
    const result = this.checkPassword(name, password);
    return result.ok ? { kind: 'user', name: result.name, role: result.role } : undefined;
  }

  /**
   * Checks a password and says why it failed (for the audit trail only: callers answer every failure alike). A name
   * that does not exist costs the same scrypt as one that does, so the time taken does not tell them apart.
   */
  checkPassword(name: string, password: string): { ok: true; name: string; role: Role } | { ok: false; reason: 'unknown_user' | 'wrong_password' | 'disabled' } {
    this.refresh();
    const user = this.data.users.find((u) => u.name === name);
    const matches = verifyPassword(password, user?.password ?? dummyHash());
    if (!user) return { ok: false, reason: 'unknown_user' };
    if (!matches) return { ok: false, reason: 'wrong_password' };
    if (user.disabled) return { ok: false, reason: 'disabled' };
    return { ok: true, name: user.name, role: user.role };
  }

  /** A user as the file has them now (re-read at most once a second), for sessions that outlive a change. */
  findUser(name: string): UserRecord | undefined {
    this.refresh();
    return this.data.users.find((u) => u.name === name);
  }

  addUser(name: string, role: Role, password: string): UserRecord {
    this.reload();
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) throw new VigilError('bad_request', 'a user name is 1-64 letters, digits or _ . @ -');
    if (this.data.users.some((u) => u.name === name)) throw new VigilError('conflict', `user ${name} already exists`);
    if (password.length < 8) throw new VigilError('bad_request', 'a password has at least 8 characters');
    const user: UserRecord = { name, role, password: hashPassword(password), created: new Date().toISOString() };
    this.data.users.push(user);
    this.save();
    return user;
  }

  setPassword(name: string, password: string): void {
    this.reload();
    const user = this.data.users.find((u) => u.name === name);
    if (!user) throw new VigilError('not_found', `no user ${name}`);
    if (password.length < 8) throw new VigilError('bad_request', 'a password has at least 8 characters');
    user.password = hashPassword(password);
    this.save();
  }

  removeUser(name: string): void {
    this.reload();
    const before = this.data.users.length;
    this.data.users = this.data.users.filter((u) => u.name !== name);
    if (this.data.users.length === before) throw new VigilError('not_found', `no user ${name}`);
    this.save();
  }

  /** Creates a token and returns its secret; only its digest is kept, so this is the one time it can be shown. */
  createToken(name: string, role: Role, expires?: Date): { token: string; record: TokenRecord } {
    this.reload();
    const token = generateToken();
    const record: TokenRecord = { id: randomUUID().slice(0, 8), name, role, digest: digestToken(token), created: new Date().toISOString() };
    if (expires) record.expires = expires.toISOString();
    this.data.tokens.push(record);
    this.save();
    return { token, record };
  }

  revokeToken(idOrName: string): number {
    this.reload();
    const before = this.data.tokens.length;
    this.data.tokens = this.data.tokens.filter((t) => t.id !== idOrName && t.name !== idOrName);
    const removed = before - this.data.tokens.length;
    if (removed === 0) throw new VigilError('not_found', `no token with id or name ${idOrName}`);
    this.save();
    return removed;
  }

  /**
   * First start: when there is no admin user, create `admin` (password from VIGIL_ADMIN_PASSWORD or generated)
   * and an admin API token. Returns what must be shown to the operator once, or undefined.
   */
  bootstrap(adminPassword?: string): { password?: string; token: string } | undefined {
    this.reload();
    if (this.data.users.some((u) => u.role === 'admin')) return undefined;
    const password = adminPassword ?? generatePassword();
    this.addUser('admin', 'admin', password);
    const { token } = this.createToken('admin (first start)', 'admin');
    return adminPassword === undefined ? { password, token } : { token };
  }
}
