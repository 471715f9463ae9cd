// Opens the configured storage engine; adding an engine is one folder plus one line in ENGINES.
import { VigilError } from '../core/errors.js';
import { openDuckDbStore } from './duckdb/store.js';
import type { EventStore } from './types.js';

export interface StoreConfig {
  engine: 'duckdb';
  /** Data directory of the engine. */
  dir: string;
  /** DuckDB `memory_limit` (e.g. `2GB`). */
  memoryLimit?: string;
  threads?: number;
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
  return ENGINES[config.engine](config);
}

export type { EventStore } from './types.js';
