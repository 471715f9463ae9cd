// A stand-in for an Elasticsearch or OpenSearch cluster in tests: records every request exactly and answers `_bulk`
// as Elasticsearch documents it (https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html).
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type ItemAnswer = number | [number, string, string];
/** Answers each request: a whole-request status, or per-item statuses (`[status, error type, reason]` for errors). */
export type Answer = { status: number; headers?: Record<string, string> } | { items: ItemAnswer[] } | 'auto';

export async function fakeCluster(product: 'Elasticsearch' | null, answers: Answer[] = []) {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (product) headers['x-elastic-product'] = product;
      const answer = answers.shift() ?? 'auto';
      const actions = body.split('\n').filter((_, i) => i % 2 === 0 && _.length > 0).map((l) => JSON.parse(l) as Record<string, { _index: string; _id: string }>);
      if (answer !== 'auto' && 'status' in answer) {
        res.writeHead(answer.status, { ...headers, ...(answer.headers ?? {}) });
        res.end(JSON.stringify({ error: { type: 'cluster_block_exception', reason: 'unavailable' }, status: answer.status }));
        return;
      }
      const statuses = answer === 'auto' ? actions.map(() => 201) : answer.items;
      const items = actions.map((action, i) => {
        const op = Object.keys(action)[0]!;
        const s = statuses[i] ?? 201;
        const [status, type, reason] = Array.isArray(s) ? s : [s, 'error', 'error'];
        return { [op]: { _index: action[op]!._index, _id: action[op]!._id, status, ...(status < 300 ? { result: 'created', _version: 1 } : { error: { type, reason } }) } };
      });
      res.writeHead(200, headers);
      res.end(JSON.stringify({ took: 3, errors: items.some((it) => (Object.values(it)[0]!.status as number) >= 300), items }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, answers };
}

/** The NDJSON body as [action, document] pairs, after checking its framing. */
export function bulkPairs(body: string): [Record<string, unknown>, Record<string, unknown>][] {
  assert.ok(body.endsWith('\n'), 'the body ends with a newline');
  const lines = body.slice(0, -1).split('\n');
  assert.equal(lines.length % 2, 0);
  const out: [Record<string, unknown>, Record<string, unknown>][] = [];
  for (let i = 0; i < lines.length; i += 2) out.push([JSON.parse(lines[i]!) as Record<string, unknown>, JSON.parse(lines[i + 1]!) as Record<string, unknown>]);
  return out;
}

