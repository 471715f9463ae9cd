// An EventStore whose engine runs in a worker thread: each call is a message, each answer a reply.
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { VigilError } from '../../core/errors.js';
import type { AppendOptions, AppendResult, EventStore, HistogramRequest, HistogramResult, RetentionPolicy, SearchRequest, SearchResult, StoreStats, TopRequest, TopResult } from '../types.js';
import type { EcsEvent } from '../../core/event.js';
import { fromWire, type ReadyMessage, type StoreOp, type StoreReply } from './protocol.js';

/**
 * From dist/ the worker is the compiled entry.js. Under tsx (tests, benchmarks) the sources are .ts and a worker
 * does not inherit the main thread's loader, so a two-line bootstrap registers tsx before importing entry.ts.
 */
function spawnWorker(config: object): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./entry.js', import.meta.url), { workerData: config });
  const entry = new URL('./entry.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: config });
}

/** The engine's batch form, made on the calling thread (see store/index.ts). */
export type PrepareBatch = (events: readonly EcsEvent[], options?: AppendOptions) => unknown;

class WorkerStore implements EventStore {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: unknown) => void }>();
  private failure: Error | undefined;
  private closed = false;

  constructor(
    private readonly worker: Worker,
    readonly engine: string,
    private readonly prepare: PrepareBatch | undefined,
  ) {
    worker.on('message', (reply: StoreReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(fromWire(reply.error));
    });
    const fail = (err: Error) => {
      this.failure ??= new VigilError('unavailable', `the store stopped: ${err.message}`, { retryAfter: 5, cause: err });
      for (const waiter of this.pending.values()) waiter.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`its worker exited with code ${code}`));
    });
  }

  private call<T>(op: StoreOp, ...args: unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new VigilError('unavailable', 'the store is closed', { retryAfter: 5 }));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, op, args });
    });
  }

  append(events: readonly EcsEvent[], options?: AppendOptions): Promise<AppendResult> {
    if (events.length === 0) return Promise.resolve({ stored: 0, duplicates: [] });
    return this.prepare ? this.call('appendPrepared', this.prepare(events, options)) : this.call('append', events, options);
  }
  search(request: SearchRequest): Promise<SearchResult> {
    return this.call('search', request);
  }
  histogram(request: HistogramRequest): Promise<HistogramResult> {
    return this.call('histogram', request);
  }
  top(request: TopRequest): Promise<TopResult> {
    return this.call('top', request);
  }
  enforceRetention(policy: RetentionPolicy, now: number): Promise<{ deleted: number }> {
    return this.call('enforceRetention', policy, now);
  }
  stats(): Promise<StoreStats> {
    return this.call('stats');
  }
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.failure) await this.call('close');
    } finally {
      this.closed = true;
      await this.worker.terminate();
    }
  }
}

/**
 * Directories with a store open in this process. DuckDB's file lock is per process, so a second engine instance on
 * the same file in another thread of the same process would not be refused by it, and two writers corrupt data.
 */
const openDirs = new Set<string>();

/** Starts a worker that opens the store described by `config` (structured-cloneable) and proxies to it. */
export async function openStoreInWorker(config: { dir: string }, prepare?: PrepareBatch): Promise<EventStore> {
  const dir = resolve(config.dir);
  if (openDirs.has(dir)) throw new VigilError('conflict', `the store in ${dir} is already open in this process (locked)`);
  openDirs.add(dir);
  try {
    const store = await startWorker(config, prepare);
    const close = store.close.bind(store);
    store.close = async () => {
      try {
        await close();
      } finally {
        openDirs.delete(dir);
      }
    };
    return store;
  } catch (err) {
    openDirs.delete(dir);
    throw err;
  }
}

function startWorker(config: object, prepare: PrepareBatch | undefined): Promise<EventStore> {
  return new Promise((resolve, reject) => {
    const worker = spawnWorker(config);
    const onExit = (code: number) => reject(new VigilError('unavailable', `the store worker exited with code ${code} while opening`));
    const onError = (err: Error) => reject(new VigilError('unavailable', `the store worker failed while opening: ${err.message}`, { cause: err }));
    worker.once('exit', onExit);
    worker.once('error', onError);
    worker.once('message', (message: ReadyMessage) => {
      worker.off('exit', onExit);
      worker.off('error', onError);
      if (message.ready) resolve(new WorkerStore(worker, message.engine, prepare));
      else {
        void worker.terminate();
        reject(fromWire(message.error));
      }
    });
  });
}
