// GeoIP: `X.geo.*` and `X.as.*` for the addresses of an event, from .mmdb files read with the `maxmind` reader — the
// bundled country database by default, a city and an ASN database when configured. Answers are cached per address.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Reader, type AsnResponse, type CityResponse } from 'maxmind';
import type { GeoipConfig } from '../../config/enrich.js';
import { VigilError } from '../../core/errors.js';
import type { EcsEvent } from '../../core/event.js';
import { parseIpv4, parseIpv6 } from '../../core/ip.js';
import { AsnRanges, type AsnAnswer } from './asn-csv.js';
import { specialRange } from './special.js';

/** ECS `geo.*` (https://www.elastic.co/guide/en/ecs/current/ecs-geo.html). */
export interface GeoFields {
  /** For addresses no database places: `private`, `loopback`, `link-local`, `documentation`, `multicast`, `reserved`. */
  name?: string;
  country_iso_code?: string;
  country_name?: string;
  continent_code?: string;
  continent_name?: string;
  region_name?: string;
  region_iso_code?: string;
  city_name?: string;
  postal_code?: string;
  timezone?: string;
  location?: { lat: number; lon: number };
}

export interface GeoAnswer {
  geo?: GeoFields;
  as?: AsnAnswer;
}

/** The country database that ships with Vigil (npm `@ip-location-db/geo-whois-asn-country-mmdb`, data CC BY 4.0 by the NRO). */
export function bundledCountryDatabase(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/package.json')), 'geo-whois-asn-country.mmdb');
}

const countryNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

function countryName(code: string): string | undefined {
  try {
    return countryNames.of(code);
  } catch {
    return undefined;
  }
}

type CountryRecord = CityResponse & { country_code?: string };

function openReader<T extends object>(path: string, key: string): Reader<T & { [k: string]: unknown }> {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (err) {
    throw new VigilError('bad_config', `geoip.${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return new Reader(buffer);
  } catch (err) {
    throw new VigilError('bad_config', `geoip.${key}: ${path} is not a MaxMind DB file (${(err as Error).message})`);
  }
}

/** ECS geo fields from a MaxMind-style record (GeoLite2/GeoIP2 Country or City) or an ip-location-db one (`country_code`). */
function geoFields(record: CountryRecord): GeoFields | undefined {
  const geo: GeoFields = {};
  const code = record.country?.iso_code ?? record.country_code ?? record.registered_country?.iso_code;
  if (code) {
    geo.country_iso_code = code;
    const name = record.country?.names?.en ?? countryName(code);
    if (name) geo.country_name = name;
  }
  if (record.continent?.code) geo.continent_code = record.continent.code;
  if (record.continent?.names?.en) geo.continent_name = record.continent.names.en;
  const region = record.subdivisions?.[0];
  if (region?.names?.en) geo.region_name = region.names.en;
  if (region?.iso_code && code) geo.region_iso_code = `${code}-${region.iso_code}`;
  if (record.city?.names?.en) geo.city_name = record.city.names.en;
  if (record.postal?.code) geo.postal_code = record.postal.code;
  if (record.location) {
    if (typeof record.location.latitude === 'number' && typeof record.location.longitude === 'number') geo.location = { lat: record.location.latitude, lon: record.location.longitude };
    if (record.location.time_zone) geo.timezone = record.location.time_zone;
  }
  return Object.keys(geo).length > 0 ? geo : undefined;
}

export interface GeoIpStats {
  databases: { role: string; path: string; type: string; built: string }[];
  lookups: number;
  cache_hits: number;
}

/** A copy for one event, so that a later stage changing one event's geo cannot change another's. */
function copyAnswer(answer: GeoAnswer): GeoAnswer {
  const out: GeoAnswer = {};
  if (answer.geo) out.geo = answer.geo.location ? { ...answer.geo, location: { ...answer.geo.location } } : { ...answer.geo };
  if (answer.as) out.as = answer.as.organization ? { number: answer.as.number, organization: { name: answer.as.organization.name } } : { number: answer.as.number };
  return out;
}

export class GeoIp {
  private readonly country: Reader<CountryRecord & { [k: string]: unknown }> | undefined;
  private readonly city: Reader<CountryRecord & { [k: string]: unknown }> | undefined;
  private readonly asn: Reader<AsnResponse & { [k: string]: unknown }> | undefined;
  private readonly asnRanges: AsnRanges | undefined;
  private readonly fields: readonly string[];
  private readonly cacheSize: number;
  /** Two generations: when the young one is full it becomes the old one, so hot addresses survive and memory is bounded. */
  private young = new Map<string, GeoAnswer | null>();
  private old = new Map<string, GeoAnswer | null>();
  private readonly info: GeoIpStats['databases'] = [];
  private lookups = 0;
  private hits = 0;

  constructor(config: GeoipConfig) {
    this.fields = config.fields;
    this.cacheSize = Math.max(1, Math.floor(config.cache_size / 2));
    if (config.city_database) this.city = openReader<CountryRecord>(config.city_database, 'city_database');
    // A city database answers countries too; the country one is then not needed.
    if (!this.city || config.country_database) {
      const path = config.country_database ?? bundledCountryDatabase();
      this.country = openReader<CountryRecord>(path, 'country_database');
    }
    if (config.asn_database) this.asn = openReader<AsnResponse>(config.asn_database, 'asn_database');
    if (config.asn_csv && config.asn_csv.length > 0) this.asnRanges = AsnRanges.load(config.asn_csv);
    const describe = (role: string, path: string, reader: Reader<never> | undefined) => {
      if (reader) this.info.push({ role, path, type: reader.metadata.databaseType, built: reader.metadata.buildEpoch.toISOString() });
    };
    describe('city', config.city_database ?? '', this.city as Reader<never> | undefined);
    describe('country', config.country_database ?? bundledCountryDatabase(), this.country as Reader<never> | undefined);
    describe('asn', config.asn_database ?? '', this.asn as Reader<never> | undefined);
    if (this.asnRanges) this.info.push({ role: 'asn', path: config.asn_csv!.join(', '), type: `CSV ranges (${this.asnRanges.size})`, built: '' });
  }

  /** What is known of an address; null when it is not an address. Never throws. */
  lookup(ip: string): GeoAnswer | null {
    this.lookups++;
    let answer = this.young.get(ip);
    if (answer !== undefined) {
      this.hits++;
      return answer;
    }
    answer = this.old.get(ip);
    if (answer !== undefined) this.hits++;
    else answer = this.resolve(ip);
    if (this.young.size >= this.cacheSize) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(ip, answer);
    return answer;
  }

  private resolve(ip: string): GeoAnswer | null {
    const v4 = parseIpv4(ip);
    const v6 = v4 === undefined ? parseIpv6(ip) : undefined;
    if (v4 === undefined && v6 === undefined) return null;
    const special = specialRange(ip);
    if (special) return { geo: { name: special } };
    const answer: GeoAnswer = {};
    try {
      const record = (this.city ?? this.country)?.get(ip);
      let geo = record ? geoFields(record) : undefined;
      // A city database without an answer for this address: the country database may still know it.
      if (!geo && this.city && this.country) {
        const fallback = this.country.get(ip);
        geo = fallback ? geoFields(fallback) : undefined;
      }
      if (geo) answer.geo = geo;
      const asn = this.asn?.get(ip);
      if (asn && typeof asn.autonomous_system_number === 'number') {
        answer.as = asn.autonomous_system_organization
          ? { number: asn.autonomous_system_number, organization: { name: asn.autonomous_system_organization } }
          : { number: asn.autonomous_system_number };
      } else if (this.asnRanges) {
        const found = v4 !== undefined ? this.asnRanges.lookupV4(v4) : this.asnRanges.lookupV6(v6!);
        if (found) answer.as = found;
      }
    } catch {
      // A damaged database answers nothing for this address rather than failing the batch.
      return {};
    }
    return answer;
  }

  /** Adds `X.geo` and `X.as` to each configured endpoint `X` of the event that has an `ip`. Never throws. */
  enrich(event: EcsEvent): void {
    for (const field of this.fields) {
      const endpoint = event[field] as { ip?: unknown; geo?: unknown; as?: unknown } | undefined;
      if (endpoint === undefined || endpoint === null || typeof endpoint !== 'object') continue;
      const ip = endpoint.ip;
      if (typeof ip !== 'string') continue;
      const answer = this.lookup(ip);
      if (!answer) continue;
      const copy = copyAnswer(answer);
      // A sender's own geo (an agent that knows better) is kept.
      if (copy.geo && endpoint.geo === undefined) endpoint.geo = copy.geo;
      if (copy.as && endpoint.as === undefined) endpoint.as = copy.as;
    }
  }

  stats(): GeoIpStats {
    return { databases: this.info, lookups: this.lookups, cache_hits: this.hits };
  }
}
