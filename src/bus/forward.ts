// The api role's requests about what the store role owns (alerts, incidents, suppressions, rules, models, hosts,
// intelligence …), over NATS request/reply: the api role authenticates the caller and forwards the request with
// who it is; the store role runs it through its own HTTP app (Fastify `inject`, no socket), so every route, check,
// audit record and error is the single process's, and the alerts keep one writer.
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { headers as natsHeaders, type Msg, type MsgHdrs, type Subscription } from '@nats-io/transport-node';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Principal } from '../api/auth/credentials.js';
import { isRawBody } from '../api/body.js';
import { VigilError, errorMessage } from '../core/errors.js';
import { SERVICES, type Bus } from './connection.js';

/** Requests and answers over this size travel gzipped (NATS refuses messages over the server's max_payload). */
const COMPRESS_OVER = 64 * 1024;
/** An answer comes as soon as the store role has it; a model retraining may take minutes (bus/control.ts). */
const FORWARD_TIMEOUT_MS = 11 * 60_000;
/** The headers of an answer that travel back; the api role's own server adds the security headers. */
const ANSWER_HEADERS = ['content-type', 'content-disposition', 'retry-after', 'www-authenticate', 'location'] as const;
/** The header carrying the per-process secret that marks a request as forwarded (registerAuth). */
export const FORWARDED_HEADER = 'x-vigil-forwarded';
export const PRINCIPAL_HEADER = 'x-vigil-principal';

const CONTENT_TYPES = { json: 'application/json', ndjson: 'application/x-ndjson', text: 'text/plain' } as const;

/** A secret known only to this process, which the store role's app accepts as "forwarded, already authenticated". */
export function forwardSecret(): string {
  return randomBytes(32).toString('base64url');
}

function pack(body: Buffer, h: MsgHdrs): Buffer {
  if (body.length <= COMPRESS_OVER) return body;
  h.set('Content-Encoding', 'gzip');
  return gzipSync(body);
}

function unpack(msg: Msg): Buffer {
  const data = Buffer.from(msg.data);
  return msg.headers?.get('Content-Encoding') === 'gzip' ? gunzipSync(data) : data;
}

/** The store role's side: answers forwarded requests with its app. Several store processes share the work. */
export class ApiService {
  private readonly subscription: Subscription;

  constructor(
    private readonly bus: Bus,
    private readonly app: FastifyInstance,
    private readonly secret: string,
    private readonly log: (line: string) => void = (line) => console.error(line),
  ) {
    this.subscription = bus.nc.subscribe(SERVICES.api, { queue: 'vigil-store', callback: (err, msg) => (err ? undefined : void this.answer(msg)) });
  }

  private async answer(msg: Msg): Promise<void> {
    const out = natsHeaders();
    let body: Buffer;
    try {
      const h = msg.headers;
      const method = h?.get('Vigil-Method') ?? '';
      const url = h?.get('Vigil-Url') ?? '';
      const principal = h?.get('Vigil-Principal') ?? '';
      if (!/^(GET|POST|PUT|PATCH|DELETE)$/.test(method) || !url.startsWith('/api/') || principal === '') throw new VigilError('bad_request', 'a forwarded request needs a method, a URL under /api/ and a principal');
      const payload = unpack(msg);
      const requestHeaders: Record<string, string> = { [FORWARDED_HEADER]: this.secret, [PRINCIPAL_HEADER]: principal };
      const type = h?.get('Content-Type');
      if (type) requestHeaders['content-type'] = type;
      const response = await this.app.inject({
        method: method as HTTPMethods,
        url,
        headers: requestHeaders,
        ...(payload.length > 0 ? { payload } : {}),
        remoteAddress: h?.get('Vigil-Ip') || '127.0.0.1',
      });
      out.set('Vigil-Status', String(response.statusCode));
      for (const name of ANSWER_HEADERS) {
        const value = response.headers[name];
        if (value !== undefined) out.set(name, String(value));
      }
      body = response.rawPayload;
    } catch (err) {
      const error = err instanceof VigilError ? err : new VigilError('internal', 'internal error', { cause: err });
      if (error.id === 'internal') this.log(`vigil: forwarded request failed: ${errorMessage(err)}`);
      out.set('Vigil-Status', String(error.status));
      out.set('content-type', 'application/json; charset=utf-8');
      body = Buffer.from(JSON.stringify(error.toJSON()));
    }
    const data = pack(body, out);
    if (data.length > this.bus.maxPayload) {
      const error = new VigilError('too_large', 'the answer is too large to pass between Vigil processes: ask for fewer items (limit) or a narrower range');
      const small = natsHeaders();
      small.set('Vigil-Status', String(error.status));
      small.set('content-type', 'application/json; charset=utf-8');
      msg.respond(JSON.stringify(error.toJSON()), { headers: small });
      return;
    }
    msg.respond(data, { headers: out });
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}

/**
 * The api role's side: every `/api/v1/…` route it does not serve itself goes to the store role, with the caller's
 * identity (already authenticated here, CSRF checked for the dashboard's session). Answers keep their status,
 * type and body.
 */
export function registerForwarding(app: FastifyInstance, bus: Bus): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const principal = request.principal as Principal;
    const h = natsHeaders();
    h.set('Vigil-Method', request.method);
    h.set('Vigil-Url', request.url);
    h.set('Vigil-Principal', JSON.stringify({ kind: principal.kind, name: principal.name, role: principal.role }));
    h.set('Vigil-Ip', request.ip);
    let body = Buffer.alloc(0);
    if (isRawBody(request.body)) {
      h.set('Content-Type', CONTENT_TYPES[request.body.kind]);
      body = Buffer.from(request.body.text, 'utf8');
    }
    const data = pack(body, h);
    if (data.length > bus.maxPayload) throw new VigilError('too_large', 'the request is too large to pass between Vigil processes: send less at once');
    let msg: Msg;
    try {
      msg = await bus.nc.request(SERVICES.api, data, { timeout: FORWARD_TIMEOUT_MS, headers: h });
    } catch (err) {
      throw new VigilError('unavailable', `the store role does not answer (${errorMessage(err)}): alerts, incidents, rules and models are served by \`vigil start --role store\`; is it running?`, { retryAfter: 5, cause: err });
    }
    const status = Number(msg.headers?.get('Vigil-Status') ?? '502');
    void reply.code(Number.isInteger(status) && status >= 100 && status < 600 ? status : 502);
    for (const name of ANSWER_HEADERS) {
      const value = msg.headers?.get(name);
      if (value) void reply.header(name, value);
    }
    return reply.send(unpack(msg));
  };
  // Readers and up may reach the store role's routes; it checks each route's own role with the identity sent.
  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/api/v1/*', config: { access: 'viewer' }, schema: { hide: true }, handler });
}
