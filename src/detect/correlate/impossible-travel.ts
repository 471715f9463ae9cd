// Vigil's `impossible_travel` detector: successful logins of one user (the group) from two places whose great-circle
// distance, divided by the time between the logins, is faster than anyone travels. Places come from GeoIP
// enrichment: `source.geo.location` where a City database placed the address, else the centre of
// `source.geo.country_iso_code`'s largest landmass. An address placed only in a country may be anywhere in it, so the
// distance compared is the centres' distance less each country's radius: neighbouring countries never fire, and a
// detection's distance is one the user must at least have covered. Private and unplaced addresses are not compared.
import { COUNTRY_CENTROIDS } from './country-centroids.js';
import type { CorrelationFire, CorrelationInput, WindowLimits } from './correlation.js';
import { GroupStore, groupKeyOf, readGroup, type GroupReader } from './group-store.js';
import type { TravelModel } from '../rules/model.js';

/** Logins kept per group: the newest, which are the ones a new login is compared with. */
const MAX_LOGINS = 16;
const EARTH_RADIUS_KM = 6371.0088;
/** Log timestamps often have whole seconds: two logins are never taken as closer in time than this. */
const MIN_GAP_MS = 1000;

/** Where a login came from, as far as GeoIP knows. */
export interface Place {
  lat: number;
  lon: number;
  /** How far from (lat, lon) the address may really be, km: 0 for a city, the country's radius for a country. */
  uncertaintyKm: number;
  ip?: string;
  city?: string;
  country?: string;
  countryCode?: string;
}

interface Login {
  t: number;
  timestamp: string;
  id: string;
  place: Place;
}

interface TravelState {
  logins: Login[];
  newest: number;
}

export interface TravelBinding {
  group: GroupReader[];
}

/** Great-circle distance in km (haversine). */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

function child(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

function text(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** An ECS geo_point in any of the forms Elasticsearch accepts: {lat, lon}, [lon, lat], "lat,lon", GeoJSON Point. */
export function readGeoPoint(value: unknown): { lat: number; lon: number } | undefined {
  let lat: unknown;
  let lon: unknown;
  if (Array.isArray(value)) [lon, lat] = value;
  else if (typeof value === 'string') {
    const parts = value.split(',');
    if (parts.length !== 2) return undefined;
    lat = Number(parts[0]);
    lon = Number(parts[1]);
  } else if (value !== null && typeof value === 'object') {
    const coordinates = child(value, 'coordinates');
    if (Array.isArray(coordinates)) [lon, lat] = coordinates;
    else {
      lat = child(value, 'lat');
      lon = child(value, 'lon');
    }
  }
  if (typeof lat === 'string') lat = Number(lat);
  if (typeof lon === 'string') lon = Number(lon);
  if (typeof lat !== 'number' || typeof lon !== 'number' || !Number.isFinite(lat) || !Number.isFinite(lon)) return undefined;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
  // (0, 0) is where broken lookups put what they cannot place.
  if (lat === 0 && lon === 0) return undefined;
  return { lat, lon };
}

/** Where the event's source was, from its `source.geo.*` and `source.ip`; undefined when GeoIP could not place it. */
export function placeOf(doc: Record<string, unknown>): Place | undefined {
  const source = child(doc, 'source');
  const geo = child(source, 'geo');
  if (geo === undefined) return undefined;
  const countryCode = text(child(geo, 'country_iso_code'))?.toUpperCase();
  const centroid = countryCode ? COUNTRY_CENTROIDS[countryCode] : undefined;
  const point = readGeoPoint(child(geo, 'location'));
  const city = text(child(geo, 'city_name'));
  let place: Place;
  if (point) {
    // A City database places an address it only knows the country of at the country's centre, without a city.
    place = { ...point, uncertaintyKm: city ? 0 : (centroid?.[2] ?? 0) };
  } else if (centroid) {
    place = { lat: centroid[0], lon: centroid[1], uncertaintyKm: centroid[2] };
  } else return undefined;
  const ip = text(child(source, 'ip'));
  const country = text(child(geo, 'country_name'));
  if (ip) place.ip = ip;
  if (city) place.city = city;
  if (country) place.country = country;
  if (countryCode) place.countryCode = countryCode;
  return place;
}

/** "Sydney, Australia (1.2.3.4)", "Germany (5.6.7.8)". */
export function describePlace(p: Place): string {
  const where = [p.city, p.country ?? p.countryCode].filter((x) => x !== undefined).join(', ') || `${p.lat.toFixed(2)}, ${p.lon.toFixed(2)}`;
  return p.ip ? `${where} (${p.ip})` : where;
}

/** "45 s", "38 min", "3 h 05 min", "2 d 4 h". */
export function describeGap(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const km = (x: number) => Math.round(x).toLocaleString('en-US');

export class ImpossibleTravel {
  readonly groups: GroupStore<TravelState>;
  ungrouped = 0;
  /** Logins GeoIP did not place (private addresses, no enrichment): not compared. */
  unplaced = 0;

  constructor(
    readonly model: TravelModel,
    private readonly refs: TravelBinding[],
    readonly groupFields: string[],
    limits: WindowLimits,
  ) {
    this.groups = new GroupStore(limits.maxGroups);
  }

  /** The key a bus deployment partitions this rule's inputs by (see RuleEngine's router). */
  groupKey(input: CorrelationInput): string | undefined {
    const binding = this.refs[input.ref];
    const values = binding && readGroup(binding.group, input.doc);
    return values && groupKeyOf(values);
  }

  offer(input: CorrelationInput): CorrelationFire | undefined {
    const binding = this.refs[input.ref];
    if (!binding) return undefined;
    const values = readGroup(binding.group, input.doc);
    if (!values) {
      this.ungrouped++;
      return undefined;
    }
    const place = placeOf(input.doc);
    if (!place) {
      this.unplaced++;
      return undefined;
    }
    const m = this.model;
    const state = this.groups.touch(groupKeyOf(values), () => ({ logins: [], newest: -Infinity }));
    const t = input.time;
    if (t > state.newest) state.newest = t;
    const horizon = state.newest - m.timespanMs;
    if (t < horizon) return undefined;
    while (state.logins.length > 0 && state.logins[0]!.t < horizon) state.logins.shift();

    let best: { prev: Login; distance: number; lower: number; gap: number; speed: number } | undefined;
    for (const prev of state.logins) {
      const gap = Math.max(MIN_GAP_MS, Math.abs(t - prev.t));
      if (gap > m.timespanMs) continue;
      const distance = distanceKm(prev.place, place);
      const lower = Math.max(0, distance - prev.place.uncertaintyKm - place.uncertaintyKm);
      if (lower < m.minDistanceKm || lower === 0) continue;
      const speed = lower / (gap / 3_600_000);
      if (speed > m.speedKmh && (!best || speed > best.speed)) best = { prev, distance, lower, gap, speed };
    }
    const login: Login = { t, timestamp: input.timestamp, id: input.id, place };
    if (best) {
      // Start over from the newer of the two places: the next login is judged against where the user is now.
      state.logins = [best.prev.t > t ? best.prev : login];
      return this.fire(values, best, login);
    }
    let at = state.logins.length;
    while (at > 0 && state.logins[at - 1]!.t > t) at--;
    state.logins.splice(at, 0, login);
    if (state.logins.length > MAX_LOGINS) state.logins.shift();
    return undefined;
  }

  private fire(values: string[], best: { prev: Login; distance: number; lower: number; gap: number; speed: number }, login: Login): CorrelationFire {
    const m = this.model;
    const [first, second] = best.prev.t <= login.t ? [best.prev, login] : [login, best.prev];
    const group: Record<string, string> = {};
    m.groupBy.forEach((name, i) => (group[this.groupFields[i] ?? name] = values[i]!));
    const who = values.join(', ');
    const apart =
      Math.round(best.lower) < Math.round(best.distance)
        ? `at least ${km(best.lower)} km apart (${km(best.distance)} km between the places GeoIP gives, less the size of the countries)`
        : `${km(best.distance)} km apart`;
    const reason =
      `${who} logged in from ${describePlace(first.place)} at ${first.timestamp} and from ${describePlace(second.place)} at ${second.timestamp}: ` +
      `${apart} in ${describeGap(second.t - first.t)}, ${km(best.speed)} km/h (more than ${km(m.speedKmh)} km/h)`;
    const spot = (l: Login) => ({
      '@timestamp': l.timestamp,
      ...(l.place.ip ? { ip: l.place.ip } : {}),
      ...(l.place.city ? { city_name: l.place.city } : {}),
      ...(l.place.country ? { country_name: l.place.country } : {}),
      ...(l.place.countryCode ? { country_iso_code: l.place.countryCode } : {}),
      location: { lat: l.place.lat, lon: l.place.lon },
      uncertainty_km: l.place.uncertaintyKm,
    });
    return {
      time: Math.max(first.t, second.t),
      timestamp: second.timestamp,
      group,
      evidence: [first.id, second.id],
      reason,
      value: Math.round(best.speed),
      details: {
        from: spot(first),
        to: spot(second),
        distance_km: Math.round(best.distance),
        min_distance_km: Math.round(best.lower),
        seconds: Math.round((second.t - first.t) / 1000),
        speed_kmh: Math.round(best.speed),
        limit_kmh: m.speedKmh,
      },
    };
  }

  sweep(now: number): void {
    const horizon = now - this.model.timespanMs;
    this.groups.sweep((s) => s.newest < horizon);
  }

  adopt(other: ImpossibleTravel): void {
    this.groups.adopt(other.groups);
    this.ungrouped += other.ungrouped;
    this.unplaced += other.unplaced;
  }
}
