// Opens the configured storage engine; adding an engine is one folder plus one line in ENGINES.
import { VigilError } from '../core/errors.js';
import type { EcsEvent } from '../core/event.js';
import { eventColumns } from './duckdb/rows.js';
import { openDuckDbStore } from './duckdb/store.js';
import { openStoreInWorker } from './worker/host.js';
import type { AppendOptions, EventStore } from './types.js';

export interface StoreConfig {
  engine: 'duckdb';
  /** Data directory of the engine. */
  dir: string;
  /** DuckDB `memory_limit` (e.g. `2GB`). */
  memoryLimit?: string;
  threads?: number;
  /**
   * Run the engine in a worker thread (default true): its synchronous work then never blocks the event loop,
   * and parsing and storing use both cores.
   */
  worker?: boolean;
}

interface Engine {
  open(config: StoreConfig): Promise<EventStore>;
  /**
   * Turns events into the engine's batch form on the calling thread, so that with `worker` the store thread only
   * stores (and plain columns cross the thread boundary faster than nested objects). The store opened in the worker
   * takes such a batch in `appendPrepared`.
   */
  prepare?(events: readonly EcsEvent[], options?: AppendOptions): unknown;
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
};

export async function openStore(config: StoreConfig): Promise<EventStore> {
  if (!Object.hasOwn(ENGINES, config.engine)) {
    throw new VigilError('bad_config', `unknown store engine ${JSON.stringify(config.engine)} (known: ${Object.keys(ENGINES).join(', ')})`, {
      location: 'store.engine',
    });
  }
  const engine = ENGINES[config.engine];
  if (config.worker !== false) return openStoreInWorker(config, engine.prepare);
  return engine.open(config);
}

export type { EventStore } from './types.js';
