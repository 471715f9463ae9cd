// Opens the configured storage engine; adding an engine is one folder plus one line in ENGINES.
import { VigilError } from '../core/errors.js';
import type { EcsEvent } from '../core/event.js';
import { openClickHouse } from './clickhouse/index.js';
import { eventColumns } from './duckdb/rows.js';
import { openDuckDbStore } from './duckdb/store.js';
import { openStoreInWorker } from './worker/host.js';
import type { AppendOptions, EventStore } from './types.js';

export interface StoreConfig {
  engine: 'duckdb' | 'clickhouse';
  /** Data directory of the engine (DuckDB's files; chDB's when its URL names no path). */
  dir: string;
  /** DuckDB `memory_limit` (e.g. `2GB`). */
  memoryLimit?: string;
  threads?: number;
  /**
   * Run the engine in a worker thread (default true): its synchronous work then never blocks the event loop,
   * and parsing and storing use both cores.
   */
  worker?: boolean;
  /** ClickHouse: `clickhouse://user:password@host:8123/database`, `http(s)://…`, or `chdb:///path` (clickhouse/connection.ts). */
  url?: string;
  /** ClickHouse: the password, instead of the URL's. */
  password?: string;
  /** ClickHouse: settings sent with every statement, e.g. `insert_quorum` for a replicated table. */
  settings?: Record<string, string | number | boolean>;
  /** ClickHouse: events received this many days ago are deleted by ClickHouse itself (a TTL); 0 removes the TTL. */
  ttlDays?: number;
}

interface Engine {
  open(config: StoreConfig): Promise<EventStore>;
  /**
   * Turns events into the engine's batch form on the calling thread, so that with `worker` the store thread only
   * stores (and plain columns cross the thread boundary faster than nested objects). The store opened in the worker
   * takes such a batch in `appendPrepared`.
   */
  prepare?(events: readonly EcsEvent[], options?: AppendOptions): unknown;
  /**
   * Opened on the calling thread even with `worker`: its work is network I/O, or (chDB) runs on libuv's threads,
   * and what it does on the event loop (events to JSON lines) is what `prepare` does for DuckDB there anyway.
   */
  mainThread?: boolean;
}

const ENGINES: Record<StoreConfig['engine'], Engine> = {
  duckdb: {
    open: (config) =>
      openDuckDbStore({
        dir: config.dir,
        ...(config.memoryLimit !== undefined ? { memoryLimit: config.memoryLimit } : {}),
        ...(config.threads !== undefined ? { threads: config.threads } : {}),
      }),
    prepare: (events, options) => eventColumns(events, Date.now(), options?.unique),
  },
  clickhouse: { open: openClickHouse, mainThread: true },
};

/** The store a `store:` URL names: `duckdb` (embedded, in `dir`) or ClickHouse (a server URL, or `chdb…`). */
export function storeConfigFromUrl(url: string, dir: string): StoreConfig {
  return url === 'duckdb' ? { engine: 'duckdb', dir } : { engine: 'clickhouse', dir, url };
}

export async function openStore(config: StoreConfig): Promise<EventStore> {
  if (!Object.hasOwn(ENGINES, config.engine)) {
    throw new VigilError('bad_config', `unknown store engine ${JSON.stringify(config.engine)} (known: ${Object.keys(ENGINES).join(', ')})`, {
      location: 'store.engine',
    });
  }
  const engine = ENGINES[config.engine];
  if (config.worker !== false && !engine.mainThread) return openStoreInWorker(config, engine.prepare);
  return engine.open(config);
}

export type { EventStore } from './types.js';
