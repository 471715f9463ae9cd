// Overview: events over time per dataset, alerts by severity, open incidents, top sources, users and hosts, anomaly
// scores against their thresholds, newest alerts. Only aggregates are requested, so it stays fast on big stores.
import { useMemo, useState } from 'preact/hooks';
import { api, qs } from '../lib/api.js';
import { ago, effectiveQuery, num, term } from '../lib/format.js';
import { useLive, useLoad, useThrottle } from '../lib/hooks.js';
import { setParams, withFilters } from '../lib/router.js';
import { live } from '../lib/stream.js';
import type { Alert, EcsDoc, Histogram, SearchResult, Top } from '../lib/types.js';
import { SEVERITIES } from '../lib/types.js';
import { Chart, colorFor, type ChartSeries } from '../components/chart.js';
import type { ModelInfo } from './models.js';
import { FilterBar, isRelative, timeParams, useFilters, type Filters } from '../components/filters.js';
import { BarList, Empty, Failure, Link, Loading, Panel, SeverityBadge, Stat } from '../components/ui.js';

const TOP_DATASETS = 6;

interface Series {
  data: (number | null)[][];
  series: ChartSeries[];
  total: number;
  interval: number;
}

/** Events per second over the range, one series per frequent dataset and one for the rest: a single query. */
async function eventsOverTime(f: Filters, signal: AbortSignal): Promise<Series> {
  const q = effectiveQuery(f.q, f.host);
  const h = await api<Histogram>(`/api/v1/events/histogram${qs({ q, buckets: 72, by: 'event.dataset', size: TOP_DATASETS, ...timeParams(f) })}`, { signal });
  const names = h.by?.values ?? [];
  const perSecond = 1000 / h.interval;
  const data: (number | null)[][] = [h.buckets.map((b) => Date.parse(b.key) / 1000)];
  const series: ChartSeries[] = names.map((name) => ({ label: name, color: colorFor(name) }));
  names.forEach((_, i) => data.push(h.buckets.map((b) => (b.counts?.[i] ?? 0) * perSecond)));
  const rest = h.buckets.map((b) => b.count - (b.counts ?? []).reduce((a, c) => a + c, 0));
  if (rest.some((n) => n > 0)) {
    data.push(rest.map((n) => n * perSecond));
    series.push({ label: names.length > 0 ? 'other' : 'events', color: '#64748b' });
  }
  return { data, series, total: h.buckets.reduce((s, b) => s + b.count, 0), interval: h.interval };
}

function TopPanel(props: { title: string; field: string; filters: Filters; tick: number }) {
  const { filters } = props;
  const top = useLoad(
    (signal) => api<Top>(`/api/v1/events/top${qs({ field: props.field, size: 8, q: effectiveQuery(filters.q, filters.host), ...timeParams(filters) })}`, { signal }),
    [props.field, filters.q, filters.from, filters.to, filters.host, props.tick],
  );
  return (
    <Panel title={props.title} testid={`top-${props.field}`} actions={<span class="muted small">{props.field}</span>}>
      {top.error ? (
        <Failure error={top.error} what={props.title} />
      ) : !top.data ? (
        <Loading />
      ) : (
        <BarList rows={top.data.values} onPick={(v) => setParams({ q: [filters.q, term(props.field, v)].filter(Boolean).join(' AND ') })} />
      )}
    </Panel>
  );
}

function LiveRate() {
  const [rates, setRates] = useState(() => live.rates.slice(-300));
  useLive('rates', () => setRates(live.rates.slice(-300)));
  useLive('history', () => setRates(live.rates.slice(-300)));
  const data = useMemo(() => {
    const names = new Set<string>();
    for (const r of rates) for (const k of Object.keys(r.datasets)) names.add(k);
    const list = [...names].slice(0, 8);
    const xs = rates.map((r) => Date.parse(r.at) / 1000);
    if (list.length === 0) return { series: [{ label: 'events/s', color: '#38bdf8' }], data: [xs, rates.map((r) => r.total)] };
    return {
      series: list.map((n) => ({ label: n, color: colorFor(n) })),
      data: [xs, ...list.map((n) => rates.map((r) => r.datasets[n] ?? 0))],
    };
  }, [rates]);
  if (rates.length < 2) return <Empty>Waiting for the live stream…</Empty>;
  return <Chart data={data.data} series={data.series} height={150} />;
}

function SeverityBreakdown(props: { filters: Filters; tick: number }) {
  const { filters } = props;
  const counts = useLoad(
    async (signal) =>
      Promise.all(
        SEVERITIES.map(async (s) => ({ severity: s, count: (await api<{ total: number }>(`/api/v1/alerts${qs({ severity: s, status: 'open,acknowledged', limit: 1, ...timeParams(filters) })}`, { signal })).total })),
      ),
    [filters.from, filters.to, props.tick],
  );
  if (counts.error) return <Failure error={counts.error} what="alerts" />;
  if (!counts.data) return <Loading />;
  const max = Math.max(1, ...counts.data.map((c) => c.count));
  return (
    <ul class="sevbars">
      {counts.data.map((c) => (
        <li key={c.severity}>
          <Link href={`/alerts?severity=${c.severity}&status=open,acknowledged`} testid={`severity-${c.severity}`}>
            <SeverityBadge severity={c.severity} />
            <span class="sevbar-track">
              <span class={`sevbar-fill sevbg-${c.severity}`} style={{ width: `${(c.count / max) * 100}%` }} />
            </span>
            <span class="sevbar-num">{num(c.count)}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function Anomalies(props: { filters: Filters; tick: number }) {
  const { filters } = props;
  const loaded = useLoad(async (signal) => {
    const [events, models] = await Promise.all([
      api<SearchResult>(`/api/v1/events${qs({ q: 'event.dataset:vigil.anomaly', limit: 1000, ...timeParams(filters) })}`, { signal }),
      api<{ models: ModelInfo[] }>('/api/v1/models', { signal }),
    ]);
    return { events: events.events, models: models.models };
  }, [filters.from, filters.to, props.tick]);
  if (loaded.error) return <Failure error={loaded.error} what="anomalies" />;
  if (!loaded.data) return <Loading />;
  const points = loaded.data.events
    .map((e: EcsDoc) => ({ x: Date.parse(e['@timestamp']) / 1000, y: Number((e as { vigil?: { score?: number } }).vigil?.score), model: String((e as { rule?: { id?: string } }).rule?.id ?? 'model') }))
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
    .sort((a, b) => a.x - b.x);
  if (points.length === 0) {
    const ready = loaded.data.models.filter((m) => m.model).length;
    return <Empty>No anomaly scores in this range. {ready === 0 ? 'The models are still collecting samples to train on.' : 'Scores above a model\'s anomaly threshold are recorded here.'}</Empty>;
  }
  const ids = [...new Set(points.map((p) => p.model))].slice(0, 5);
  const xs = points.map((p) => p.x);
  const data: (number | null)[][] = [xs, ...ids.map((m) => points.map((p) => (p.model === m ? p.y : null)))];
  const series: ChartSeries[] = ids.map((m) => ({ label: loaded.data!.models.find((x) => x.id === m)?.title ?? m, color: colorFor(m) }));
  // Each model's alerting threshold (the score from which its anomalies become alerts), dashed in its colour.
  ids.forEach((m) => {
    const model = loaded.data!.models.find((x) => x.id === m);
    const level = ({ low: 'low', medium: 'medium', high: 'high', critical: 'critical' } as const)[model?.alert_severity as 'low'] ?? 'low';
    const at = model?.model?.thresholds[level];
    if (at === undefined) return;
    data.push(xs.map(() => at));
    series.push({ label: `${model!.title}: alerts from`, color: colorFor(m), dashed: true });
  });
  return <Chart data={data} series={series} kind="points" height={180} yRange={[0, 1]} />;
}

export function OverviewPage() {
  const filters = useFilters();
  const [tick, setTick] = useState(0);
  const refresh = useThrottle(() => setTick((t) => t + 1), 10_000);
  useLive('tick', () => isRelative(filters) && refresh());
  useLive('alert', () => refresh());
  const [liveRate, setLiveRate] = useState<number | undefined>(undefined);
  useLive('rates', (r) => setLiveRate(r.total));

  const overTime = useLoad((signal) => eventsOverTime(filters, signal), [filters.q, filters.from, filters.to, filters.host, tick]);
  // Alerts and incidents are not events: the time range picks those active in it; host and query do not apply.
  const alerts = useLoad((signal) => api<{ total: number; alerts: Alert[] }>(`/api/v1/alerts${qs({ limit: 8, status: 'open,acknowledged', ...timeParams(filters) })}`, { signal }), [filters.from, filters.to, tick]);
  const incidents = useLoad((signal) => api<{ total: number }>(`/api/v1/incidents${qs({ status: 'open', limit: 1, ...timeParams(filters) })}`, { signal }), [filters.from, filters.to, tick]);

  return (
    <div class="page" data-testid="page-overview">
      <header class="page-head">
        <h1>Overview</h1>
      </header>
      <FilterBar filters={filters} error={overTime.error?.id === 'bad_query' ? overTime.error.message : undefined} />
      <div class="stats">
        <Stat label="Events in range" value={overTime.data ? overTime.data.total.toLocaleString('en-US') : '…'} testid="stat-events" />
        <Stat label="Events / s now" value={liveRate === undefined ? '…' : num(liveRate)} hint="all sources, live" />
        <Stat
          label="Open alerts"
          value={alerts.data ? num(alerts.data.total) : alerts.error ? '–' : '…'}
          hint="active in the range"
          tone={alerts.data && alerts.data.alerts.some((a) => a.severity === 'critical' || a.severity === 'high') ? 'bad' : undefined}
          testid="stat-alerts"
        />
        <Stat label="Open incidents" value={incidents.data ? <Link href="/incidents">{num(incidents.data.total)}</Link> : incidents.error ? '–' : '…'} hint="active in the range" testid="stat-incidents" />
      </div>

      <div class="grid grid-2-1">
        <Panel title="Events per second by dataset" testid="events-over-time" actions={overTime.data ? <span class="muted small">bucket {overTime.data.interval / 1000}s</span> : null}>
          {overTime.error && overTime.error.id !== 'bad_query' ? (
            <Failure error={overTime.error} what="events" />
          ) : !overTime.data ? (
            <Loading />
          ) : overTime.data.total === 0 ? (
            <Empty>No events in this range. Send some: see the README's "Send it logs".</Empty>
          ) : (
            <Chart data={overTime.data.data} series={overTime.data.series} height={220} onSelect={(from, to) => setParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString() })} />
          )}
        </Panel>
        <Panel title="Open alerts by severity" actions={<span class="muted small">active in the range</span>}>
          <SeverityBreakdown filters={filters} tick={tick} />
        </Panel>
      </div>

      <div class="grid grid-2-1">
        <Panel title="Live event rate" actions={<span class="muted small">last 5 minutes, per second</span>}>
          <LiveRate />
        </Panel>
        <Panel title="Newest alerts" actions={<Link href="/alerts">All alerts →</Link>}>
          {alerts.error ? (
            <Failure error={alerts.error} what="alerts" />
          ) : !alerts.data ? (
            <Loading />
          ) : alerts.data.alerts.length === 0 ? (
            <Empty>No open alerts. All quiet.</Empty>
          ) : (
            <ul class="mini-alerts">
              {alerts.data.alerts.map((a) => (
                <li key={a.id}>
                  <Link href={`/alerts/${encodeURIComponent(a.id)}`}>
                    <SeverityBadge severity={a.severity} />
                    <span class="mini-title">{a.rule.title}</span>
                    <span class="mini-entity">{a.entity?.value ?? ''}</span>
                    <span class="muted small">{ago(a.last_seen)}</span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </Panel>
      </div>

      <div class="grid grid-3">
        <TopPanel title="Top source IPs" field="source.ip" filters={filters} tick={tick} />
        <TopPanel title="Top targeted users" field="user.name" filters={filters} tick={tick} />
        <TopPanel title="Top hosts" field="host.name" filters={filters} tick={tick} />
      </div>

      <Panel title="Anomaly scores" testid="anomaly-scores" actions={<Link href={withFilters('/models')}>Models →</Link>}>
        <Anomalies filters={filters} tick={tick} />
      </Panel>
    </div>
  );
}


