// Page routing on the History API and filters kept in the URL's query string, so every view can be bookmarked,
// shared and reloaded as it is.
import { useEffect, useState } from 'preact/hooks';

type Listener = () => void;
const listeners = new Set<Listener>();

function notify(): void {
  for (const l of listeners) l();
}
window.addEventListener('popstate', notify);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
}

/** Re-renders the caller on every navigation; answers the current path and query. */
export function useLocation(): { path: string; params: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return { path: location.pathname, params: new URLSearchParams(location.search) };
}

/** Changes some query parameters of the current page (empty values are removed). */
export function setParams(patch: Record<string, string | undefined | null>, options: { replace?: boolean } = {}): void {
  const params = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || v === null || v === '') params.delete(k);
    else params.set(k, v);
  }
  const search = params.toString();
  navigate(location.pathname + (search ? `?${search}` : ''), options);
}

/** A link whose path keeps the shared filters (time range, host, query) of the current URL. */
export function withFilters(path: string, keep = ['from', 'to', 'host', 'q']): string {
  const current = new URLSearchParams(location.search);
  const [base, query] = path.split('?') as [string, string | undefined];
  const next = new URLSearchParams(query ?? '');
  for (const k of keep) {
    const v = current.get(k);
    if (v !== null && !next.has(k)) next.set(k, v);
  }
  const search = next.toString();
  return base + (search ? `?${search}` : '');
}

/** Click handler for in-app links: plain clicks navigate without a reload, modified clicks open as usual. */
export function linkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.currentTarget as HTMLElement).closest('a');
  if (!a || a.target || a.origin !== location.origin) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}
