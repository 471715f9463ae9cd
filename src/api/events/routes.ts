// /api/v1/events: ingest (JSON, NDJSON, raw lines), search with cursor paging and NDJSON/CSV export, histogram and top values.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../core/clock.js';
import { getField, type EcsEvent } from '../../core/event.js';
import { VigilError } from '../../core/errors.js';
import type { IngestResult } from '../../core/ingest.js';
import { parseDuration, parseTime } from '../../core/time.js';
import { isFormat } from '../../parsers/index.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { parseQuery } from '../../store/query/parse.js';
import type { EventStore, TimeBounds } from '../../store/types.js';
import { isRawBody, readJsonItems, splitLines } from '../body.js';
import { chargeEvents } from '../rate-limit.js';

export interface EventRoutesDeps {
  pipeline: Pipeline;
  store: EventStore;
  clock: Clock;
}

const MAX_PAGE = 10_000;
const MAX_EXPORT = 1_000_000;
const DEFAULT_CSV_FIELDS = ['@timestamp', 'event.dataset', 'host.name', 'source.ip', 'user.name', 'event.action', 'event.outcome', 'message'];

const timeQuery = {
  q: { type: 'string', description: 'Query (Lucene/KQL style): field:value, "phrases", wildcards, AND/OR/NOT, ranges, CIDR, free text.' },
  from: { type: 'string', description: 'Inclusive start: ISO 8601, epoch ms or now-15m.' },
  to: { type: 'string', description: 'Exclusive end: ISO 8601, epoch ms or now.' },
} as const;

interface TimeQuery {
  q?: string;
  from?: string;
  to?: string;
}

function bounds(query: TimeQuery, now: number): TimeBounds {
  const out: TimeBounds = {};
  if (query.from) out.from = parseTime(query.from, now, 'from');
  if (query.to) out.to = parseTime(query.to, now, 'to');
  if (out.from !== undefined && out.to !== undefined && out.from >= out.to) {
    throw new VigilError('bad_request', '"from" must be before "to"');
  }
  return out;
}

function parseLimit(text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new VigilError('bad_request', `limit must be an integer from 1 to ${max}`);
  return n;
}

/** A CSV cell (RFC 4180), with spreadsheet formula injection neutralised (OWASP "CSV injection"). */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'string' ? value : Array.isArray(value) ? value.join(' ') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function ingestResponse(result: IngestResult): object {
  const body: Record<string, unknown> = { accepted: result.accepted, rejected: result.rejected, errors: result.errors };
  if (result.datasets) body.datasets = result.datasets;
  if (result.unparsed !== undefined) body.unparsed = result.unparsed;
  if (result.duplicates) body.duplicates = result.duplicates;
  body.ids = result.ids;
  return body;
}

export function registerEventRoutes(app: FastifyInstance, deps: EventRoutesDeps): void {
  registerEventIngestRoute(app, deps);
  registerEventSearchRoutes(app, deps);
}

/** POST /api/v1/events alone: what a bus deployment's ingest role serves (src/pipeline/roles.ts). */
export function registerEventIngestRoute(app: FastifyInstance, deps: Pick<EventRoutesDeps, 'pipeline'>): void {
  const { pipeline } = deps;
  app.post<{ Querystring: { format?: string; host?: string } }>(
    '/api/v1/events',
    {
      config: { access: 'ingest' },
      schema: {
        summary: 'Ingest events: a JSON object, a JSON array or NDJSON of ECS events, or raw log lines as text/plain.',
        querystring: {
          type: 'object',
          properties: {
            format: { type: 'string', description: 'Parser for text/plain lines: auto (default), syslog, sshd, nginx, apache, json.' },
            host: { type: 'string', description: 'host.name for events that name none.' },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (!isRawBody(body)) {
        throw new VigilError('unsupported_media_type', 'send application/json, application/x-ndjson or text/plain');
      }
      const peer = request.ip;
      const hostName = request.query.host;
      let result: IngestResult;
      if (body.kind === 'text') {
        const format = request.query.format ?? 'auto';
        if (!isFormat(format)) throw new VigilError('bad_request', `unknown format "${format.slice(0, 32)}": use auto, syslog, sshd, nginx, apache or json`);
        const lines = splitLines(body.text).map((l) => l.line);
        if (lines.length === 0) throw new VigilError('bad_request', 'the body has no lines');
        chargeEvents(request, lines.length);
        result = await pipeline.ingestLines(lines, { format, input: 'http', peer, ...(hostName ? { hostName } : {}) });
      } else {
        const { items, originals } = readJsonItems(body);
        chargeEvents(request, items.length);
        result = await pipeline.ingestDocuments(items, { input: 'http', peer, originals, ...(hostName ? { hostName } : {}) });
        if (result.accepted === 0 && result.rejected > 0) {
          const first = result.errors[0]!;
          void reply.code(400);
          return { error: { id: 'bad_request', message: `no event accepted: item ${first.index}: ${first.reason}` }, ...ingestResponse(result) };
        }
      }
      return ingestResponse(result);
    },
  );
}

function registerEventSearchRoutes(app: FastifyInstance, deps: EventRoutesDeps): void {
  const { store, clock } = deps;
  app.get<{ Querystring: TimeQuery & { limit?: string; cursor?: string; format?: string; fields?: string } }>(
    '/api/v1/events',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Search events, newest first, with cursor paging; format=ndjson or csv exports every match up to limit.',
        querystring: {
          type: 'object',
          properties: {
            ...timeQuery,
            limit: { type: 'string', description: `Events per page (default 100, at most ${MAX_PAGE}); for exports the total (default ${MAX_PAGE}, at most ${MAX_EXPORT}).` },
            cursor: { type: 'string', description: 'The `next` value of the previous page.' },
            format: { type: 'string', enum: ['json', 'ndjson', 'csv'] },
            fields: { type: 'string', description: 'CSV columns, comma-separated ECS field names.' },
          },
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const now = clock.now();
      const query = parseQuery(q.q ?? '');
      const time = bounds(q, now);
      const format = q.format ?? 'json';
      if (format === 'json') {
        const limit = parseLimit(q.limit, 100, MAX_PAGE);
        return store.search({ query, limit, ...time, ...(q.cursor ? { cursor: q.cursor } : {}) });
      }
      const total = parseLimit(q.limit, MAX_PAGE, MAX_EXPORT);
      const fields = q.fields ? q.fields.split(',').map((f) => f.trim()).filter((f) => f.length > 0) : DEFAULT_CSV_FIELDS;
      const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
      void reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="vigil-events-${stamp}.${format}"`);
      const render = (e: EcsEvent): string =>
        format === 'csv' ? fields.map((f) => csvCell(getField(e as unknown as Record<string, unknown>, f))).join(',') + '\r\n' : JSON.stringify(e) + '\n';
      // Pages are fetched one after another and written as they come, so an export never sits whole in memory.
      async function* pages(): AsyncGenerator<string> {
        if (format === 'csv') yield fields.map(csvCell).join(',') + '\r\n';
        let cursor: string | undefined = q.cursor;
        let sent = 0;
        while (sent < total) {
          const page = await store.search({ query, limit: Math.min(MAX_PAGE, total - sent), ...time, ...(cursor ? { cursor } : {}) });
          if (page.events.length === 0) break;
          yield page.events.map(render).join('');
          sent += page.events.length;
          if (!page.next) break;
          cursor = page.next;
        }
      }
      return reply.send(Readable.from(pages()));
    },
  );

  app.get<{ Querystring: TimeQuery & { interval?: string; buckets?: string; by?: string; size?: string } }>(
    '/api/v1/events/histogram',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Events over time in fixed-width buckets (empty buckets included), optionally split by the most frequent values of a field.',
        querystring: {
          type: 'object',
          properties: {
            ...timeQuery,
            interval: { type: 'string', description: 'Bucket width: 30s, 5m, 1h … (default: about `buckets` buckets).' },
            buckets: { type: 'string' },
            by: { type: 'string', description: 'Split each bucket by this field (e.g. event.dataset): `by.values` and per-bucket `counts`.' },
            size: { type: 'string', description: 'With `by`: how many of its most frequent values (default 10, at most 50).' },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const query = parseQuery(q.q ?? '');
      const time = bounds(q, clock.now());
      const request_ = { query, ...time } as Parameters<EventStore['histogram']>[0];
      if (q.interval) request_.interval = parseDuration(q.interval, 'interval');
      if (q.buckets) request_.buckets = parseLimit(q.buckets, 60, 1000);
      if (request_.interval !== undefined && request_.interval < 1000) throw new VigilError('bad_request', 'interval must be at least 1s');
      if (q.by !== undefined) {
        if (!/^[A-Za-z0-9_@.\-]{1,128}$/.test(q.by)) throw new VigilError('bad_request', 'by must be an ECS field name such as event.dataset');
        request_.by = { field: q.by, size: parseLimit(q.size, 10, 50) };
      }
      return store.histogram(request_);
    },
  );

  app.get<{ Querystring: TimeQuery & { field?: string; size?: string } }>(
    '/api/v1/events/top',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'The most frequent values of a field, with counts.',
        querystring: { type: 'object', required: ['field'], properties: { ...timeQuery, field: { type: 'string' }, size: { type: 'string', description: 'How many values (default 10, at most 1000).' } } },
      },
    },
    async (request) => {
      const q = request.query;
      if (!q.field || !/^[A-Za-z0-9_@.\-]{1,128}$/.test(q.field)) throw new VigilError('bad_request', 'field must be an ECS field name such as source.ip');
      const query = parseQuery(q.q ?? '');
      return store.top({ query, field: q.field, size: parseLimit(q.size, 10, 1000), ...bounds(q, clock.now()) });
    },
  );
}
