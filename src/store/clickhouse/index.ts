// Opens the ClickHouse engine from the store configuration: the URL says where (a server, or chDB in a directory).
import type { StoreConfig } from '../index.js';
import type { EventStore } from '../types.js';
import { connect, parseClickHouseUrl } from './connection.js';
import { openClickHouseStore } from './store.js';

export async function openClickHouse(config: StoreConfig): Promise<EventStore> {
  // `chdb` without a path keeps its data beside Vigil's other state.
  const target = parseClickHouseUrl(config.url ?? 'chdb', `${config.dir}/chdb`);
  const connection = await connect(target, {
    ...(config.password !== undefined ? { password: config.password } : {}),
    ...(config.settings !== undefined ? { settings: config.settings } : {}),
  });
  return openClickHouseStore({ connection, database: target.database, ...(config.ttlDays !== undefined ? { ttlDays: config.ttlDays } : {}) });
}
