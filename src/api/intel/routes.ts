// Threat intelligence over HTTP: the feeds with their age and counts, a refresh, and everything known about one
// indicator (feeds, GeoIP, online services, the latest events carrying it).
import type { FastifyInstance } from 'fastify';
import { VigilError } from '../../core/errors.js';
import { indicatorQuery, type Enrichment } from '../../enrich/index.js';
import type { EventStore } from '../../store/types.js';
import { audited } from '../audit.js';
import type { AuditSink } from '../../audit/trail.js';

export interface IntelRoutesDeps {
  enrichment: Enrichment;
  store: EventStore;
  audit?: AuditSink;
}

export function registerIntelRoutes(app: FastifyInstance, deps: IntelRoutesDeps): void {
  const { enrichment, store } = deps;

  app.get('/api/v1/intel/feeds', { config: { access: 'viewer' }, schema: { summary: 'Threat intelligence feeds: source, indicators by kind, age, last error.' } }, async () => ({
    feeds: enrichment.feedStatus(),
    indicators: enrichment.feeds.index.size,
    online: enrichment.online.configured,
  }));

  app.post<{ Querystring: { feed?: string } }>(
    '/api/v1/intel/feeds/refresh',
    { config: { access: 'admin' }, schema: { summary: 'Reads the feeds (or `?feed=NAME`) again now; answers their status.' } },
    async (request) => {
      const names = request.query.feed ? [request.query.feed] : undefined;
      if (names && !enrichment.feeds.configs.some((f) => f.name === names[0])) throw new VigilError('not_found', `no feed named ${names[0]!.slice(0, 100)}`);
      const which = names ? `feed ${names[0]!.slice(0, 100)}` : 'every feed';
      await audited(
        deps.audit,
        request,
        { action: 'feeds-refreshed', category: 'configuration', type: ['change'], target: { kind: 'feed', id: names?.[0]?.slice(0, 100) ?? '*' }, message: `${request.principal?.name ?? 'unknown'} refreshed ${which}` },
        () => enrichment.feeds.refresh(names),
      );
      return { feeds: enrichment.feedStatus() };
    },
  );

  app.get<{ Querystring: { value?: string; online?: string; events?: string } }>(
    '/api/v1/intel/lookup',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Everything known about an IP, CIDR block, domain, URL or file hash: feeds listing it, GeoIP, online services, recent events.',
        querystring: {
          type: 'object',
          properties: {
            value: { type: 'string' },
            online: { type: 'string', description: '`false` skips AbuseIPDB, VirusTotal and OTX.' },
            events: { type: 'string', description: 'How many recent events to include (default 10, at most 100).' },
          },
          required: ['value'],
        },
      },
    },
    async (request) => {
      const { value, online, events } = request.query;
      if (!value) throw new VigilError('bad_request', 'value is required: an IP, CIDR block, domain, URL or file hash');
      const limit = events === undefined ? 10 : Number(events);
      if (!Number.isInteger(limit) || limit < 0 || limit > 100) throw new VigilError('bad_request', 'events must be a whole number from 0 to 100');
      const report = await enrichment.lookup(value, { online: online !== 'false' });
      const found = await store.search({ query: indicatorQuery(report.kind, report.value), limit });
      return { ...report, events: { total: found.total, events: found.events } };
    },
  );
}
