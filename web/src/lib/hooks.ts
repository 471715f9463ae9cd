// Data hooks for pages: fetch with loading/error state and cancellation, re-run on dependency change or on demand.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { live, type LiveEvents } from './stream.js';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change (and on reload()); the newest answer wins, older ones are cancelled. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ data, error: undefined, loading: false }),
      (err: unknown) => {
        if (controller.signal.aborted) return;
        const error = err instanceof ApiError ? err : new ApiError(0, 'client', (err as Error).message);
        setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
    return () => controller.abort();
  }, [...deps, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}

/** Subscribes to a live message while the component is mounted. */
export function useLive<K extends keyof LiveEvents>(event: K, handler: (data: LiveEvents[K]) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => live.on(event, (d) => ref.current(d)), [event]);
}

/** Calls `fn` at most once per `ms`, the last call winning (for reloads driven by live ticks). */
export function useThrottle(fn: () => void, ms: number): () => void {
  const last = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return useCallback(() => {
    const wait = last.current + ms - Date.now();
    if (wait <= 0) {
      last.current = Date.now();
      ref.current();
    } else if (timer.current === undefined) {
      timer.current = window.setTimeout(() => {
        timer.current = undefined;
        last.current = Date.now();
        ref.current();
      }, wait);
    }
  }, [ms]);
}
