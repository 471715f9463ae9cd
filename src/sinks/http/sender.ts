// Ships the agent's buffered events to a Vigil server: NDJSON batches (gzip) POSTed to /api/v1/events with a bearer
// token, retried with exponential back-off (honouring Retry-After) until a 2xx answer, and only then removed from the
// buffer. A batch is sent again, unchanged, until the server takes it: the same `event.id`s, which the server dedupes.
import http from 'node:http';
import https from 'node:https';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { VERSION } from '../../core/version.js';
import type { BufferedBatch, DiskBuffer } from './buffer.js';

const gzipAsync = promisify(gzip);

export interface SenderOptions {
  /** The server's base URL: http(s)://host:port (a path prefix is kept). */
  server: string;
  token: string;
  buffer: DiskBuffer;
  /** PEM CA certificate(s) trusted for https, besides the system's (a private CA). */
  ca?: string | Buffer;
  /** Events per request at most (default 1000) and about this many bytes before compression (default 4 MiB). */
  batchEvents?: number;
  batchBytes?: number;
  /** First and longest wait between retries (default 500 ms and 30 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A request without an answer for this long is abandoned and retried (default 60 s). */
  timeoutMs?: number;
  warn?: (message: string) => void;
}

export interface SenderStatus {
  ok: boolean;
  error?: string;
  sent: number;
  /** Events the server refused as invalid (they will never be accepted; not retried). */
  refused: number;
  requests: number;
  last_success: string | null;
}

interface Answer {
  status: number;
  body: string;
  retryAfter: string | undefined;
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

export class HttpSender {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly batchEventsLimit: number;
  private batchEvents: number;
  private readonly batchBytes: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly warn: (message: string) => void;
  private closing = false;
  private loop: Promise<void> | undefined;
  private wakeSleep: (() => void) | undefined;
  private inflight: http.ClientRequest | undefined;
  private error: string | undefined;
  private sent = 0;
  private refused = 0;
  private requests = 0;
  private lastSuccess: number | undefined;

  constructor(private readonly options: SenderOptions) {
    const base = options.server.endsWith('/') ? options.server : `${options.server}/`;
    this.url = new URL('api/v1/events', base);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new Error(`the server URL must be http:// or https://, got ${options.server}`);
    this.agent = this.url.protocol === 'https:' ? new https.Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) }) : new http.Agent({ keepAlive: true });
    this.batchEventsLimit = options.batchEvents ?? 1000;
    this.batchEvents = this.batchEventsLimit;
    this.batchBytes = options.batchBytes ?? 4 * 1024 * 1024;
    this.minBackoffMs = options.minBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.warn = options.warn ?? ((m) => console.warn(m));
  }

  start(): void {
    this.loop ??= this.run();
  }

  status(): SenderStatus {
    return {
      ok: this.error === undefined,
      ...(this.error !== undefined ? { error: this.error } : {}),
      sent: this.sent,
      refused: this.refused,
      requests: this.requests,
      last_success: this.lastSuccess === undefined ? null : new Date(this.lastSuccess).toISOString(),
    };
  }

  private fail(reason: string): void {
    if (this.error === reason) return;
    this.error = reason;
    this.warn(`vigil agent: ${reason}`);
  }

  private recovered(): void {
    if (this.error === undefined) return;
    this.error = undefined;
    this.warn(`vigil agent: delivering to ${this.url.origin} again`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        if (this.wakeSleep === done) this.wakeSleep = undefined;
        resolve();
      };
      timer = setTimeout(done, ms);
      this.wakeSleep = done;
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      let batch: BufferedBatch | undefined;
      try {
        batch = await this.options.buffer.read(this.batchEvents, this.batchBytes);
      } catch (err) {
        this.fail(`cannot read the buffer: ${(err as Error).message}`);
        await this.sleep(this.maxBackoffMs);
        continue;
      }
      if (!batch) {
        await Promise.race([this.options.buffer.waitForData(1000), this.sleep(1000)]);
        continue;
      }
      const backoff = () => Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.min(failures, 16));
      let answer: Answer;
      try {
        answer = await this.post(batch.lines);
      } catch (err) {
        if (this.closing) break;
        failures++;
        this.fail(`cannot reach ${this.url.origin}: ${(err as Error).message}; events wait in the buffer and are retried`);
        await this.sleep(backoff());
        continue;
      }
      const { status } = answer;
      if (status >= 200 && status < 300) {
        this.accepted(batch, answer.body);
        await this.options.buffer.ack(batch);
        failures = 0;
        this.batchEvents = Math.min(this.batchEventsLimit, this.batchEvents * 2);
        this.recovered();
        continue;
      }
      if (status === 413 && batch.lines.length > 1) {
        // Too large for the server's body limit: smaller batches from now on.
        this.batchEvents = Math.max(1, Math.floor(batch.lines.length / 2));
        continue;
      }
      if (status === 400 || status === 413 || status === 415 || status === 422) {
        // The server will never take these as they are: skipping them is the only way forward.
        this.refused += batch.lines.length;
        this.warn(`vigil agent: the server refused ${batch.lines.length} events (${status}: ${describe(answer.body)}); they are skipped`);
        await this.options.buffer.ack(batch);
        continue;
      }
      failures++;
      const wait = retryAfterMs(answer.retryAfter) ?? backoff();
      if (status === 401 || status === 403) this.fail(`the server refused the token (${status}: ${describe(answer.body)}); give an ingest token with --token. Events wait in the buffer`);
      else if (status === 429 || status === 503) this.fail(`the server is busy (${status}); retrying in ${Math.round(wait / 1000)} s`);
      else this.fail(`the server answered ${status} (${describe(answer.body)}); retrying`);
      await this.sleep(Math.min(wait, status === 429 || status === 503 ? 5 * this.maxBackoffMs : this.maxBackoffMs));
    }
  }

  /** Counts what the server accepted; per-item refusals are reported, not retried. */
  private accepted(batch: BufferedBatch, body: string): void {
    this.requests++;
    this.lastSuccess = Date.now();
    let rejected = 0;
    try {
      const parsed = JSON.parse(body) as { accepted?: number; rejected?: number; errors?: { index: number; reason: string }[] };
      rejected = parsed.rejected ?? 0;
      if (rejected > 0) this.warn(`vigil agent: the server refused ${rejected} of ${batch.lines.length} events: ${parsed.errors?.[0]?.reason ?? ''}`);
    } catch {
      // a 2xx without the usual body: all taken
    }
    this.refused += rejected;
    this.sent += batch.lines.length - rejected;
  }

  private async post(lines: string[]): Promise<Answer> {
    const body = await gzipAsync(Buffer.from(lines.join('\n') + '\n', 'utf8'), { level: 1 });
    const transport = this.url.protocol === 'https:' ? https : http;
    return new Promise<Answer>((resolve, reject) => {
      const request = transport.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.options.token}`,
            'content-type': 'application/x-ndjson',
            'content-encoding': 'gzip',
            'content-length': body.length,
            'user-agent': `vigil-agent/${VERSION}`,
          },
          timeout: this.timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => {
            const retryAfter = response.headers['retry-after'];
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter });
          });
          response.on('error', reject);
        },
      );
      this.inflight = request;
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      request.on('error', reject);
      request.on('close', () => {
        if (this.inflight === request) this.inflight = undefined;
      });
      request.end(body);
    });
  }

  /**
   * Stops sending. A request in flight is abandoned: whatever it carried stays in the buffer and is sent again next
   * time (the server keeps one copy, by event.id).
   */
  async close(): Promise<void> {
    this.closing = true;
    this.wakeSleep?.();
    this.inflight?.destroy(new Error('agent stopping'));
    await this.loop;
    this.agent.destroy();
  }
}

/** The server's error message, if its body is Vigil's error shape, else the start of the body. */
function describe(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    if (parsed.error?.message) return parsed.error.message;
  } catch {
    // not JSON
  }
  return body.slice(0, 200);
}
