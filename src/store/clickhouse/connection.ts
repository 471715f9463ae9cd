// How the ClickHouse engine reaches ClickHouse: a server over HTTP (@clickhouse/client) or chDB, ClickHouse embedded in
// this process (npm `chdb`). Both take the same SQL with server-side parameters ({name:Type}), so the store above is
// written once; every failure becomes VigilError 'unavailable' naming the target, never its credentials.
import { Readable } from 'node:stream';
import { resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { createClient, drainStream, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type { Session } from 'chdb';
import { VigilError, errorMessage } from '../../core/errors.js';

/** A bound parameter's value: ClickHouse parses it as the placeholder's type (`{p1:Int64}` takes '42'). */
export type ParamValue = string | readonly string[];
export type Params = Record<string, ParamValue>;

export interface ClickHouseConnection {
  /** What it points at, for messages: `http://host:8123` or `chdb:/path`, never credentials. */
  readonly target: string;
  /** The rows of a query, each an array of its columns' values (JSONCompactEachRow). */
  query(sql: string, params?: Params): Promise<unknown[][]>;
  /** A statement without rows (DDL, ALTER). */
  command(sql: string, params?: Params): Promise<void>;
  /**
   * Inserts rows given as JSONCompactEachRow text (one JSON array per line, values in `columns` order); resolves
   * once ClickHouse has written them (a synchronous insert, not an asynchronous one that is only queued).
   */
  insert(table: string, columns: readonly string[], rows: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Settings of every insert: written before the answer (no async insert queue), however many days a batch spans. */
const INSERT_SETTINGS = { async_insert: 0, max_partitions_per_insert_block: '0' } as const;

function unavailable(target: string, err: unknown): VigilError {
  if (err instanceof VigilError) return err;
  // Server messages can be long (they quote the statement); the start says what went wrong.
  let message = errorMessage(err).replace(/\s+/g, ' ').trim();
  if (message.length > 400) message = `${message.slice(0, 400)}…`;
  return new VigilError('unavailable', `ClickHouse at ${target} failed: ${message}`, { cause: err, retryAfter: 5 });
}

function parseRows(text: string): unknown[][] {
  const rows: unknown[][] = [];
  for (const line of text.split('\n')) if (line !== '') rows.push(JSON.parse(line) as unknown[]);
  return rows;
}

/** A ClickHouse server over HTTP through the official client (or any client, such as one made for a test). */
export class ClientConnection implements ClickHouseConnection {
  constructor(
    private readonly client: ClickHouseClient,
    readonly target: string,
  ) {}

  async query(sql: string, params?: Params): Promise<unknown[][]> {
    try {
      const result = await this.client.query({ query: sql, format: 'JSONCompactEachRow', ...(params ? { query_params: params } : {}) });
      return parseRows(await result.text());
    } catch (err) {
      throw unavailable(this.target, err);
    }
  }

  async command(sql: string, params?: Params): Promise<void> {
    try {
      await this.client.command({ query: sql, ...(params ? { query_params: params } : {}) });
    } catch (err) {
      throw unavailable(this.target, err);
    }
  }

  async insert(table: string, columns: readonly string[], rows: Buffer): Promise<void> {
    try {
      // exec sends the body as it is (client.insert would serialise each stream item as a JSON value itself).
      const result = await this.client.exec({
        query: `INSERT INTO ${table} (${columns.join(', ')}) FORMAT JSONCompactEachRow`,
        values: Readable.from([rows]),
        // The answer comes after the whole body is written (a 200 then an exception mid-stream cannot be taken for success).
        clickhouse_settings: { ...INSERT_SETTINGS, wait_end_of_query: 1 },
      });
      await drainStream(result.stream);
    } catch (err) {
      throw unavailable(this.target, err);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/**
 * libchdb serves one data directory per process: a second Session on the same directory shares it, one on another
 * directory would close the first's connection (chdb's README, "One data directory at a time").
 */
let chdbPath: { path: string; sessions: number } | undefined;

/** The data directory chDB has open in this process, if any: a second store can share only that one. */
export function chdbOpenPath(): string | undefined {
  return chdbPath?.path;
}

/** ClickHouse embedded in this process (chDB) over a data directory. */
export class ChdbConnection implements ClickHouseConnection {
  private constructor(
    private session: Session | undefined,
    readonly target: string,
  ) {}

  /** Opens a session; chdb (and its 500 MB library) is loaded only by a process that uses it. */
  static async open(dir: string): Promise<ChdbConnection> {
    const path = resolve(dir);
    const target = `chdb:${path}`;
    if (chdbPath !== undefined && chdbPath.path !== path) {
      throw new VigilError('conflict', `chDB serves one data directory per process and ${chdbPath.path} is open; close it before opening ${path}`);
    }
    let chdb: typeof import('chdb');
    try {
      chdb = await import('chdb');
    } catch (err) {
      // A development dependency (its library is 500 MB): in a checkout `npm install` brings it, a production install not.
      throw new VigilError('bad_config', 'the chdb store needs the npm package chdb: run `npm install` in the Vigil folder (production installs leave it out)', { cause: err, location: 'store.url' });
    }
    let session: Session;
    try {
      mkdirSync(path, { recursive: true });
      session = new chdb.Session(path);
    } catch (err) {
      throw unavailable(target, err);
    }
    chdbPath = { path, sessions: (chdbPath?.sessions ?? 0) + 1 };
    return new ChdbConnection(session, target);
  }

  private open(): Session {
    if (this.session === undefined) throw new VigilError('unavailable', `${this.target} is closed`);
    return this.session;
  }

  async query(sql: string, params?: Params): Promise<unknown[][]> {
    const session = this.open();
    try {
      const options = { format: 'JSONCompactEachRow' };
      const result = params ? await session.queryBindAsync(sql, params, options) : await session.queryAsync(sql, options);
      return parseRows(result.text());
    } catch (err) {
      throw unavailable(this.target, err);
    }
  }

  async command(sql: string, params?: Params): Promise<void> {
    await this.query(sql, params);
  }

  async insert(table: string, columns: readonly string[], rows: Buffer): Promise<void> {
    const session = this.open();
    try {
      await session.insert({ table, columns, format: 'JSONCompactEachRow', values: rows, settings: { ...INSERT_SETTINGS } });
    } catch (err) {
      throw unavailable(this.target, err);
    }
  }

  async close(): Promise<void> {
    const session = this.session;
    if (session === undefined) return;
    this.session = undefined;
    session.close();
    if (chdbPath !== undefined && --chdbPath.sessions === 0) chdbPath = undefined;
  }
}

/** Where a `store:` URL points. */
export interface ClickHouseTarget {
  kind: 'http' | 'chdb';
  /** HTTP: the server's base URL without credentials or path; chdb: the data directory. */
  location: string;
  database: string;
  username?: string;
  password?: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Reads `clickhouse://user:pass@host:8123/db` (HTTP; `clickhouses://` for HTTPS, default ports 8123 and 8443),
 * `http(s)://user:pass@host:port/db`, and `chdb:///path/to/dir` (or `chdb:` alone for `defaultDir`).
 * The database defaults to `vigil`.
 */
export function parseClickHouseUrl(text: string, defaultDir: string): ClickHouseTarget {
  const bad = (why: string): VigilError => new VigilError('bad_config', `store ${JSON.stringify(redactUrl(text))}: ${why}`, { location: 'store.url' });
  if (text === 'chdb' || text === 'chdb:') return { kind: 'chdb', location: defaultDir, database: 'vigil' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('not a URL (use clickhouse://user:password@host:8123/database or chdb:///path)');
  }
  const database = decodeURIComponent(url.protocol === 'chdb:' ? (url.searchParams.get('database') ?? 'vigil') : url.pathname.replace(/^\/+|\/+$/g, '') || 'vigil');
  if (!IDENTIFIER.test(database)) throw bad(`the database name ${JSON.stringify(database)} must be letters, digits and _`);
  if (url.protocol === 'chdb:') {
    const path = decodeURIComponent(url.pathname);
    return { kind: 'chdb', location: path === '' || path === '/' ? defaultDir : path, database };
  }
  const schemes: Record<string, { protocol: string; port: string }> = {
    'clickhouse:': { protocol: 'http:', port: '8123' },
    'clickhouses:': { protocol: 'https:', port: '8443' },
    'http:': { protocol: 'http:', port: '80' },
    'https:': { protocol: 'https:', port: '443' },
  };
  const scheme = schemes[url.protocol];
  if (scheme === undefined) throw bad(`unknown scheme ${url.protocol} (use clickhouse://, clickhouses://, http://, https:// or chdb://)`);
  if (url.hostname === '') throw bad('no host');
  const target: ClickHouseTarget = { kind: 'http', location: `${scheme.protocol}//${url.hostname}:${url.port || scheme.port}`, database };
  if (url.username !== '') target.username = decodeURIComponent(url.username);
  if (url.password !== '') target.password = decodeURIComponent(url.password);
  return target;
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

export interface ConnectOptions {
  /** Overrides the URL's password (from `store.password`, `_env` or `_file`). */
  password?: string;
  /** ClickHouse settings sent with every statement, e.g. `insert_quorum: 'auto'` on a replicated table. */
  settings?: Record<string, string | number | boolean>;
  /** Milliseconds before a request is abandoned (default 5 min: retention's deletes wait for ClickHouse to finish). */
  requestTimeout?: number;
}

export async function connect(target: ClickHouseTarget, options: ConnectOptions = {}): Promise<ClickHouseConnection> {
  if (target.kind === 'chdb') return ChdbConnection.open(target.location);
  const password = options.password ?? target.password;
  const client = createClient({
    url: target.location,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(password !== undefined ? { password } : {}),
    application: 'vigil',
    request_timeout: options.requestTimeout ?? 300_000,
    compression: { request: true, response: true },
    clickhouse_settings: { ...(options.settings as ClickHouseSettings | undefined) },
  });
  return new ClientConnection(client, target.location);
}
