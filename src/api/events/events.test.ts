// The events API end to end: a real server with a real DuckDB store, ingest in every body form, bad input, search and export.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startTestVigil, type TestVigil } from '../../testing/runtime.js';

const SSHD_LINES = [
  'Mar  3 10:00:01 bastion sshd[4242]: Failed password for invalid user admin from 203.0.113.7 port 50122 ssh2',
  'Mar  3 10:00:05 bastion sshd[4242]: Failed password for root from 203.0.113.7 port 50123 ssh2',
  'Mar  3 10:01:00 bastion sshd[4300]: Accepted publickey for deploy from 198.51.100.20 port 40022 ssh2: ED25519 SHA256:abc',
];

let vigil: TestVigil;

before(async () => {
  vigil = await startTestVigil({ ingest: { max_body_bytes: 64 * 1024 } });
});
after(async () => {
  await vigil.close();
});

async function post(body: string | Buffer, contentType: string, query = '', headers: Record<string, string> = {}): Promise<Response> {
  return vigil.call(`/api/v1/events${query}`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': contentType, ...headers } });
}

async function search(q: string, extra = ''): Promise<{ total: number; events: Record<string, any>[]; next: string | null }> {
  const response = await vigil.call(`/api/v1/events?q=${encodeURIComponent(q)}${extra}`);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as { total: number; events: Record<string, any>[]; next: string | null };
}

describe('authentication', () => {
  test('health is open, everything else needs a token', async () => {
    const health = await vigil.call('/api/v1/health', { token: null });
    assert.equal(health.status, 200);
    const body = (await health.json()) as { status: string; store: { engine: string } };
    assert.equal(body.status, 'ok');
    assert.equal(body.store.engine, 'duckdb');
    for (const path of ['/api/v1/events', '/metrics', '/api/v1/openapi.json', '/es/']) {
      const response = await vigil.call(path, { token: null });
      assert.equal(response.status, 401, path);
      assert.deepEqual(Object.keys(((await response.json()) as { error: object }).error).sort(), ['id', 'message']);
    }
    assert.equal((await vigil.call('/api/v1/events', { token: 'vgl_wrong' })).status, 401);
  });

  test('an ingest token sends but cannot read; a viewer reads but cannot send', async () => {
    const ingest = vigil.runtime.credentials.createToken('shipper', 'ingest').token;
    const viewer = vigil.runtime.credentials.createToken('reader', 'viewer').token;
    const sent = await vigil.call('/api/v1/events', { method: 'POST', token: ingest, headers: { 'content-type': 'application/json' }, body: '{"message":"hello from the ingest role"}' });
    assert.equal(sent.status, 200);
    assert.equal((await vigil.call('/api/v1/events', { token: ingest })).status, 403);
    assert.equal((await vigil.call('/api/v1/events', { token: viewer })).status, 200);
    const refused = await vigil.call('/api/v1/events', { method: 'POST', token: viewer, headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(refused.status, 403);
  });

  test('Basic auth with a token as the password works (what shippers configure)', async () => {
    const basic = Buffer.from(`filebeat:${vigil.token}`).toString('base64');
    const response = await fetch(`${vigil.url}/api/v1/events?limit=1`, { headers: { authorization: `Basic ${basic}` } });
    assert.equal(response.status, 200);
  });
});

describe('ingest', () => {
  test('raw sshd lines as text/plain are parsed into ECS and searchable', async () => {
    const response = await post(SSHD_LINES.join('\r\n') + '\n', 'text/plain', '?format=sshd');
    assert.equal(response.status, 200);
    const body = (await response.json()) as { accepted: number; rejected: number; datasets: Record<string, number> };
    assert.equal(body.accepted, 3);
    assert.equal(body.rejected, 0);
    assert.equal(body.datasets.sshd, 3);
    const found = await search('source.ip:203.0.113.7 AND event.outcome:failure');
    assert.equal(found.total, 2);
    const event = found.events.find((e) => e.user?.name === 'root');
    assert.ok(event, 'the root attempt is found');
    assert.equal(event.host.name, 'bastion');
    assert.equal(event.event.original, SSHD_LINES[1]);
    assert.equal(event.source.port, 50123);
  });

  test('a JSON object, a JSON array and NDJSON are all accepted', async () => {
    const one = await post(JSON.stringify({ message: 'object form', event: { dataset: 'app.test' }, labels: { form: 'object' } }), 'application/json');
    assert.equal(one.status, 200);
    const many = await post(JSON.stringify([{ message: 'array form a', labels: { form: 'array' }, event: { dataset: 'app.test' } }, { message: 'array form b', labels: { form: 'array' }, event: { dataset: 'app.test' } }]), 'application/json');
    assert.equal(((await many.json()) as { accepted: number }).accepted, 2);
    const nd = ['{"message":"nd 1","labels":{"form":"ndjson"},"event":{"dataset":"app.test"}}', '{"message":"nd 2","labels":{"form":"ndjson"},"source.ip":"192.0.2.44","event":{"dataset":"app.test"}}'].join('\n');
    const ndResponse = await post(nd, 'application/x-ndjson');
    assert.equal(((await ndResponse.json()) as { accepted: number }).accepted, 2);
    assert.equal((await search('labels.form:array')).total, 2);
    const dotted = await search('source.ip:192.0.2.44');
    assert.equal(dotted.total, 1, 'dotted keys are expanded to nested ECS fields');
    assert.equal(dotted.events[0]!.source.ip, '192.0.2.44');
  });

  test('a document carrying a raw log line in message is parsed like a line', async () => {
    const response = await post(JSON.stringify({ message: '198.51.100.9 - - [10/Oct/2024:13:55:36 +0000] "GET /admin.php?id=1 HTTP/1.1" 404 153 "-" "curl/8.0"', host: { name: 'web1' } }), 'application/json');
    assert.equal(response.status, 200);
    const found = await search('http.response.status_code:404 AND host.name:web1');
    assert.equal(found.total, 1);
    assert.equal(found.events[0]!.source.ip, '198.51.100.9');
    assert.equal(found.events[0]!.url.path, '/admin.php');
  });

  test('gzip-compressed bodies are accepted', async () => {
    const response = await post(gzipSync('{"message":"compressed body","labels":{"enc":"gzip"}}'), 'application/json', '', { 'content-encoding': 'gzip' });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal((await search('labels.enc:gzip')).total, 1);
  });

  test('lines no parser understands are stored with the parse-error tag and the original line', async () => {
    const line = '\u001b[31mtotally unstructured \u0000 line <script>alert(1)</script>';
    const response = await post(line, 'text/plain', '?format=nginx');
    const body = (await response.json()) as { accepted: number; unparsed: number };
    assert.equal(body.accepted, 1);
    assert.equal(body.unparsed, 1);
    const found = await search('tags:_parse_failure AND "totally unstructured"');
    assert.equal(found.total, 1);
    const original = found.events[0]!.event.original as string;
    assert.ok(original.startsWith('\u001b[31mtotally unstructured '), original);
    assert.ok(original.endsWith(' line <script>alert(1)</script>'), original);
  });
});

describe('bad input', () => {
  test('malformed JSON gets 400 naming the line, and nothing of the body is stored', async () => {
    const before_ = (await search('labels.batch:bad-ndjson')).total;
    const response = await post('{"labels":{"batch":"bad-ndjson"}}\n{"labels":{"batch":"bad-ndjson"}}\n{"oops": \n', 'application/x-ndjson');
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { id: string; message: string } };
    assert.equal(body.error.id, 'bad_json');
    assert.match(body.error.message, /line 3/);
    assert.equal((await search('labels.batch:bad-ndjson')).total, before_);
    const single = await post('{"a": tru', 'application/json');
    assert.equal(single.status, 400);
    assert.match(((await single.json()) as { error: { message: string } }).error.message, /line 1/);
  });

  test('a batch with some bad items is accepted in part with per-item errors', async () => {
    const response = await post(JSON.stringify([{ labels: { batch: 'partial' } }, 42, 'text', { labels: { batch: 'partial' } }]), 'application/json');
    assert.equal(response.status, 200);
    const body = (await response.json()) as { accepted: number; rejected: number; errors: { index: number; reason: string }[] };
    assert.equal(body.accepted, 2);
    assert.equal(body.rejected, 2);
    assert.deepEqual(body.errors.map((e) => e.index), [1, 2]);
    assert.match(body.errors[0]!.reason, /expected a JSON object/);
  });

  test('all items bad gives 400 with the per-item errors', async () => {
    const response = await post('[1,2]', 'application/json');
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { id: string }; errors: unknown[] };
    assert.equal(body.error.id, 'bad_request');
    assert.equal(body.errors.length, 2);
  });

  test('deeply nested JSON is refused per item, not a crash', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const response = await post(`{"labels":{"batch":"deep"},"x":${deep}}`, 'application/json');
    assert.equal(response.status, 400);
    const health = await vigil.call('/api/v1/health');
    assert.equal(health.status, 200);
  });

  test('a body over the limit gets 413, also when it only grows over it after decompression', async () => {
    const big = 'x'.repeat(70 * 1024);
    const response = await post(big, 'text/plain');
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { error: { id: string } }).error.id, 'too_large');
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 'a'));
    const zipped = await post(bomb, 'text/plain', '', { 'content-encoding': 'gzip' });
    assert.equal(zipped.status, 413);
  });

  test('an unknown content type gets 415, an unknown format 400, a corrupt gzip 400', async () => {
    assert.equal((await post('<xml/>', 'application/xml')).status, 415);
    assert.equal((await post('line', 'text/plain', '?format=nope')).status, 400);
    assert.equal((await post(Buffer.from('not gzip at all'), 'text/plain', '', { 'content-encoding': 'gzip' })).status, 400);
  });

  test('a bad query gets 400 with a location, bad times 400', async () => {
    const response = await vigil.call(`/api/v1/events?q=${encodeURIComponent('(source.ip:1.2.3.4')}`);
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { id: string } }).error.id, 'bad_query');
    assert.equal((await vigil.call('/api/v1/events?from=yesterday-ish')).status, 400);
    assert.equal((await vigil.call('/api/v1/events?limit=0')).status, 400);
  });

  test('unknown routes get 404 in the error shape', async () => {
    const response = await vigil.call('/api/v1/nope');
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { id: string } }).error.id, 'not_found');
  });
});

describe('search', () => {
  before(async () => {
    const base = Date.parse('2024-06-01T00:00:00Z');
    const docs = Array.from({ length: 25 }, (_, i) => ({
      '@timestamp': new Date(base + i * 60_000).toISOString(),
      event: { dataset: 'paging.test', action: i % 2 === 0 ? 'even' : 'odd' },
      source: { ip: `192.0.2.${i}` },
      message: i === 3 ? '=HYPERLINK("http://evil")' : `paging event ${i}`,
    }));
    const response = await post(docs.map((d) => JSON.stringify(d)).join('\n'), 'application/x-ndjson');
    assert.equal(response.status, 200);
  });

  test('newest first, cursor paging without gaps or repeats, exact total', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { total: number; events: Record<string, any>[]; next: string | null } = await search('event.dataset:paging.test', `&limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(page.total, 25);
      seen.push(...page.events.map((e) => e['@timestamp'] as string));
      cursor = page.next;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.equal(seen.length, 25);
    assert.equal(new Set(seen).size, 25);
    assert.deepEqual(seen, [...seen].sort().reverse());
  });

  test('time bounds, ranges, CIDR, NOT', async () => {
    const bounded = await search('event.dataset:paging.test', '&from=2024-06-01T00:10:00Z&to=2024-06-01T00:20:00Z');
    assert.equal(bounded.total, 10);
    assert.equal((await search('event.dataset:paging.test AND source.ip:192.0.2.0/29')).total, 8);
    assert.equal((await search('event.dataset:paging.test AND NOT event.action:even')).total, 12);
  });

  test('histogram and top values', async () => {
    const response = await vigil.call('/api/v1/events/histogram?q=event.dataset:paging.test&from=2024-06-01T00:00:00Z&to=2024-06-01T00:30:00Z&interval=10m');
    assert.equal(response.status, 200);
    const histogram = (await response.json()) as { interval: number; buckets: { key: string; count: number }[] };
    assert.equal(histogram.interval, 600_000);
    assert.deepEqual(histogram.buckets.map((b) => b.count), [10, 10, 5]);
    const top = (await (await vigil.call('/api/v1/events/top?field=event.action&q=event.dataset:paging.test')).json()) as { values: { value: string; count: number }[] };
    assert.deepEqual(top.values, [{ value: 'even', count: 13 }, { value: 'odd', count: 12 }]);
    assert.equal((await vigil.call('/api/v1/events/top')).status, 400);
  });

  test('export as NDJSON and CSV, with formula injection neutralised', async () => {
    const nd = await vigil.call('/api/v1/events?q=event.dataset:paging.test&format=ndjson&limit=100');
    assert.equal(nd.status, 200);
    assert.match(nd.headers.get('content-type') ?? '', /ndjson/);
    const lines = (await nd.text()).trim().split('\n');
    assert.equal(lines.length, 25);
    assert.equal((JSON.parse(lines[0]!) as { event: { dataset: string } }).event.dataset, 'paging.test');
    const csv = await vigil.call('/api/v1/events?q=event.dataset:paging.test&format=csv&fields=source.ip,message');
    const rows = (await csv.text()).trim().split('\r\n');
    assert.equal(rows[0], 'source.ip,message');
    assert.equal(rows.length, 26);
    assert.ok(rows.includes(`192.0.2.3,"'=HYPERLINK(""http://evil"")"`), rows.slice(0, 5).join('|'));
  });

  test('metrics expose per-stage counters', async () => {
    const text = await (await vigil.call('/metrics')).text();
    assert.match(text, /vigil_events_received_total\{input="http"\} \d+/);
    assert.match(text, /vigil_events_stored_total \d+/);
    assert.match(text, /vigil_events_failed_total\{input="http",reason="[^"]+"\} 1/);
    assert.match(text, /vigil_queue_depth\{stage="store"\} 0/);
    const pool = /^vigil_store_memory_bytes (\d+)$/m.exec(text);
    assert.ok(pool && Number(pool[1]) > 0, 'DuckDB\'s buffer pool is reported');
  });
});

describe('a failing store', () => {
  test('ingestion answers 503 with Retry-After and acknowledges nothing', async () => {
    const broken = await startTestVigil();
    try {
      await broken.runtime.store.close();
      const response = await broken.call('/api/v1/events', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'a line that cannot be stored' });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '5');
      assert.equal(((await response.json()) as { error: { id: string } }).error.id, 'unavailable');
      const health = await broken.call('/api/v1/health', { token: null });
      assert.equal(health.status, 503, 'health reports the broken store');
    } finally {
      await broken.close();
    }
  });
});
