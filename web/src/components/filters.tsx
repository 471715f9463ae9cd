// The filter bar shared by Overview, Logs and the map: query (the query language, errors inline), time range and
// host. Everything lives in the URL (q, from, to, host), so a view can be bookmarked and shared.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, qs } from '../lib/api.js';
import { useLoad } from '../lib/hooks.js';
import { setParams, useLocation } from '../lib/router.js';
import type { Top } from '../lib/types.js';

export const RANGES = [
  { value: 'now-15m', label: 'Last 15 minutes' },
  { value: 'now-1h', label: 'Last hour' },
  { value: 'now-3h', label: 'Last 3 hours' },
  { value: 'now-6h', label: 'Last 6 hours' },
  { value: 'now-24h', label: 'Last 24 hours' },
  { value: 'now-7d', label: 'Last 7 days' },
  { value: 'now-30d', label: 'Last 30 days' },
];
export const DEFAULT_FROM = 'now-24h';

export interface Filters {
  q: string;
  from: string;
  to: string;
  host: string;
}

export function useFilters(defaultFrom = DEFAULT_FROM): Filters {
  const { params } = useLocation();
  return { q: params.get('q') ?? '', from: params.get('from') ?? defaultFrom, to: params.get('to') ?? '', host: params.get('host') ?? '' };
}

/** Whether the range ends now (so live updates belong in it). */
export function isRelative(f: Filters): boolean {
  return f.from.startsWith('now') && (f.to === '' || f.to === 'now');
}

/** `from`/`to` for an API call; the range's end is "now" unless one is set. */
export function timeParams(f: Filters): { from: string; to: string | undefined } {
  return { from: f.from, to: f.to || undefined };
}

/** ISO text for an <input type="datetime-local"> value, or the reverse. */
function toLocalInput(value: string): string {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

export function TimePicker(props: { filters: Filters }) {
  const { from, to } = props.filters;
  const preset = RANGES.find((r) => r.value === from && !to);
  const [custom, setCustom] = useState(!preset);
  useEffect(() => setCustom(!preset), [from, to]);
  return (
    <div class="timepicker">
      <select
        aria-label="Time range"
        value={custom ? 'custom' : from}
        onChange={(e) => {
          const v = (e.currentTarget as HTMLSelectElement).value;
          if (v === 'custom') setCustom(true);
          else setParams({ from: v, to: null });
        }}
      >
        {RANGES.map((r) => (
          <option value={r.value} key={r.value}>
            {r.label}
          </option>
        ))}
        <option value="custom">Custom range…</option>
      </select>
      {custom ? (
        <span class="custom-range">
          <input type="datetime-local" aria-label="From" value={toLocalInput(from)} onChange={(e) => setParams({ from: new Date((e.currentTarget as HTMLInputElement).value).toISOString() })} />
          <span class="muted">→</span>
          <input type="datetime-local" aria-label="To" value={to ? toLocalInput(to) : ''} onChange={(e) => setParams({ to: new Date((e.currentTarget as HTMLInputElement).value).toISOString() })} />
        </span>
      ) : null}
    </div>
  );
}

export function HostPicker(props: { filters: Filters }) {
  const hosts = useLoad((signal) => api<Top>(`/api/v1/events/top${qs({ field: 'host.name', size: 50, from: 'now-7d' })}`, { signal }), []);
  const values = hosts.data?.values.map((v) => v.value) ?? [];
  if (props.filters.host && !values.includes(props.filters.host)) values.unshift(props.filters.host);
  return (
    <select aria-label="Host" value={props.filters.host} onChange={(e) => setParams({ host: (e.currentTarget as HTMLSelectElement).value || null })}>
      <option value="">All hosts</option>
      {values.map((h) => (
        <option value={h} key={h}>
          {h}
        </option>
      ))}
    </select>
  );
}

/**
 * The query bar: Enter runs, Escape restores the running query, `/` anywhere focuses it. A syntax error from the
 * server is shown under it with the position marked.
 */
export function QueryBar(props: { filters: Filters; error?: string | undefined; placeholder?: string }) {
  const [text, setText] = useState(props.filters.q);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => setText(props.filters.q), [props.filters.q]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (e.key === '/' && !['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) {
        e.preventDefault();
        input.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const position = props.error ? /position (\d+)/.exec(props.error) : null;
  const at = position ? Number(position[1]) : -1;
  return (
    <form
      class={`querybar ${props.error ? 'has-error' : ''}`}
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        setParams({ q: text.trim() || null });
      }}
    >
      <span class="querybar-icon" aria-hidden="true">
        ⌕
      </span>
      <input
        ref={input}
        type="search"
        name="q"
        aria-label="Query"
        spellcheck={false}
        autocomplete="off"
        value={text}
        placeholder={props.placeholder ?? 'Search: user.name:root AND event.outcome:failure, source.ip:10.0.0.0/8, "phrase"…  (press / to focus)'}
        onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            setText(props.filters.q);
            (e.currentTarget as HTMLInputElement).blur();
          }
        }}
      />
      <button type="submit" class="btn btn-primary">
        Search
      </button>
      {props.error ? (
        <div class="query-error" role="alert" data-testid="query-error">
          <span>{props.error}</span>
          {at >= 0 && at <= text.length ? (
            <code class="query-caret">
              {text.slice(0, at)}
              <mark>{text.slice(at, at + 1) || ' '}</mark>
              {text.slice(at + 1)}
            </code>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}

export function FilterBar(props: { filters: Filters; error?: string | undefined; query?: boolean; extra?: preact.ComponentChildren }) {
  return (
    <div class="filterbar">
      {props.query !== false ? <QueryBar filters={props.filters} error={props.error} /> : null}
      <div class="filterbar-row">
        <TimePicker filters={props.filters} />
        <HostPicker filters={props.filters} />
        {props.extra}
      </div>
    </div>
  );
}
