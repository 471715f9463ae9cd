// Per-client rate limits on the HTTP API: a token bucket per client (its token or user; its address, an IPv6 /64,
// when it has no credential), one budget in requests for the API and one in events for the ingest routes. Over it a
// client gets 429 `rate_limited` with Retry-After (RFC 9110 §10.2.3) and the RateLimit-* fields of the IETF draft
// (draft-ietf-httpapi-ratelimit-headers-07), and nothing of the request is read or stored.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { VigilError } from '../core/errors.js';
import type { Telemetry } from '../core/telemetry.js';
import { TokenBuckets, type RateLimit, type TokenBucket } from '../core/token-bucket.js';
import { addressKey } from '../core/ip.js';
import { PAGE_PATHS } from './ui/routes.js';

export interface HttpRateLimits {
  /** Requests per second per client on every route but ingest, health and the dashboard's files. */
  api: RateLimit;
  /** Events per second per client on the ingest routes (`access: 'ingest'`). */
  ingest: RateLimit;
}

export type RouteKind = 'api' | 'ingest';

/** The limits from the `limits` block of the configuration. */
export function httpRateLimits(config: { api: { requests_per_second: number; burst: number }; ingest: { events_per_second: number; burst: number } }): HttpRateLimits {
  return {
    api: { rate: config.api.requests_per_second, burst: config.api.burst },
    ingest: { rate: config.ingest.events_per_second, burst: config.ingest.burst },
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The ingest bucket this request was admitted on, charged with its events by the route (`chargeEvents`). */
    ingestBucket?: TokenBucket;
  }
}

/** Health must answer whoever asks (load balancers, monitors), and the dashboard's page and files cost nothing. */
const EXEMPT_GET = new Set(['/api/v1/health', '/assets/:name', ...PAGE_PATHS]);

function exempt(request: FastifyRequest): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && EXEMPT_GET.has(request.routeOptions.url ?? '');
}

function limitedCounter(telemetry: Telemetry): Counter<'route_kind'> {
  const name = 'vigil_requests_limited_total';
  const existing = telemetry.registry.getSingleMetric(name);
  if (existing) return existing as Counter<'route_kind'>;
  return new Counter({ name, help: 'HTTP requests refused because their client was over its rate limit, by route kind (api, ingest).', labelNames: ['route_kind'], registers: [telemetry.registry] });
}

/** The key of a request's own budget: the credential it authenticated with, else its address. */
function clientKey(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal === undefined) return `address:${addressKey(request.ip)}`;
  return `${principal.kind}:${principal.id ?? principal.name}`;
}

/**
 * Registers the limits; call it before `registerAuth` and `registerBodies`. Authenticated requests are checked by
 * their credential once authentication is done (preParsing, before the body is read). Requests without one are
 * limited by address: routes open to all (login) take from it at once; a request that fails authentication is
 * charged to it afterwards, and an address over its budget is refused before authenticating anything.
 */
export function registerRateLimits(app: FastifyInstance, limits: HttpRateLimits, telemetry: Telemetry): void {
  const now = (): number => performance.now();
  const buckets: Record<RouteKind, TokenBuckets> = { api: new TokenBuckets(limits.api), ingest: new TokenBuckets(limits.ingest) };
  const limited = limitedCounter(telemetry);
  const charged = new WeakSet<FastifyRequest>();

  const admit = (request: FastifyRequest, reply: FastifyReply, kind: RouteKind, key: string): void => {
    const limit = limits[kind];
    if (limit.rate <= 0) return;
    const t = now();
    const bucket = buckets[kind].get(key, t);
    charged.add(request);
    const ok = bucket.tryTake(1, t);
    void reply.header('RateLimit-Limit', String(limit.burst));
    void reply.header('RateLimit-Remaining', String(bucket.remaining(t)));
    void reply.header('RateLimit-Reset', String(Math.ceil(bucket.fullInMs(t) / 1000)));
    if (!ok) refuse(kind, limit, bucket.waitMs(1, t));
    if (kind === 'ingest') request.ingestBucket = bucket;
  };

  const refuse = (kind: RouteKind, limit: RateLimit, waitMs: number): never => {
    limited.inc({ route_kind: kind });
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    const unit = kind === 'ingest' ? 'events' : 'requests';
    throw new VigilError('rate_limited', `this client is over its limit of ${limit.rate} ${unit} a second: retry after ${retryAfter} s, or send less at once`, { retryAfter });
  };

  app.addHook('onRequest', async (request, reply) => {
    if (exempt(request)) return;
    const key = `address:${addressKey(request.ip)}`;
    if (request.routeOptions.config.access === 'public') {
      admit(request, reply, 'api', key);
      return;
    }
    if (limits.api.rate <= 0) return;
    const t = now();
    const anonymous = buckets.api.peek(key);
    if (anonymous !== undefined && anonymous.waitMs(1, t) > 0) refuse('api', limits.api, anonymous.waitMs(1, t));
  });

  app.addHook('preParsing', async (request, reply, payload) => {
    if (request.principal === undefined || charged.has(request) || exempt(request)) return payload;
    admit(request, reply, request.routeOptions.config.access === 'ingest' ? 'ingest' : 'api', clientKey(request));
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    // A request that did not authenticate spends its address's budget, whatever credential it made up.
    if (reply.statusCode !== 401 || request.principal !== undefined || charged.has(request) || limits.api.rate <= 0 || exempt(request)) return;
    const t = now();
    buckets.api.get(`address:${addressKey(request.ip)}`, t).charge(1, t);
  });
}

/**
 * Charges an ingest request with the events it carries (its admission took one); the client's bucket may go into
 * debt, so that a batch larger than the burst is taken and the client's next requests wait until it is repaid.
 */
export function chargeEvents(request: FastifyRequest, events: number): void {
  if (events > 1) request.ingestBucket?.charge(events - 1, performance.now());
}
