// The cluster side of export: the official clients, one per kind. Elasticsearch's client (`@elastic/elasticsearch`
// 8.x) refuses any server that does not answer `X-Elastic-Product: Elasticsearch`, so OpenSearch clusters get
// OpenSearch's own client (`@opensearch-project/opensearch`). Both send `_bulk` as `application/x-ndjson`.
import { readFileSync } from 'node:fs';
import { Client as EsClient } from '@elastic/elasticsearch';
import { Client as OsClient } from '@opensearch-project/opensearch';
import type { ExportTargetConfig } from '../../config/export.js';
import { resolveSecret } from '../../config/secrets.js';
import { errorMessage } from '../../core/errors.js';

export interface BulkAnswer {
  /** HTTP status, or 0 when no answer came (refused, reset, timed out). */
  status: number;
  body: unknown;
  error?: string;
  retryAfter?: string;
}

export interface BulkClient {
  /** POSTs an NDJSON body to `/_bulk`; never throws. */
  bulk(ndjson: string): Promise<BulkAnswer>;
  close(): Promise<void>;
}

/** Every HTTP error status, so that the clients answer them instead of throwing: export classifies them itself. */
const ALL_ERRORS = Array.from({ length: 200 }, (_, i) => 400 + i);
const NDJSON_HEADERS = { 'content-type': 'application/x-ndjson', accept: 'application/json' };

function secrets(config: ExportTargetConfig, env: NodeJS.ProcessEnv) {
  const where = `export.${config.name}`;
  return {
    password: resolveSecret(config as unknown as Record<string, unknown>, 'password', where, env),
    apiKey: resolveSecret(config as unknown as Record<string, unknown>, 'api_key', where, env),
  };
}

export function createBulkClient(config: ExportTargetConfig, env: NodeJS.ProcessEnv = process.env): BulkClient {
  const { password, apiKey } = secrets(config, env);
  const ca = config.ca ? readFileSync(config.ca, 'utf8') : undefined;
  if (config.kind === 'opensearch') {
    const client = new OsClient({
      nodes: config.urls,
      requestTimeout: config.request_timeout_ms,
      maxRetries: 0,
      ...(config.username ? { auth: { username: config.username, password: password ?? '' } } : {}),
      ...(apiKey ? { headers: { authorization: `ApiKey ${apiKey}` } } : {}),
      ...(ca ? { ssl: { ca } } : {}),
    });
    return {
      async bulk(ndjson) {
        try {
          const res = await client.transport.request({ method: 'POST', path: '/_bulk', bulkBody: ndjson }, { ignore: ALL_ERRORS, maxRetries: 0, headers: NDJSON_HEADERS });
          const retryAfter = res.headers?.['retry-after'];
          return { status: res.statusCode ?? 0, body: res.body, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
        } catch (err) {
          return { status: 0, body: undefined, error: errorMessage(err) };
        }
      },
      close: () => client.close(),
    };
  }
  const client = new EsClient({
    nodes: config.urls,
    requestTimeout: config.request_timeout_ms,
    maxRetries: 0,
    compression: false,
    ...(apiKey ? { auth: { apiKey } } : config.username ? { auth: { username: config.username, password: password ?? '' } } : {}),
    ...(ca ? { tls: { ca } } : {}),
  });
  return {
    async bulk(ndjson) {
      try {
        // Plain media types rather than the 8.x client's `compatible-with=8` ones: they work with 7.x, 8.x and 9.x.
        const res = await client.transport.request({ method: 'POST', path: '/_bulk', bulkBody: ndjson }, { ignore: ALL_ERRORS, maxRetries: 0, headers: NDJSON_HEADERS, meta: true });
        const retryAfter = res.headers?.['retry-after'];
        return { status: res.statusCode ?? 0, body: res.body, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
      } catch (err) {
        return { status: 0, body: undefined, error: errorMessage(err) };
      }
    },
    close: () => client.close(),
  };
}
