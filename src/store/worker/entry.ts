// The store worker: opens the configured engine in its own thread and serves the main thread's calls, so that the
// engine's synchronous work (DuckDB's appender flush takes ~100 ms per 10k events) never blocks the event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore, type StoreConfig } from '../index.js';
import { dispatch, toWire, type ReadyMessage, type StoreReply, type StoreRequest } from './protocol.js';

const port = parentPort!;
try {
  const store = await openStore({ ...(workerData as StoreConfig), worker: false });
  port.on('message', (request: StoreRequest) => {
    dispatch(store, request).then(
      (value) => port.postMessage({ id: request.id, ok: true, value } satisfies StoreReply),
      (err: unknown) => port.postMessage({ id: request.id, ok: false, error: toWire(err) } satisfies StoreReply),
    );
  });
  port.postMessage({ ready: true, engine: store.engine } satisfies ReadyMessage);
} catch (err) {
  port.postMessage({ ready: false, error: toWire(err) } satisfies ReadyMessage);
}
