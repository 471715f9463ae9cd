// Request bodies for ingestion: gzip/deflate decoding (shippers compress), the accepted media types, and JSON / NDJSON
// reading that names the line of a syntax error.
import { createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { VigilError } from '../core/errors.js';

export type BodyKind = 'json' | 'ndjson' | 'text';

/** The body as received, decoded to text, with the kind its Content-Type named. */
export interface RawBody {
  kind: BodyKind;
  text: string;
}

const MEDIA_TYPES: Record<string, BodyKind> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
  'text/plain': 'text',
  // What the official Elasticsearch clients send in compatibility mode.
  'application/vnd.elasticsearch+json': 'json',
  'application/vnd.elasticsearch+x-ndjson': 'ndjson',
};

export function isRawBody(body: unknown): body is RawBody {
  return typeof body === 'object' && body !== null && 'kind' in body && 'text' in body;
}

/** Registers the parsers (bodies stay text until a route reads them) and transparent decompression. */
export function registerBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  for (const [type, kind] of Object.entries(MEDIA_TYPES)) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_request, text, done) => {
      done(null, { kind, text: text as string } satisfies RawBody);
    });
  }
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'identity' || encoding === '') return payload;
    let decoder: Transform;
    if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip();
    else if (encoding === 'deflate') decoder = createInflate();
    else throw new VigilError('unsupported_media_type', `Content-Encoding ${encoding} is not supported: send gzip, deflate or none`);
    // Fastify compares Content-Length with what the source delivered, and the decoded size with the body limit.
    let encodedLength = 0;
    const tracked = decoder as Transform & { receivedEncodedLength: number };
    tracked.receivedEncodedLength = 0;
    payload.on('data', (chunk: Buffer) => {
      encodedLength += chunk.length;
      tracked.receivedEncodedLength = encodedLength;
    });
    payload.on('error', (err) => decoder.destroy(err));
    decoder.on('error', () => undefined);
    return payload.pipe(decoder);
  });
}

/** Splits text into lines (LF or CRLF), dropping empty ones but keeping each line's number (from 1). */
export function splitLines(text: string): { line: string; number: number }[] {
  const out: { line: string; number: number }[] = [];
  let start = 0;
  let number = 1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > 0) out.push({ line, number });
    start = end + 1;
    number++;
  }
  return out;
}

function syntaxError(err: unknown, where: string): VigilError {
  const reason = err instanceof Error ? err.message : String(err);
  return new VigilError('bad_json', `malformed JSON: ${reason.slice(0, 200)}`, { location: where });
}

/**
 * Reads JSON items from a body: an object, an array of objects, or NDJSON (also accepted under
 * `application/json`, as many shippers send it). A syntax error rejects the whole body, naming the line.
 */
export function readJsonItems(body: RawBody): { items: unknown[]; originals: string[] } {
  const text = body.text;
  if (body.kind === 'json') {
    const trimmed = text.trim();
    if (trimmed.length === 0) throw new VigilError('bad_json', 'the body is empty: send a JSON object, an array or NDJSON');
    try {
      const value: unknown = JSON.parse(trimmed);
      if (Array.isArray(value)) return { items: value, originals: value.map((v) => JSON.stringify(v)) };
      return { items: [value], originals: [trimmed] };
    } catch (err) {
      if (!trimmed.includes('\n')) throw syntaxError(err, 'line 1');
      // Fall through: NDJSON sent as application/json.
    }
  }
  const items: unknown[] = [];
  const originals: string[] = [];
  for (const { line, number } of splitLines(text)) {
    if (line.trim().length === 0) continue;
    try {
      items.push(JSON.parse(line));
      originals.push(line);
    } catch (err) {
      throw syntaxError(err, `line ${number}`);
    }
  }
  if (items.length === 0) throw new VigilError('bad_json', 'the body is empty: send a JSON object, an array or NDJSON');
  return { items, originals };
}

/**
 * A JSON object body checked against a zod schema (bodies reach routes as text, see registerBodies): a syntax
 * error or a wrong field is a 400 naming the field.
 */
export function readJsonBody<T>(body: unknown, schema: z.ZodType<T>): T {
  if (!isRawBody(body) || body.kind === 'text') throw new VigilError('unsupported_media_type', 'send a JSON body with Content-Type: application/json');
  let value: unknown;
  try {
    value = JSON.parse(body.text);
  } catch (err) {
    throw syntaxError(err, 'line 1');
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : 'the body';
  throw new VigilError('bad_request', `${field}: ${issue.message}`);
}
