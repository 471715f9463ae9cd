// Configuration of enrichment: GeoIP databases and threat intelligence feeds and lookups (`geoip`, `threat_intel`).
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../core/detection.js';
import { secretShape } from './secrets.js';

const severity = z.enum(SEVERITIES as [Severity, ...Severity[]]);

export const geoipSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /**
     * Country database (.mmdb). Default: the bundled `@ip-location-db/geo-whois-asn-country-mmdb` (CC BY 4.0, NRO).
     * A MaxMind GeoLite2-Country or GeoIP2-Country file works too.
     */
    country_database: z.string().optional(),
    /** City database (.mmdb, e.g. GeoLite2-City): adds `geo.city_name`, `geo.location`, region and continent. */
    city_database: z.string().optional(),
    /** ASN database (.mmdb, e.g. GeoLite2-ASN): adds `as.number` and `as.organization.name`. */
    asn_database: z.string().optional(),
    /** ASN ranges as CSV (`start,end,asn,organization`, the `@ip-location-db/asn` format), instead of an .mmdb. */
    asn_csv: z.array(z.string()).optional(),
    /** Fields whose address is looked up; each `X.ip` gets `X.geo.*` and `X.as.*`. */
    fields: z.array(z.enum(['source', 'destination', 'client', 'server'])).default(['source', 'destination', 'client']),
    /** Addresses remembered with their answer (a real log repeats its addresses). */
    cache_size: z.number().int().min(0).default(65_536),
  })
  .prefault({});

const feed = z
  .strictObject({
    /** Shown in `threat.feed.name` and in the lookup. */
    name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only'),
    /** A local file … */
    path: z.string().optional(),
    /** … or an http(s) URL, fetched at start and on every refresh. */
    url: z.string().url().optional(),
    /** `text`: one indicator a line (`#` comments); `csv`: one column holds it; `stix`: a STIX 2.1 bundle (JSON). */
    format: z.enum(['text', 'csv', 'stix']).default('text'),
    /** What the indicators are, when the feed does not say: `auto` classifies each value (IP, CIDR, domain, URL, hash). */
    type: z.enum(['auto', 'ip', 'cidr', 'domain', 'url', 'hash']).default('auto'),
    /** CSV: the column holding the indicator, by header name or 0-based number. */
    column: z.union([z.string(), z.number().int().min(0)]).default(0),
    /** CSV: whether the first non-comment line is a header. */
    header: z.boolean().default(false),
    delimiter: z.string().length(1).default(','),
    /** How often the feed is read again; 0 never. */
    refresh_minutes: z.number().min(0).default(60),
    /** Severity of the alert a match raises. */
    severity: severity.default('high'),
    /** Shown with each match (`threat.indicator.description`). */
    description: z.string().optional(),
    /** Fetch timeout for URLs. */
    timeout_ms: z.number().int().min(100).default(30_000),
    /** Sent as `Authorization` when fetching the URL (e.g. `Bearer …`). */
    ...secretShape('authorization'),
  })
  .refine((f) => (f.path === undefined) !== (f.url === undefined), { message: 'give exactly one of path or url' });

const online = <D extends string>(defaultUrl: D, perMinute: number) =>
  z
    .strictObject({
      ...secretShape('api_key'),
      /** The service's API base URL (tests point it at a local server). */
      base_url: z.string().url().default(defaultUrl),
      /** Requests per minute allowed by the plan; lookups beyond it are answered "rate limited". */
      rate_limit_per_minute: z.number().min(0.1).default(perMinute),
      timeout_ms: z.number().int().min(100).default(10_000),
    })
    .optional();

export const threatIntelSchema = z
  .strictObject({
    feeds: z.array(feed).default([]),
    /** Event fields compared with the feeds; the indicator kind follows from the field. */
    fields: z
      .array(z.string())
      .default(['source.ip', 'destination.ip', 'client.ip', 'server.ip', 'url.domain', 'destination.domain', 'dns.question.name', 'url.full', 'url.original', 'file.hash.md5', 'file.hash.sha1', 'file.hash.sha256', 'process.hash.sha256']),
    /** Raise an alert (the `threat-intel` detector) for events with a match. */
    alert: z.boolean().default(true),
    /** Online lookups, each used only when its API key is given. */
    online: z
      .strictObject({
        abuseipdb: online('https://api.abuseipdb.com/api/v2', 0.7),
        virustotal: online('https://www.virustotal.com/api/v3', 4),
        otx: online('https://otx.alienvault.com/api/v1', 60),
        /** How long an online answer is remembered. */
        cache_minutes: z.number().min(0).default(24 * 60),
      })
      .prefault({}),
  })
  .prefault({});

export type GeoipConfig = z.infer<typeof geoipSchema>;
export type ThreatIntelConfig = z.infer<typeof threatIntelSchema>;
export type FeedConfig = ThreatIntelConfig['feeds'][number];
export type OnlineConfig = ThreatIntelConfig['online'];
