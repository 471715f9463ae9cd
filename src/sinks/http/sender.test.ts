// The sender against a real HTTP server that misbehaves on purpose: busy answers with Retry-After, a refused token,
// a body too large, a connection cut; every event arrives, batches are removed from the buffer only after a 2xx,
// and a batch sent again is the same bytes (same event.ids).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, test } from 'node:test';
import { DiskBuffer } from './buffer.js';
import { HttpSender, retryAfterMs } from './sender.js';

const root = mkdtempSync(join(tmpdir(), 'vigil-sender-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

interface Received {
  status: number;
  ids: string[];
  auth: string | undefined;
}

/** A server whose answers are scripted: `answer(n)` for the n-th request (from 0) gives the status, or 'cut' to drop the connection. */
async function scriptedServer(answer: (n: number, ids: string[]) => number | 'cut', headers: Record<string, string> = {}) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks);
      const ids = body.toString('utf8').split('\n').filter((l) => l).map((l) => (JSON.parse(l) as { event: { id: string } }).event.id);
      const status = answer(received.length, ids);
      if (status === 'cut') {
        received.push({ status: 0, ids, auth: req.headers.authorization });
        req.socket.destroy();
        return;
      }
      received.push({ status, ids, auth: req.headers.authorization });
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 200 ? {} : headers) });
      res.end(status === 200 ? JSON.stringify({ accepted: ids.length, rejected: 0, errors: [] }) : JSON.stringify({ error: { id: 'x', message: `status ${status}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function setup(answer: Parameters<typeof scriptedServer>[0], headers?: Record<string, string>, batchEvents = 10) {
  const server = await scriptedServer(answer, headers);
  const buffer = await DiskBuffer.open({ dir: join(root, `s${dirs++}`), maxBytes: 64 << 20 });
  const warnings: string[] = [];
  const sender = new HttpSender({ server: server.url, token: 'vgl_test', buffer, minBackoffMs: 10, maxBackoffMs: 50, batchEvents, warn: (m) => warnings.push(m) });
  const ids = Array.from({ length: 25 }, (_, i) => `id-${String(i).padStart(3, '0')}`);
  await buffer.append(ids.slice(0, 12).map((id) => JSON.stringify({ event: { id }, message: id })));
  await buffer.append(ids.slice(12).map((id) => JSON.stringify({ event: { id }, message: id })));
  sender.start();
  return { server, buffer, sender, ids, warnings };
}

async function until(test: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const delivered = (r: Received[]) => r.filter((x) => x.status === 200).flatMap((x) => x.ids);

test('busy answers and a cut connection are retried with the same events until a 2xx; nothing is lost', async () => {
  const script = ['cut', 503, 429, 200, 503, 200, 200, 200];
  const { server, buffer, sender, ids, warnings } = await setup((n) => (script[n] ?? 200) as number | 'cut', { 'retry-after': '0' });
  await until(() => delivered(server.received).length === 25);
  assert.deepEqual(delivered(server.received), ids, 'every event once, in order');
  assert.deepEqual(server.received[0]!.ids, server.received[3]!.ids, 'the retried batch is the same events');
  assert.ok(server.received.every((r) => r.auth === 'Bearer vgl_test'));
  await until(() => buffer.stats().pending === 0);
  assert.equal(sender.status().ok, true);
  assert.equal(sender.status().sent, 25);
  assert.ok(warnings.some((w) => /cannot reach/.test(w)) && warnings.some((w) => /busy/.test(w)));
  assert.ok(warnings.some((w) => /delivering to .* again/.test(w)));
  await sender.close();
  await buffer.close();
  await server.close();
});

test('a refused token keeps the events in the buffer and says what to do', async () => {
  let allow = false;
  const { server, buffer, sender, warnings } = await setup(() => (allow ? 200 : 401));
  await until(() => server.received.length >= 3);
  assert.equal(buffer.stats().pending, 25);
  assert.equal(sender.status().ok, false);
  assert.match(String(sender.status().error), /refused the token .* give an ingest token with --token/);
  assert.equal(warnings.filter((w) => /refused the token/.test(w)).length, 1, 'said once');
  allow = true;
  await until(() => buffer.stats().pending === 0);
  assert.equal(delivered(server.received).length, 25);
  await sender.close();
  await buffer.close();
  await server.close();
});

test('413: batches are halved until they fit; 400: a batch the server can never take is skipped and counted', async () => {
  const { server, buffer, sender } = await setup((_, ids) => (ids.length > 3 ? 413 : ids.includes('id-020') ? 400 : 200));
  await until(() => buffer.stats().pending === 0);
  const got = delivered(server.received);
  assert.ok(server.received.filter((r) => r.status === 200).every((r) => r.ids.length <= 3));
  const refusedBatch = server.received.find((r) => r.status === 400)!.ids;
  assert.ok(refusedBatch.includes('id-020'));
  assert.equal(got.length + refusedBatch.length, 25);
  assert.equal(sender.status().refused, refusedBatch.length);
  await sender.close();
  await buffer.close();
  await server.close();
});

test('Retry-After in seconds or as an HTTP date', () => {
  assert.equal(retryAfterMs('5'), 5000);
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
  assert.equal(retryAfterMs('soon'), undefined);
  assert.equal(retryAfterMs(undefined), undefined);
});

test('https with a private CA: --ca trusts it; without it the certificate is refused and events wait', { skip: spawnSync('openssl', ['version']).error ? 'openssl is not installed' : false }, async () => {
  const dir = mkdtempSync(join(root, 'tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=vigil-test', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const received: string[] = [];
  const server = https.createServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(...gunzipSync(Buffer.concat(chunks)).toString('utf8').split('\n').filter((l) => l));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":1,"rejected":0,"errors":[]}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const untrusting = await DiskBuffer.open({ dir: join(dir, 'b1'), maxBytes: 1 << 20 });
    await untrusting.append([JSON.stringify({ event: { id: 'a' } })]);
    const refused = new HttpSender({ server: url, token: 't', buffer: untrusting, minBackoffMs: 10, maxBackoffMs: 20, warn: () => undefined });
    refused.start();
    await until(() => refused.status().ok === false);
    assert.match(String(refused.status().error), /self[- ]signed|certificate/i);
    assert.equal(untrusting.stats().pending, 1);
    await refused.close();
    await untrusting.close();

    const trusting = await DiskBuffer.open({ dir: join(dir, 'b2'), maxBytes: 1 << 20 });
    await trusting.append([JSON.stringify({ event: { id: 'b' } })]);
    const sender = new HttpSender({ server: url, token: 't', buffer: trusting, ca: cert, minBackoffMs: 10, maxBackoffMs: 20 });
    sender.start();
    await until(() => trusting.stats().pending === 0);
    assert.deepEqual(received, ['{"event":{"id":"b"}}']);
    await sender.close();
    await trusting.close();
  } finally {
    server.close();
  }
});
