// Logs: query bar, time picker, a histogram to brush-zoom, a table of chosen columns, the event detail (the whole
// ECS document and the original line) and export. Live: new events appear while the range ends now.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, qs } from '../lib/api.js';
import { effectiveQuery, field, flatten, num, safeHref, show, term, time } from '../lib/format.js';
import { useLive, useLoad, useThrottle } from '../lib/hooks.js';
import { setParams, useLocation } from '../lib/router.js';
import type { EcsDoc, Histogram, SearchResult } from '../lib/types.js';
import { Chart } from '../components/chart.js';
import { FilterBar, isRelative, timeParams, useFilters, type Filters } from '../components/filters.js';
import { Empty, Failure, Loading, Panel } from '../components/ui.js';

export const DEFAULT_COLUMNS = ['event.dataset', 'host.name', 'source.ip', 'user.name', 'event.action', 'event.outcome', 'message'];
const PAGE = 100;

function Cell(props: { doc: EcsDoc; name: string }) {
  const value = field(props.doc, props.name);
  const text = show(value);
  if (props.name === 'event.outcome' && text) return <span class={`outcome outcome-${text === 'failure' ? 'bad' : text === 'success' ? 'good' : 'neutral'}`}>{text}</span>;
  return <span title={text.length > 80 ? text.slice(0, 500) : undefined}>{text.length > 300 ? `${text.slice(0, 300)}…` : text}</span>;
}

function Detail(props: { doc: EcsDoc; onClose: () => void; filters: Filters }) {
  const [tab, setTab] = useState<'fields' | 'json' | 'original'>('fields');
  const rows = useMemo(() => flatten(props.doc), [props.doc]);
  const original = field(props.doc, 'event.original');
  const addFilter = (name: string, value: unknown, negate: boolean) =>
    setParams({ q: [props.filters.q, `${negate ? 'NOT ' : ''}${term(name, value)}`].filter(Boolean).join(' AND ') });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && props.onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [props.onClose]);
  return (
    <aside class="drawer" aria-label="Event detail" data-testid="event-detail">
      <header class="drawer-head">
        <div>
          <h2>Event</h2>
          <div class="muted small">
            {time(props.doc['@timestamp'], true)} · {show(field(props.doc, 'event.dataset'))} · <code>{show(field(props.doc, 'event.id'))}</code>
          </div>
        </div>
        <button class="btn btn-ghost" type="button" onClick={props.onClose} aria-label="Close">
          ✕
        </button>
      </header>
      <div class="tabs" role="tablist">
        {(['fields', 'json', 'original'] as const).map((t) => (
          <button key={t} role="tab" type="button" aria-selected={tab === t} class={`tab ${tab === t ? 'active' : ''}`} onClick={() => setTab(t)}>
            {t === 'fields' ? 'Fields' : t === 'json' ? 'JSON' : 'Original line'}
          </button>
        ))}
      </div>
      <div class="drawer-body">
        {tab === 'fields' ? (
          <table class="kv">
            <tbody>
              {rows.map(([name, value]) => {
                const text = show(value);
                const href = name.startsWith('url.') ? safeHref(value) : undefined;
                return (
                  <tr key={name}>
                    <th>{name}</th>
                    <td>
                      {href ? (
                        <a href={href} target="_blank" rel="noopener noreferrer nofollow">
                          {text}
                        </a>
                      ) : (
                        <span class="kv-value">{text}</span>
                      )}
                    </td>
                    <td class="kv-actions">
                      <button type="button" class="icon-btn" title="Filter for this value" onClick={() => addFilter(name, value, false)}>
                        ⊕
                      </button>
                      <button type="button" class="icon-btn" title="Filter out this value" onClick={() => addFilter(name, value, true)}>
                        ⊖
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : tab === 'json' ? (
          <pre class="code">{JSON.stringify(props.doc, null, 2)}</pre>
        ) : (
          <pre class="code code-wrap" data-testid="original-line">{original === undefined ? 'No original line was kept for this event.' : show(original)}</pre>
        )}
      </div>
    </aside>
  );
}

export function LogsPage() {
  const filters = useFilters();
  const { params } = useLocation();
  const columns = (params.get('cols') ?? '').split(',').filter(Boolean);
  const cols = columns.length > 0 ? columns : DEFAULT_COLUMNS;
  const liveOn = params.get('live') !== 'off';
  const [tick, setTick] = useState(0);
  const [extra, setExtra] = useState<EcsDoc[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [selected, setSelected] = useState<EcsDoc | null>(null);
  const [newCol, setNewCol] = useState('');
  const q = effectiveQuery(filters.q, filters.host);
  const t = timeParams(filters);

  const refresh = useThrottle(() => setTick((n) => n + 1), 1000);
  useLive('tick', () => liveOn && isRelative(filters) && extra.length === 0 && refresh());

  const page = useLoad((signal) => api<SearchResult>(`/api/v1/events${qs({ q, limit: PAGE, ...t })}`, { signal }), [q, filters.from, filters.to, tick]);
  const histogram = useLoad((signal) => api<Histogram>(`/api/v1/events/histogram${qs({ q, buckets: 80, ...t })}`, { signal }), [q, filters.from, filters.to, tick]);
  useEffect(() => {
    setExtra([]);
    setNext(null);
  }, [q, filters.from, filters.to]);
  useEffect(() => setNext(page.data?.next ?? null), [page.data]);

  const events = [...(page.data?.events ?? []), ...extra];
  const chart = useMemo(() => {
    if (!histogram.data) return undefined;
    return [histogram.data.buckets.map((b) => Date.parse(b.key) / 1000), histogram.data.buckets.map((b) => b.count)];
  }, [histogram.data]);
  const queryError = page.error?.id === 'bad_query' || page.error?.id === 'bad_request' ? page.error.message : undefined;
  const setCols = (list: string[]) => setParams({ cols: list.join(',') === DEFAULT_COLUMNS.join(',') ? null : list.join(',') });
  const exportHref = (format: string) => `/api/v1/events${qs({ q, ...t, format, limit: 100000, ...(format === 'csv' ? { fields: ['@timestamp', ...cols].join(',') } : {}) })}`;

  return (
    <div class={`page page-logs ${selected ? 'with-drawer' : ''}`} data-testid="page-logs">
      <header class="page-head">
        <h1>Logs</h1>
        <div class="page-actions">
          <label class="toggle" title="Show new events as they arrive (when the range ends now)">
            <input type="checkbox" checked={liveOn} onChange={(e) => setParams({ live: (e.currentTarget as HTMLInputElement).checked ? null : 'off' })} />
            Live
          </label>
          <a class="btn btn-ghost btn-sm" href={exportHref('csv')} download>
            Export CSV
          </a>
          <a class="btn btn-ghost btn-sm" href={exportHref('ndjson')} download>
            Export NDJSON
          </a>
        </div>
      </header>
      <FilterBar filters={filters} error={queryError} />
      <Panel title={<span data-testid="hits">{page.data ? `${num(page.data.total)} events` : 'Events'}</span>} actions={<span class="muted small">drag across the chart to zoom</span>}>
        {histogram.error && !queryError ? (
          <Failure error={histogram.error} what="the histogram" />
        ) : chart ? (
          <Chart data={chart} series={[{ label: 'events', color: '#38bdf8' }]} kind="bars" height={110} legend={false} onSelect={(from, to) => setParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString() })} />
        ) : (
          <Loading />
        )}
      </Panel>
      <Panel
        title="Documents"
        class="panel-table"
        actions={
          <form
            class="colform"
            onSubmit={(e) => {
              e.preventDefault();
              const name = newCol.trim();
              if (/^[A-Za-z0-9_@.-]{1,128}$/.test(name) && !cols.includes(name)) setCols([...cols, name]);
              setNewCol('');
            }}
          >
            <input value={newCol} onInput={(e) => setNewCol((e.currentTarget as HTMLInputElement).value)} placeholder="add column, e.g. url.path" aria-label="Add column" />
          </form>
        }
      >
        {page.error && !queryError ? (
          <Failure error={page.error} what="events" />
        ) : !page.data && page.loading ? (
          <Loading what="events" />
        ) : events.length === 0 ? (
          <Empty>No events match. Widen the time range or change the query.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table table-logs" data-testid="log-table">
              <thead>
                <tr>
                  <th class="col-time">@timestamp</th>
                  {cols.map((c) => (
                    <th key={c}>
                      {c}
                      <button type="button" class="col-remove" title={`Remove column ${c}`} onClick={() => setCols(cols.filter((x) => x !== c))}>
                        ×
                      </button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {events.map((doc, i) => {
                  const id = show(field(doc, 'event.id')) || String(i);
                  return (
                    <tr
                      key={id}
                      tabIndex={0}
                      class={selected === doc ? 'selected' : ''}
                      onClick={() => setSelected(doc)}
                      onKeyDown={(e) => {
                        if (e.key === 'Enter') setSelected(doc);
                        if (e.key === 'ArrowDown') ((e.currentTarget as HTMLElement).nextElementSibling as HTMLElement | null)?.focus();
                        if (e.key === 'ArrowUp') ((e.currentTarget as HTMLElement).previousElementSibling as HTMLElement | null)?.focus();
                      }}
                    >
                      <td class="col-time mono">{time(doc['@timestamp'], true)}</td>
                      {cols.map((c) => (
                        <td key={c} class={c === 'message' ? 'col-message' : ''}>
                          <Cell doc={doc} name={c} />
                        </td>
                      ))}
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {next ? (
              <button
                type="button"
                class="btn btn-ghost btn-block"
                onClick={async () => {
                  const more = await api<SearchResult>(`/api/v1/events${qs({ q, limit: PAGE, cursor: next, ...t })}`);
                  setExtra((x) => [...x, ...more.events]);
                  setNext(more.next);
                }}
              >
                Load {PAGE} more
              </button>
            ) : null}
          </div>
        )}
      </Panel>
      {selected ? <Detail doc={selected} filters={filters} onClose={() => setSelected(null)} /> : null}
    </div>
  );
}
