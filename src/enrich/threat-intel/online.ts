// Online reputation lookups — AbuseIPDB (API v2), VirusTotal (API v3), AlienVault OTX (API v1) — used only when an
// API key is configured, each behind a cache and a token-bucket rate limit sized to the plan. Never on the per-event
// path: `vigil intel lookup` and `GET /api/v1/intel/lookup` call them.
import type { OnlineConfig } from '../../config/enrich.js';
import { redact, resolveSecret } from '../../config/secrets.js';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { IndicatorKind } from './indicator.js';

export type ProviderName = 'abuseipdb' | 'virustotal' | 'otx';

export interface OnlineAnswer {
  provider: ProviderName;
  /** `found`: the service knows it; `not_found`; `rate_limited` (by our limit or theirs); `error`; `unsupported` kind. */
  status: 'found' | 'not_found' | 'rate_limited' | 'error' | 'unsupported';
  /** A one-line verdict for people, e.g. `abuse confidence 100%, 1,204 reports`. */
  summary?: string;
  /** 0-100 where the service gives one (AbuseIPDB confidence, VirusTotal share of engines calling it malicious). */
  score?: number;
  /** The fields of the service's answer worth showing. */
  data?: Record<string, unknown>;
  error?: string;
  retry_after_s?: number;
  /** Whether this came from the cache, and when it was fetched. */
  cached: boolean;
  fetched_at: string;
}

/** A token bucket: `perMinute` tokens a minute, holding at most max(1, perMinute). */
class RateLimit {
  private tokens: number;
  private last: number;
  private readonly capacity: number;

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
  ) {
    this.capacity = Math.max(1, perMinute);
    this.tokens = this.capacity;
    this.last = clock.now();
  }

  /** Takes a token, or answers how many seconds until one is there. */
  take(): { ok: true } | { ok: false; wait_s: number } {
    const now = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 60_000) * this.perMinute);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, wait_s: Math.ceil(((1 - this.tokens) / this.perMinute) * 60) };
  }
}

interface Provider {
  name: ProviderName;
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  limit: RateLimit;
}

type Fetched = { status: number; body: unknown; retryAfter: string | null };

const fmt = (n: unknown) => (typeof n === 'number' ? n.toLocaleString('en-US') : '?');

export class OnlineLookups {
  private readonly providers: Provider[] = [];
  private readonly cache = new Map<string, { at: number; answer: OnlineAnswer }>();
  private readonly ttlMs: number;
  private static readonly MAX_CACHE = 10_000;

  constructor(
    config: OnlineConfig,
    private readonly clock: Clock,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.ttlMs = config.cache_minutes * 60_000;
    for (const name of ['abuseipdb', 'virustotal', 'otx'] as const) {
      const block = config[name];
      if (!block) continue;
      const apiKey = resolveSecret(block as unknown as Record<string, unknown>, 'api_key', `threat_intel.online.${name}`, env);
      if (!apiKey) continue;
      this.providers.push({ name, apiKey, baseUrl: block.base_url.replace(/\/+$/, ''), timeoutMs: block.timeout_ms, limit: new RateLimit(block.rate_limit_per_minute, clock) });
    }
  }

  /** Providers with an API key. */
  get configured(): ProviderName[] {
    return this.providers.map((p) => p.name);
  }

  /** Asks every configured provider about the value (concurrently); answers in provider order. */
  async lookup(kind: IndicatorKind, value: string): Promise<OnlineAnswer[]> {
    return Promise.all(this.providers.map((p) => this.ask(p, kind, value)));
  }

  private async ask(provider: Provider, kind: IndicatorKind, value: string): Promise<OnlineAnswer> {
    const now = this.clock.now();
    const key = `${provider.name}\u0000${kind}\u0000${value}`;
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.ttlMs) return { ...hit.answer, cached: true };
    const base = { provider: provider.name, cached: false, fetched_at: new Date(now).toISOString() };
    const request = this.request(provider, kind, value);
    if (!request) return { ...base, status: 'unsupported' };
    const token = provider.limit.take();
    if (!token.ok) return { ...base, status: 'rate_limited', retry_after_s: token.wait_s, summary: `over the configured ${provider.name} rate limit; try again in ${token.wait_s} s` };
    let answer: OnlineAnswer;
    try {
      const fetched = await this.fetch(provider, request.path, request.headers);
      answer = { ...base, ...this.interpret(provider.name, fetched) };
    } catch (err) {
      answer = { ...base, status: 'error', error: redact(errorMessage(err), [provider.apiKey]).slice(0, 300) };
    }
    // Errors and rate limits are not remembered: the next lookup tries again.
    if (answer.status === 'found' || answer.status === 'not_found') {
      if (this.cache.size >= OnlineLookups.MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { at: now, answer });
    }
    return answer;
  }

  /** The documented endpoint for the value, or undefined when the service has none for its kind. */
  private request(p: Provider, kind: IndicatorKind, value: string): { path: string; headers: Record<string, string> } | undefined {
    const v = encodeURIComponent(value);
    switch (p.name) {
      case 'abuseipdb':
        // https://docs.abuseipdb.com/#check-endpoint
        return kind === 'ip' ? { path: `/check?ipAddress=${v}&maxAgeInDays=90&verbose`, headers: { Key: p.apiKey, Accept: 'application/json' } } : undefined;
      case 'virustotal': {
        // https://docs.virustotal.com/reference/overview — URL ids are the unpadded base64url of the URL.
        const headers = { 'x-apikey': p.apiKey, accept: 'application/json' };
        if (kind === 'ip') return { path: `/ip_addresses/${v}`, headers };
        if (kind === 'domain') return { path: `/domains/${v}`, headers };
        if (kind === 'hash') return { path: `/files/${v}`, headers };
        if (kind === 'url') return { path: `/urls/${Buffer.from(value.includes('://') ? value : `http://${value}`).toString('base64url')}`, headers };
        return undefined;
      }
      case 'otx': {
        // https://otx.alienvault.com/api — /indicators/{type}/{value}/general
        const headers = { 'X-OTX-API-KEY': p.apiKey, accept: 'application/json' };
        const section = kind === 'ip' ? (value.includes(':') ? 'IPv6' : 'IPv4') : kind === 'domain' ? 'domain' : kind === 'hash' ? 'file' : kind === 'url' ? 'url' : undefined;
        return section ? { path: `/indicators/${section}/${v}/general`, headers } : undefined;
      }
    }
  }

  private async fetch(p: Provider, path: string, headers: Record<string, string>): Promise<Fetched> {
    const response = await fetch(p.baseUrl + path, { headers, signal: AbortSignal.timeout(p.timeoutMs) });
    const text = await response.text();
    let body: unknown = undefined;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
  }

  private interpret(name: ProviderName, { status, body, retryAfter }: Fetched): Omit<OnlineAnswer, 'provider' | 'cached' | 'fetched_at'> {
    if (status === 429) {
      const wait = Number(retryAfter);
      return { status: 'rate_limited', summary: `${name} says: too many requests`, ...(Number.isFinite(wait) && wait > 0 ? { retry_after_s: wait } : {}) };
    }
    if (status === 404) return { status: 'not_found', summary: `not known to ${name}` };
    if (status < 200 || status >= 300 || body === null || typeof body !== 'object') {
      const message = (body as { errors?: { detail?: string }[]; error?: { message?: string } } | undefined)?.errors?.[0]?.detail ?? (body as { error?: { message?: string } } | undefined)?.error?.message;
      return { status: 'error', error: `HTTP ${status}${message ? `: ${String(message).slice(0, 200)}` : ''}` };
    }
    switch (name) {
      case 'abuseipdb': {
        const d = ((body as { data?: Record<string, unknown> }).data ?? {}) as Record<string, unknown>;
        const score = typeof d.abuseConfidenceScore === 'number' ? d.abuseConfidenceScore : undefined;
        const data = pick(d, ['ipAddress', 'abuseConfidenceScore', 'totalReports', 'numDistinctUsers', 'lastReportedAt', 'countryCode', 'usageType', 'isp', 'domain', 'isTor', 'isWhitelisted']);
        return { status: 'found', ...(score !== undefined ? { score } : {}), summary: `abuse confidence ${score ?? '?'}%, ${fmt(d.totalReports)} reports from ${fmt(d.numDistinctUsers)} users`, data };
      }
      case 'virustotal': {
        const attributes = ((body as { data?: { attributes?: Record<string, unknown> } }).data?.attributes ?? {}) as Record<string, unknown>;
        const stats = (attributes.last_analysis_stats ?? {}) as Record<string, number>;
        const engines = Object.values(stats).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
        const malicious = stats.malicious ?? 0;
        const score = engines > 0 ? Math.round((100 * malicious) / engines) : undefined;
        const data = { ...pick(attributes, ['reputation', 'as_owner', 'asn', 'country', 'network', 'last_analysis_date', 'tags', 'meaningful_name', 'type_description']), last_analysis_stats: stats };
        return { status: 'found', ...(score !== undefined ? { score } : {}), summary: `${malicious} of ${engines} engines flag it malicious, ${stats.suspicious ?? 0} suspicious`, data };
      }
      case 'otx': {
        const b = body as Record<string, unknown>;
        const pulses = ((b.pulse_info as { count?: number; pulses?: { name?: string; id?: string; tags?: string[] }[] } | undefined) ?? {}) as { count?: number; pulses?: { name?: string; id?: string; tags?: string[] }[] };
        const count = pulses.count ?? pulses.pulses?.length ?? 0;
        const data = { ...pick(b, ['indicator', 'type', 'reputation', 'country_name', 'asn', 'whois']), pulse_count: count, pulses: (pulses.pulses ?? []).slice(0, 10).map((p) => ({ name: p.name, id: p.id, tags: p.tags })) };
        return { status: count > 0 ? 'found' : 'not_found', summary: count > 0 ? `in ${count} OTX pulses${pulses.pulses?.[0]?.name ? `, e.g. "${pulses.pulses[0].name}"` : ''}` : 'in no OTX pulse', data };
      }
    }
  }
}

function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (source[k] !== undefined && source[k] !== null) out[k] = source[k];
  return out;
}
