// Elasticsearch-compatible ingest under /es, so Filebeat, Vector, Fluent Bit, Logstash and the official clients ship
// to Vigil unchanged: cluster info, `_bulk` with Elasticsearch's response shape and per-item errors, and the setup
// calls shippers make at start (license, templates, ILM) answered so they proceed.
// https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../../core/errors.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { isRawBody, splitLines } from '../body.js';
import { chargeEvents } from '../rate-limit.js';

/** The version Vigil reports; shippers compare it with their own, so it is a recent 8.x. */
export const ES_COMPAT_VERSION = '8.19.0';

const INDEX_NAME = /^[^\\/*?"<>| ,#:]{1,255}$/;
const ACTIONS = new Set(['index', 'create', 'update', 'delete']);

interface BulkItemResult {
  _index: string;
  _id: string;
  status: number;
  _version?: number;
  result?: string;
  _shards?: { total: number; successful: number; failed: number };
  _seq_no?: number;
  _primary_term?: number;
  error?: { type: string; reason: string };
}

interface ParsedAction {
  action: string;
  index: string;
  id?: string;
  /** Line number of the source line (or of the action line for delete). */
  line: number;
  source?: unknown;
  sourceText?: string;
  error?: { type: string; reason: string };
}

/** Reads the bulk body's action/source line pairs; a malformed action line fails the whole request, as in Elasticsearch. */
export function parseBulk(text: string, defaultIndex: string | undefined): ParsedAction[] {
  const lines = splitLines(text);
  const out: ParsedAction[] = [];
  for (let i = 0; i < lines.length; i++) {
    const { line, number } = lines[i]!;
    let meta: unknown;
    try {
      meta = JSON.parse(line);
    } catch {
      throw new VigilError('bad_json', `Malformed action/metadata line [${number}], expected START_OBJECT`, { location: `line ${number}` });
    }
    const keys = meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? Object.keys(meta) : [];
    const action = keys[0];
    if (keys.length !== 1 || action === undefined || !ACTIONS.has(action)) {
      throw new VigilError('bad_request', `Malformed action/metadata line [${number}], expected one of index, create, update, delete`, { location: `line ${number}` });
    }
    const params = (meta as Record<string, Record<string, unknown> | null>)[action] ?? {};
    const index = typeof params._index === 'string' ? params._index : defaultIndex;
    if (index === undefined) {
      throw new VigilError('bad_request', `Validation Failed: 1: index is missing (line ${number})`, { location: `line ${number}` });
    }
    const id = typeof params._id === 'string' ? params._id : typeof params._id === 'number' ? String(params._id) : undefined;
    const item: ParsedAction = { action, index, line: number, ...(id !== undefined ? { id } : {}) };
    if (action !== 'delete') {
      const next = lines[i + 1];
      i++;
      if (next === undefined) throw new VigilError('bad_request', `The bulk request must be terminated by a newline [\\n]; the ${action} on line ${number} has no source`, { location: `line ${number}` });
      item.line = next.number;
      item.sourceText = next.line;
      try {
        item.source = JSON.parse(next.line);
      } catch (err) {
        item.error = { type: 'document_parsing_exception', reason: `[1:1] failed to parse: ${(err as Error).message.slice(0, 200)}` };
      }
    }
    if (action === 'update' || action === 'delete') {
      item.error = { type: 'action_request_validation_exception', reason: `Vigil stores events append-only: ${action} is not supported` };
    }
    if (!item.error && !INDEX_NAME.test(index)) {
      item.error = { type: 'invalid_index_name_exception', reason: `Invalid index name [${index.slice(0, 64)}]` };
    }
    out.push(item);
  }
  return out;
}

export function registerEsRoutes(app: FastifyInstance, deps: { pipeline: Pipeline }): void {
  const { pipeline } = deps;
  const clusterUuid = createHash('sha256').update('vigil').digest('base64url').slice(0, 22);

  // Elasticsearch clients refuse a server that does not say it is Elasticsearch (product check, clients ≥ 7.14).
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url === '/es' || request.url.startsWith('/es/') || request.url.startsWith('/es?')) {
      void reply.header('x-elastic-product', 'Elasticsearch');
    }
    return payload;
  });

  const info = async () => ({
    name: 'vigil',
    cluster_name: 'vigil',
    cluster_uuid: clusterUuid,
    version: {
      number: ES_COMPAT_VERSION,
      build_flavor: 'default',
      build_type: 'tar',
      build_hash: 'vigil',
      build_date: '2025-01-01T00:00:00.000Z',
      build_snapshot: false,
      lucene_version: '9.12.0',
      minimum_wire_compatibility_version: '7.17.0',
      minimum_index_compatibility_version: '7.0.0',
    },
    tagline: 'You Know, for Search',
  });
  // Fastify answers HEAD for every GET route, which is what clients use as a ping.
  for (const url of ['/es', '/es/']) app.get(url, { config: { access: 'ingest' }, schema: { hide: true } }, info);
  app.get('/es/_license', { config: { access: 'ingest' }, schema: { hide: true } }, async () => ({
    license: { status: 'active', uid: clusterUuid, type: 'basic', issue_date_in_millis: 0, max_nodes: 1000, issued_to: 'vigil', issuer: 'vigil', start_date_in_millis: -1 },
  }));
  app.get('/es/_xpack', { config: { access: 'ingest' }, schema: { hide: true } }, async () => ({
    build: { hash: 'vigil', date: '2025-01-01T00:00:00.000Z' },
    license: { uid: clusterUuid, type: 'basic', mode: 'basic', status: 'active' },
    features: {},
  }));
  // Shippers install templates, pipelines and policies at start. Vigil keeps its own schema, so these are
  // acknowledged (PUT) and reported absent (GET/HEAD), which is what lets each shipper go on to send data.
  for (const kind of ['_index_template', '_template', '_component_template', '_ilm/policy', '_ingest/pipeline', '_data_stream']) {
    app.put(`/es/${kind}/:name`, { config: { access: 'ingest' }, schema: { hide: true } }, async () => ({ acknowledged: true }));
    app.get(`/es/${kind}/:name`, { config: { access: 'ingest' }, schema: { hide: true } }, async (_req, reply) =>
      reply.code(404).send({ error: { root_cause: [], type: 'resource_not_found_exception', reason: `${kind} not found` }, status: 404 }),
    );
  }

  const bulk = async (index: string | undefined, request: FastifyRequest) => {
    const body = request.body;
    const peer = request.ip;
    if (!isRawBody(body)) throw new VigilError('unsupported_media_type', 'send the bulk body as application/x-ndjson');
    const started = performance.now();
    const actions = parseBulk(body.text, index);
    chargeEvents(request, actions.length);
    const toStore = actions.filter((a) => a.error === undefined);
    const docs = toStore.map((a) => {
      const source = a.source;
      if (a.id !== undefined && source !== null && typeof source === 'object' && !Array.isArray(source)) {
        const doc = source as Record<string, unknown>;
        const event = (doc.event ?? {}) as Record<string, unknown>;
        if (event.id === undefined && doc['event.id'] === undefined) return { ...doc, event: { ...event, id: a.id } };
      }
      return source;
    });
    // Items of different indices land in one pipeline call; the index names the dataset when a document has none.
    const byIndex = new Map<string, number[]>();
    toStore.forEach((a, i) => {
      const list = byIndex.get(a.index) ?? [];
      list.push(i);
      byIndex.set(a.index, list);
    });
    const results = new Map<ParsedAction, BulkItemResult>();
    let seq = 0;
    for (const [indexName, positions] of byIndex) {
      const result = await pipeline.ingestDocuments(
        positions.map((p) => docs[p]),
        { input: 'es_bulk', peer, defaultDataset: indexName, originals: positions.map((p) => toStore[p]!.sourceText) } as Parameters<Pipeline['ingestDocuments']>[1],
      );
      const errorsByIndex = new Map(result.errors.map((e) => [e.index, e.reason]));
      positions.forEach((p, k) => {
        const action = toStore[p]!;
        const reason = errorsByIndex.get(k);
        results.set(
          action,
          reason === undefined
            ? {
                _index: indexName,
                _id: result.ids[k] ?? '',
                _version: 1,
                result: 'created',
                _shards: { total: 1, successful: 1, failed: 0 },
                _seq_no: seq++,
                _primary_term: 1,
                status: 201,
              }
            : { _index: indexName, _id: action.id ?? '', status: 400, error: { type: 'document_parsing_exception', reason } },
        );
      });
    }
    let errors = false;
    const items = actions.map((a) => {
      const result = results.get(a) ?? { _index: a.index, _id: a.id ?? '', status: 400, error: a.error! };
      if (result.error) errors = true;
      return { [a.action]: result };
    });
    return { took: Math.round(performance.now() - started), errors, items };
  };

  const schema = { hide: true } as const;
  for (const method of ['POST', 'PUT'] as const) {
    app.route({ method, url: '/es/_bulk', config: { access: 'ingest' }, schema, handler: async (request) => bulk(undefined, request) });
    app.route<{ Params: { index: string } }>({
      method,
      url: '/es/:index/_bulk',
      config: { access: 'ingest' },
      schema,
      handler: async (request) => bulk(request.params.index, request),
    });
  }
}
