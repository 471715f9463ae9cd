// Threat map: where events with a geolocated source come from, drawn offline (Natural Earth shapes from world-atlas,
// projected with d3-geo into SVG), origins sized by count, great-circle arcs to the targeted hosts, a table beside.
// A source with coordinates (a city database) is drawn there; one with only a country (the bundled database) at the
// country's centre.
import { geoGraticule10, geoNaturalEarth1, geoPath } from 'd3-geo';
import { feature } from 'topojson-client';
import type { FeatureCollection, Geometry } from 'geojson';
import type { Topology, GeometryCollection } from 'topojson-specification';
import { useMemo, useState } from 'preact/hooks';
import { api, qs } from '../lib/api.js';
import { effectiveQuery, field, num, show, term } from '../lib/format.js';
import { useLive, useLoad, useThrottle } from '../lib/hooks.js';
import { setParams, useLocation } from '../lib/router.js';
import type { EcsDoc, SearchResult, Top } from '../lib/types.js';
import { FilterBar, isRelative, timeParams, useFilters } from '../components/filters.js';
import { BarList, Empty, Failure, Loading, Panel } from '../components/ui.js';
import { countryLocator } from '../lib/countries.js';

/** Quick filters: everything, or only what looks like an attack. */
const PRESETS = [
  { label: 'All events', q: '' },
  { label: 'Sources of alerts', q: 'event.dataset:vigil.alert' },
  { label: 'Failed logins', q: 'event.category:authentication AND event.outcome:failure' },
  { label: 'Web requests refused or failing', q: 'http.response.status_code>=400' },
];

const W = 960;
const H = 480;
const SAMPLE = 5000;

let world: Promise<FeatureCollection<Geometry>> | undefined;
function loadWorld(): Promise<FeatureCollection<Geometry>> {
  world ??= fetch('/assets/countries-110m.json')
    .then((r) => r.json() as Promise<Topology<{ countries: GeometryCollection }>>)
    .then((topo) => feature(topo, topo.objects.countries) as unknown as FeatureCollection<Geometry>);
  return world;
}

interface Origin {
  key: string;
  lat: number;
  lon: number;
  count: number;
  country: string;
  ips: Map<string, number>;
  targets: Map<string, number>;
}

interface Target {
  name: string;
  lat: number;
  lon: number;
  placed: boolean;
}

function num2(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Keys of a count map, most frequent first. */
function byCount(counts: Map<string, number>): string[] {
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k]) => k);
}

function aggregate(events: EcsDoc[], home: [number, number], locate: (code: string) => [number, number] | undefined) {
  const origins = new Map<string, Origin>();
  const targets = new Map<string, Target>();
  for (const e of events) {
    let lat = num2(field(e, 'source.geo.location.lat'));
    let lon = num2(field(e, 'source.geo.location.lon'));
    const country = show(field(e, 'source.geo.country_iso_code'));
    let key: string;
    if (lat !== undefined && lon !== undefined && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
      key = `${lat.toFixed(1)},${lon.toFixed(1)}`;
    } else {
      const at = /^[A-Za-z]{2}$/.test(country) ? locate(country) : undefined;
      if (!at) continue;
      [lat, lon] = at;
      key = `country:${country.toUpperCase()}`;
    }
    let o = origins.get(key);
    if (!o) origins.set(key, (o = { key, lat, lon, count: 0, country: country || show(field(e, 'source.geo.country_name')), ips: new Map(), targets: new Map() }));
    o.count++;
    const ip = show(field(e, 'source.ip'));
    if (ip) o.ips.set(ip, (o.ips.get(ip) ?? 0) + 1);
    const target = show(field(e, 'host.name')) || show(field(e, 'destination.ip')) || 'monitored hosts';
    o.targets.set(target, (o.targets.get(target) ?? 0) + 1);
    if (!targets.has(target)) {
      const tlat = num2(field(e, 'destination.geo.location.lat'));
      const tlon = num2(field(e, 'destination.geo.location.lon'));
      targets.set(target, tlat !== undefined && tlon !== undefined ? { name: target, lat: tlat, lon: tlon, placed: true } : { name: target, lat: home[0], lon: home[1], placed: false });
    }
  }
  // Hosts without a location of their own share the home point; spread them a little so each stays visible.
  const unplaced = [...targets.values()].filter((t) => !t.placed);
  unplaced.forEach((t, i) => {
    const angle = (i / Math.max(1, unplaced.length)) * 2 * Math.PI;
    const r = unplaced.length > 1 ? 2.5 : 0;
    t.lat = home[0] + r * Math.sin(angle);
    t.lon = home[1] + r * Math.cos(angle);
  });
  return { origins: [...origins.values()].sort((a, b) => b.count - a.count), targets: [...targets.values()] };
}

export function MapPage() {
  const filters = useFilters();
  const { params } = useLocation();
  const homeParam = /^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$/.exec(params.get('home') ?? '');
  const home: [number, number] = homeParam ? [Number(homeParam[1]), Number(homeParam[2])] : [50.1, 8.7];
  const [tick, setTick] = useState(0);
  const [hover, setHover] = useState<Origin | null>(null);
  const refresh = useThrottle(() => setTick((t) => t + 1), 10_000);
  useLive('tick', () => isRelative(filters) && refresh());
  const q = effectiveQuery(filters.q, filters.host);
  const t = timeParams(filters);
  const located = '(source.geo.location.lat:* OR source.geo.country_iso_code:*)';
  const geoQuery = q ? `(${q}) AND ${located}` : located;

  const shapes = useLoad(() => loadWorld(), []);
  const data = useLoad(
    async (signal) => {
      const [sample, countries] = await Promise.all([
        api<SearchResult>(`/api/v1/events${qs({ q: geoQuery, limit: SAMPLE, ...t })}`, { signal }),
        api<Top>(`/api/v1/events/top${qs({ field: 'source.geo.country_iso_code', size: 30, q, ...t })}`, { signal }),
      ]);
      return { sample, countries };
    },
    [geoQuery, filters.from, filters.to, tick],
  );

  const projection = useMemo(() => geoNaturalEarth1().fitExtent([[8, 8], [W - 8, H - 8]], { type: 'Sphere' }), []);
  const path = useMemo(() => geoPath(projection), [projection]);
  const locate = useMemo(() => (shapes.data ? countryLocator(shapes.data) : undefined), [shapes.data]);
  const agg = useMemo(() => (data.data && locate ? aggregate(data.data.sample.events, home, locate) : undefined), [data.data, locate, home[0], home[1]]);
  const max = Math.max(1, ...(agg?.origins.map((o) => o.count) ?? [1]));

  return (
    <div class="page" data-testid="page-map">
      <header class="page-head">
        <h1>Threat map</h1>
        <span class="muted small">Origins of events with a geolocated source address; hosts without a location are drawn at the home point (set it with ?home=lat,lon).</span>
      </header>
      <FilterBar
        filters={filters}
        error={data.error?.id === 'bad_query' ? data.error.message : undefined}
        extra={
          <select aria-label="Show" data-testid="map-preset" value={PRESETS.find((p) => p.q === filters.q)?.q ?? 'custom'} onChange={(e) => {
              const v = (e.currentTarget as HTMLSelectElement).value;
              if (v !== 'custom') setParams({ q: v || null });
            }}>
            {PRESETS.map((p) => (
              <option key={p.q} value={p.q}>
                {p.label}
              </option>
            ))}
            {PRESETS.some((p) => p.q === filters.q) ? null : <option value="custom">Your query</option>}
          </select>
        }
      />
      <div class="grid grid-map">
        <Panel title={agg ? `${num(agg.origins.length)} origins · ${num(data.data?.sample.events.length ?? 0)} events sampled of ${num(data.data?.sample.total ?? 0)}` : 'Origins'}>
          {shapes.error ? (
            <Failure error={shapes.error} what="the world map" />
          ) : !shapes.data ? (
            <Loading what="the map" />
          ) : (
            <div class="map-wrap">
              <svg class="worldmap" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="World map of attack origins" data-testid="worldmap">
                <path class="map-sphere" d={path({ type: 'Sphere' }) ?? ''} />
                <path class="map-graticule" d={path(geoGraticule10()) ?? ''} />
                {shapes.data.features.map((f, i) => (
                  <path key={i} class="map-country" d={path(f) ?? ''} />
                ))}
                {agg?.origins.slice(0, 300).flatMap((o) =>
                  [...o.targets.keys()].map((name) => {
                    const target = agg.targets.find((x) => x.name === name)!;
                    return <path key={`${o.key}>${name}`} class="map-arc" d={path({ type: 'LineString', coordinates: [[o.lon, o.lat], [target.lon, target.lat]] }) ?? ''} style={{ strokeOpacity: 0.15 + 0.6 * (o.count / max) }} />;
                  }),
                )}
                {agg?.targets.map((tg) => {
                  const p = projection([tg.lon, tg.lat]);
                  return p ? (
                    <g key={tg.name} class="map-target">
                      <rect x={p[0] - 4} y={p[1] - 4} width={8} height={8} />
                      <title>{tg.name}</title>
                    </g>
                  ) : null;
                })}
                {agg?.origins.slice(0, 300).map((o) => {
                  const p = projection([o.lon, o.lat]);
                  if (!p) return null;
                  const r = 3 + 14 * Math.sqrt(o.count / max);
                  return (
                    <circle
                      key={o.key}
                      class={`map-origin ${hover === o ? 'hover' : ''}`}
                      cx={p[0]}
                      cy={p[1]}
                      r={r}
                      data-testid="map-origin"
                      data-country={o.country}
                      onMouseEnter={() => setHover(o)}
                      onMouseLeave={() => setHover(null)}
                      onClick={() => setParams({ q: [filters.q, term('source.geo.country_iso_code', o.country)].filter(Boolean).join(' AND ') })}
                    >
                      <title>{`${o.country || '?'}: ${o.count} events from ${o.ips.size} addresses`}</title>
                    </circle>
                  );
                })}
              </svg>
              {hover ? (
                <div class="map-tip">
                  <strong>{hover.country || 'unknown country'}</strong> · {num(hover.count)} events
                  <div class="muted small">{byCount(hover.ips).slice(0, 5).join(', ')}</div>
                  <div class="muted small">→ {byCount(hover.targets).slice(0, 5).join(', ')}</div>
                </div>
              ) : null}
              {agg && agg.origins.length === 0 ? <div class="map-empty">No geolocated sources in this range.</div> : null}
            </div>
          )}
        </Panel>
        <div class="stack">
          <Panel title="Countries" actions={<span class="muted small">exact counts</span>}>
            {data.error ? (
              <Failure error={data.error} what="countries" />
            ) : !data.data ? (
              <Loading />
            ) : (
              <BarList rows={data.data.countries.values} color="rgba(248,113,113,0.35)" onPick={(v) => setParams({ q: [filters.q, term('source.geo.country_iso_code', v)].filter(Boolean).join(' AND ') })} empty="No geolocated sources." />
            )}
          </Panel>
          <Panel title="Top origins" class="panel-table">
            {!agg ? (
              <Loading />
            ) : agg.origins.length === 0 ? (
              <Empty>None.</Empty>
            ) : (
              <table class="table table-compact" data-testid="map-table">
                <thead>
                  <tr>
                    <th>Country</th>
                    <th>Addresses</th>
                    <th class="num">Events</th>
                    <th>Targets</th>
                  </tr>
                </thead>
                <tbody>
                  {agg.origins.slice(0, 15).map((o) => (
                    <tr key={o.key} onMouseEnter={() => setHover(o)} onMouseLeave={() => setHover(null)}>
                      <td>{o.country || '?'}</td>
                      <td class="mono small">
                        {byCount(o.ips).slice(0, 2).join(', ')}
                        {o.ips.size > 2 ? ` +${o.ips.size - 2}` : ''}
                      </td>
                      <td class="num">{num(o.count)}</td>
                      <td class="small">{byCount(o.targets).slice(0, 2).join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Panel>
        </div>
      </div>
    </div>
  );
}
