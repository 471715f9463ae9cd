// Opens the configured storage engine; adding an engine is one folder plus one line in ENGINES.
import { VigilError } from '../core/errors.js';
import { openDuckDbStore } from './duckdb/store.js';
import { openStoreInWorker } from './worker/host.js';
import type { EventStore } from './types.js';

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

const ENGINES: Record<StoreConfig['engine'], (config: StoreConfig) => Promise<EventStore>> = {
  duckdb: (config) =>
    openDuckDbStore({
      dir: config.dir,
      ...(config.memoryLimit !== undefined ? { memoryLimit: config.memoryLimit } : {}),
      ...(config.threads !== undefined ? { threads: config.threads } : {}),
    }),
};

export async function openStore(config: StoreConfig): Promise<EventStore> {
  if (!Object.hasOwn(ENGINES, config.engine)) {
    throw new VigilError('bad_config', `unknown store engine ${JSON.stringify(config.engine)} (known: ${Object.keys(ENGINES).join(', ')})`, {
      location: 'store.engine',
    });
  }
  if (config.worker !== false) return openStoreInWorker(config);
  return ENGINES[config.engine](config);
}

export type { EventStore } from './types.js';
