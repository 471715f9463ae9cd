// Threat intelligence feeds: loaded from files and URLs at start, refreshed on their schedule, and merged into one
// IndicatorIndex that is rebuilt off to the side (yielding to the event loop) and swapped in whole.
import { readFile } from 'node:fs/promises';
import type { FeedConfig, ThreatIntelConfig } from '../../config/enrich.js';
import { resolveSecret } from '../../config/secrets.js';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { parseFeed } from './formats.js';
import type { Indicator, IndicatorKind } from './indicator.js';
import { IndicatorIndex } from './indicator-index.js';

export interface FeedStatus {
  name: string;
  /** The file or URL it is read from. */
  source: string;
  format: FeedConfig['format'];
  /** Indicators loaded, in total and by kind. */
  indicators: number;
  kinds: Partial<Record<IndicatorKind, number>>;
  /** Entries that were not indicators, and STIX indicators expired or revoked. */
  invalid: number;
  expired: number;
  /** When the feed was last read successfully, and how long ago (seconds). */
  loaded_at: string | null;
  age_seconds: number | null;
  last_error: string | null;
  refresh_minutes: number;
  refreshes: number;
  failures: number;
}

interface FeedState {
  config: FeedConfig;
  indicators: Indicator[];
  status: FeedStatus;
  authorization: string | undefined;
}

const BUILD_CHUNK = 5000;

/** A feed URL as shown in health and the API: credentials and query strings (where keys hide) left out. */
export function displayUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}
/** Largest feed body read from a URL. */
const MAX_FEED_BYTES = 256 * 1024 * 1024;

export interface ThreatFeedsOptions {
  clock: Clock;
  env?: NodeJS.ProcessEnv;
}

export class ThreatFeeds {
  private readonly feeds: FeedState[];
  private readonly clock: Clock;
  private current = new IndicatorIndex();
  private timers: NodeJS.Timeout[] = [];
  /** Reloads run one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  /** Increases every time a new index is swapped in (caches keyed on matches use it). */
  version = 0;
  private closed = false;

  constructor(config: ThreatIntelConfig, options: ThreatFeedsOptions) {
    this.clock = options.clock;
    const names = new Set<string>();
    this.feeds = config.feeds.map((feed, i) => {
      if (names.has(feed.name)) throw new Error(`threat_intel.feeds[${i}]: the name ${feed.name} is used twice`);
      names.add(feed.name);
      return {
        config: feed,
        indicators: [],
        authorization: resolveSecret(feed as unknown as Record<string, unknown>, 'authorization', `threat_intel.feeds[${i}]`, options.env),
        status: {
          name: feed.name,
          source: feed.path ?? displayUrl(feed.url ?? ''),
          format: feed.format,
          indicators: 0,
          kinds: {},
          invalid: 0,
          expired: 0,
          loaded_at: null,
          age_seconds: null,
          last_error: null,
          refresh_minutes: feed.refresh_minutes,
          refreshes: 0,
          failures: 0,
        },
      };
    });
  }

  /** The index matching runs against now. */
  get index(): IndicatorIndex {
    return this.current;
  }

  get configs(): readonly FeedConfig[] {
    return this.feeds.map((f) => f.config);
  }

  /** Loads every feed once (a feed that fails is reported, not fatal), then refreshes each on its schedule. */
  async start(): Promise<void> {
    await this.reload(this.feeds);
    for (const feed of this.feeds) {
      if (feed.config.refresh_minutes <= 0) continue;
      const timer = setInterval(() => void this.reload([feed]), feed.config.refresh_minutes * 60_000);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** Reads the named feeds (all when none is named) again now; resolves when the new index is in place. */
  refresh(names?: readonly string[]): Promise<void> {
    return this.reload(names ? this.feeds.filter((f) => names.includes(f.config.name)) : this.feeds);
  }

  private reload(feeds: readonly FeedState[]): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.closed) return;
      let changed = false;
      for (const feed of feeds) changed = (await this.load(feed)) || changed;
      if (changed) await this.rebuild();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async read(feed: FeedState): Promise<string> {
    const { config } = feed;
    if (config.path) return readFile(config.path, 'utf8');
    const response = await fetch(config.url!, {
      signal: AbortSignal.timeout(config.timeout_ms),
      headers: { accept: config.format === 'stix' ? 'application/stix+json, application/json' : '*/*', ...(feed.authorization ? { authorization: feed.authorization } : {}) },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_FEED_BYTES) throw new Error(`the feed is ${length} bytes, over the ${MAX_FEED_BYTES} limit`);
    return response.text();
  }

  /** Reads and parses one feed; on failure keeps its previous indicators. Answers whether they changed. */
  private async load(feed: FeedState): Promise<boolean> {
    const status = feed.status;
    status.refreshes++;
    try {
      const text = await this.read(feed);
      const parsed = await parseFeed(text, feed.config, this.clock.now());
      feed.indicators = parsed.indicators;
      status.indicators = parsed.indicators.length;
      status.kinds = {};
      for (const i of parsed.indicators) status.kinds[i.kind] = (status.kinds[i.kind] ?? 0) + 1;
      status.invalid = parsed.invalid;
      status.expired = parsed.expired;
      status.loaded_at = new Date(this.clock.now()).toISOString();
      status.last_error = null;
      return true;
    } catch (err) {
      status.failures++;
      // The message names the file or URL, never the Authorization secret.
      status.last_error = errorMessage(err).slice(0, 500);
      console.error(`vigil: threat intel feed ${feed.config.name} (${status.source}) could not be read: ${status.last_error}`);
      return false;
    }
  }

  private async rebuild(): Promise<void> {
    const next = new IndicatorIndex();
    let n = 0;
    for (const feed of this.feeds) {
      for (const indicator of feed.indicators) {
        next.add(feed.config.name, indicator);
        if (++n % BUILD_CHUNK === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    this.current = next;
    this.version++;
  }

  status(): FeedStatus[] {
    const now = this.clock.now();
    return this.feeds.map(({ status }) => ({ ...status, kinds: { ...status.kinds }, age_seconds: status.loaded_at ? Math.max(0, Math.round((now - Date.parse(status.loaded_at)) / 1000)) : null }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.chain;
  }
}
