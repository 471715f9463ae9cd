// Messages between the main thread and the store worker: one request per store call, one reply per request.
import { VigilError, type ErrorId } from '../../core/errors.js';
import type { EventStore } from '../types.js';

/** The store methods that cross the thread boundary. */
export type StoreOp = 'append' | 'appendPrepared' | 'search' | 'histogram' | 'top' | 'enforceRetention' | 'stats' | 'close';

export interface StoreRequest {
  id: number;
  op: StoreOp;
  args: unknown[];
}

export interface WireError {
  id?: ErrorId;
  message: string;
  location?: string;
  retryAfter?: number;
}

export type StoreReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** First message of the worker: the store is open (with its engine name), or why it could not be opened. */
export type ReadyMessage = { ready: true; engine: string } | { ready: false; error: WireError };

export function toWire(err: unknown): WireError {
  if (err instanceof VigilError) {
    const wire: WireError = { id: err.id, message: err.message };
    if (err.location !== undefined) wire.location = err.location;
    if (err.retryAfter !== undefined) wire.retryAfter = err.retryAfter;
    return wire;
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

export function fromWire(wire: WireError): Error {
  if (wire.id === undefined) return new Error(wire.message);
  return new VigilError(wire.id, wire.message, {
    ...(wire.location !== undefined ? { location: wire.location } : {}),
    ...(wire.retryAfter !== undefined ? { retryAfter: wire.retryAfter } : {}),
  });
}

/** Calls the named method of a store with the request's arguments. */
export function dispatch(store: EventStore, request: StoreRequest): Promise<unknown> {
  const [a, b] = request.args;
  switch (request.op) {
    case 'append':
      return store.append(a as Parameters<EventStore['append']>[0], b as Parameters<EventStore['append']>[1]);
    case 'appendPrepared': {
      const prepared = store as EventStore & { appendPrepared?: (batch: unknown) => Promise<unknown> };
      if (typeof prepared.appendPrepared !== 'function') return Promise.reject(new Error(`the ${store.engine} store takes no prepared batches`));
      return prepared.appendPrepared(a);
    }
    case 'search':
      return store.search(a as Parameters<EventStore['search']>[0]);
    case 'histogram':
      return store.histogram(a as Parameters<EventStore['histogram']>[0]);
    case 'top':
      return store.top(a as Parameters<EventStore['top']>[0]);
    case 'enforceRetention':
      return store.enforceRetention(a as Parameters<EventStore['enforceRetention']>[0], b as number);
    case 'stats':
      return store.stats();
    case 'close':
      return store.close();
  }
}
