// Enrichment, as the pipeline sees it: one EventStage adding GeoIP and threat intelligence matches to each batch
// after normalization and before storage, the `threat-intel` detector, health, and the lookup behind
// `vigil intel lookup` and `GET /api/v1/intel/lookup`.
import { Counter } from 'prom-client';
import type { GeoipConfig, ThreatIntelConfig } from '../config/enrich.js';
import type { Clock } from '../core/clock.js';
import type { Severity } from '../core/detection.js';
import { VigilError, errorMessage } from '../core/errors.js';
import type { EcsEvent } from '../core/event.js';
import type { Telemetry } from '../core/telemetry.js';
import type { EventStage } from '../pipeline/pipeline.js';
import type { QueryNode } from '../store/query/ast.js';
import { printQuery } from '../store/query/print.js';
import { GeoIp, type GeoAnswer } from './geoip/geoip.js';
import { ThreatIntelDetector } from './threat-intel/detector.js';
import { ThreatFeeds, type FeedStatus } from './threat-intel/feeds.js';
import { parseIndicator, type IndicatorKind } from './threat-intel/indicator.js';
import { IntelMatcher, indicatorObject, type IntelMatch } from './threat-intel/match.js';
import { OnlineLookups, type OnlineAnswer } from './threat-intel/online.js';

export type { IntelMatch } from './threat-intel/match.js';
export type { FeedStatus } from './threat-intel/feeds.js';
export type { OnlineAnswer } from './threat-intel/online.js';

export interface EnrichmentConfig {
  geoip: GeoipConfig;
  threat_intel: ThreatIntelConfig;
}

export interface EnrichmentOptions {
  clock: Clock;
  /** Where the match and error counters are registered (Prometheus). */
  telemetry?: Telemetry;
  env?: NodeJS.ProcessEnv;
}

/** Everything known about one indicator. */
export interface IndicatorReport {
  value: string;
  kind: IndicatorKind;
  /** Feeds listing it (or a block or parent domain containing it). */
  feeds: { feed: string; indicator: Record<string, unknown> }[];
  /** GeoIP, for addresses. */
  geo: GeoAnswer | null;
  online: OnlineAnswer[];
  /** Query text finding the events that carry it (`vigil search` syntax). */
  query: string;
}

/** Event fields searched for an indicator of each kind. */
const SEARCH_FIELDS: Record<IndicatorKind, string[]> = {
  ip: ['source.ip', 'destination.ip', 'client.ip', 'server.ip'],
  cidr: ['source.ip', 'destination.ip', 'client.ip', 'server.ip'],
  domain: ['url.domain', 'destination.domain', 'source.domain', 'dns.question.name'],
  url: ['url.full', 'url.original'],
  hash: ['file.hash.md5', 'file.hash.sha1', 'file.hash.sha256', 'process.hash.sha256'],
};

/** The query finding events with the indicator in one of the fields its kind lives in. */
export function indicatorQuery(kind: IndicatorKind, value: string): QueryNode {
  const children: QueryNode[] = SEARCH_FIELDS[kind].map((field) =>
    kind === 'cidr' ? { type: 'cidr', field, cidr: value } : { type: 'term', field, value, phrase: true, wildcard: false },
  );
  return { type: 'or', children };
}

export class EnrichStage implements EventStage {
  readonly name = 'enrich';
  /** Matches found by this stage, so the detector trusts no `threat` field a sender wrote itself. */
  private readonly matched = new WeakMap<EcsEvent, IntelMatch[]>();
  errors = 0;
  matches = 0;
  events = 0;

  constructor(
    private readonly geoip: GeoIp | undefined,
    private readonly matcher: IntelMatcher,
    private readonly clock: Clock,
    private readonly counter?: Counter<'feed'>,
  ) {}

  process(events: EcsEvent[]): void {
    const occurred = new Date(this.clock.now()).toISOString();
    for (const event of events) {
      try {
        this.geoip?.enrich(event);
        // Vigil's own detection events name the matched value again; matching them would count each hit twice.
        if (event.event?.kind === 'alert' && String(event.event.dataset).startsWith('vigil.')) continue;
        const matches = this.matcher.match(event);
        if (matches) {
          this.matcher.tag(event, matches, occurred);
          this.matched.set(event, matches);
          this.matches++;
          if (this.counter) for (const m of matches) for (const hit of m.hits) this.counter.inc({ feed: hit.feed });
        }
      } catch (err) {
        // One odd event must not cost the batch its enrichment.
        this.errors++;
        if (this.errors <= 10) console.error(`vigil: enrichment skipped an event: ${errorMessage(err)}`);
      }
    }
    this.events += events.length;
  }

  matchesOf(event: EcsEvent): IntelMatch[] | undefined {
    return this.matched.get(event);
  }
}

export class Enrichment {
  readonly geoip: GeoIp | undefined;
  readonly feeds: ThreatFeeds;
  readonly online: OnlineLookups;
  readonly stage: EnrichStage;
  /** The `threat-intel` detector, or undefined when `threat_intel.alert` is off. */
  readonly detector: ThreatIntelDetector | undefined;
  private readonly matcher: IntelMatcher;
  private readonly severities: Map<string, Severity>;

  constructor(config: EnrichmentConfig, options: EnrichmentOptions) {
    this.geoip = config.geoip.enabled ? new GeoIp(config.geoip) : undefined;
    this.feeds = new ThreatFeeds(config.threat_intel, { clock: options.clock, ...(options.env ? { env: options.env } : {}) });
    this.online = new OnlineLookups(config.threat_intel.online, options.clock, options.env);
    this.severities = new Map(config.threat_intel.feeds.map((f) => [f.name, f.severity]));
    const descriptions = new Map(config.threat_intel.feeds.flatMap((f) => (f.description ? [[f.name, f.description] as const] : [])));
    this.matcher = new IntelMatcher(config.threat_intel.fields, () => this.feeds.index, descriptions);
    const counter = options.telemetry
      ? new Counter({ name: 'vigil_intel_matches_total', help: 'Events matching a threat intelligence feed, by feed.', labelNames: ['feed'], registers: [options.telemetry.registry] })
      : undefined;
    this.stage = new EnrichStage(this.geoip, this.matcher, options.clock, counter);
    this.detector = config.threat_intel.alert
      ? new ThreatIntelDetector({ matchesOf: (e) => this.stage.matchesOf(e), severityOf: (feed) => this.severities.get(feed) ?? 'high' })
      : undefined;
  }

  /** Loads the feeds (a feed that fails is reported in health, not fatal) and starts their refresh schedules. */
  start(): Promise<void> {
    return this.feeds.start();
  }

  feedStatus(): FeedStatus[] {
    return this.feeds.status();
  }

  /** Health sections: `geoip` and `threat_intel` (not ok until every feed has loaded at least once). */
  health(): { name: string; status(): { ok: boolean; [key: string]: unknown } }[] {
    const sections: { name: string; status(): { ok: boolean; [key: string]: unknown } }[] = [];
    if (this.geoip) {
      const geoip = this.geoip;
      sections.push({ name: 'geoip', status: () => ({ ok: true, ...geoip.stats() }) });
    }
    sections.push({
      name: 'threat_intel',
      status: () => {
        const feeds = this.feeds.status();
        return {
          ok: feeds.every((f) => f.loaded_at !== null),
          indicators: this.feeds.index.size,
          events_matched: this.stage.matches,
          errors: this.stage.errors,
          online: this.online.configured,
          feeds: feeds.map((f) => ({ name: f.name, indicators: f.indicators, age_seconds: f.age_seconds, last_error: f.last_error })),
        };
      },
    });
    return sections;
  }

  /** Everything known about a value: feeds listing it, GeoIP, and the online services (unless `online` is false). */
  async lookup(text: string, options: { online?: boolean } = {}): Promise<IndicatorReport> {
    const indicator = parseIndicator(text.trim());
    if (!indicator) throw new VigilError('bad_request', `"${text.slice(0, 100)}" is not an IP address, CIDR block, domain, URL or file hash`);
    const { kind, value } = indicator;
    const hits = this.feeds.index.match(kind, value) ?? [];
    const geo = kind === 'ip' && this.geoip ? this.geoip.lookup(value) : null;
    const online = options.online === false || kind === 'cidr' ? [] : await this.online.lookup(kind, value);
    return { value, kind, feeds: hits.map((hit) => ({ feed: hit.feed, indicator: indicatorObject(hit) })), geo, online, query: printQuery(indicatorQuery(kind, value)) };
  }

  close(): Promise<void> {
    return this.feeds.close();
  }
}
