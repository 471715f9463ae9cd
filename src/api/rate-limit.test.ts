// Per-client HTTP rate limits against a real Vigil over real sockets: 429 with Retry-After and RateLimit fields,
// served again after waiting, other clients and health unaffected, refused events not stored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestVigil, type TestVigil } from '../testing/runtime.js';

let vigil: TestVigil;

before(async () => {
  vigil = await startTestVigil({
    limits: { api: { requests_per_second: 5, burst: 5 }, ingest: { events_per_second: 100, burst: 100 } },
    rules: { builtin: false },
    ml: { enabled: false },
  });
});
after(async () => vigil.close());

function token(name: string, role: 'viewer' | 'ingest'): string {
  return vigil.runtime.credentials.createToken(name, role).token;
}

async function countStored(label: string): Promise<number> {
  const response = await vigil.call(`/api/v1/events?q=${encodeURIComponent(`labels.run:${label}`)}&limit=1`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { total: number }).total;
}

async function limitedTotal(kind: string): Promise<number> {
  const text = await (await vigil.call('/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(`vigil_requests_limited_total{route_kind="${kind}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('HTTP rate limits', () => {
  test('a client over its request budget gets 429 with Retry-After, another client and health do not, and it is served after waiting', async () => {
    const a = token('scraper', 'viewer');
    const b = token('analyst', 'viewer');
    const limitedBefore = await limitedTotal('api');
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 12; i++) {
      const response = await vigil.call('/api/v1/alerts', { token: a });
      statuses.push(response.status);
      if (response.status === 429) refused ??= response;
      else await response.arrayBuffer();
    }
    assert.ok(statuses.slice(0, 5).every((s) => s === 200), `the burst is served: ${statuses.join(' ')}`);
    assert.ok(refused !== undefined, `over the burst is refused: ${statuses.join(' ')}`);
    const body = (await refused.json()) as { error: { id: string; message: string } };
    assert.equal(body.error.id, 'rate_limited');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1, 'Retry-After in whole seconds');
    assert.equal(refused.headers.get('ratelimit-limit'), '5');
    assert.equal(refused.headers.get('ratelimit-remaining'), '0');

    const other = await vigil.call('/api/v1/alerts', { token: b });
    assert.equal(other.status, 200, 'another client has its own budget');
    assert.equal(other.headers.get('ratelimit-limit'), '5');
    for (let i = 0; i < 20; i++) {
      const health = await vigil.call('/api/v1/health', { token: null });
      assert.notEqual(health.status, 429, 'health is never limited');
      await health.arrayBuffer();
    }
    assert.equal((await vigil.call('/api/v1/alerts', { token: a })).status, 429, 'health did not refill the budget');
    assert.ok((await limitedTotal('api')) > limitedBefore, 'refusals are counted');

    await sleep(retryAfter * 1000);
    const again = await vigil.call('/api/v1/alerts', { token: a });
    assert.equal(again.status, 200, 'served again after Retry-After');
  });

  test('ingest is limited in events: a batch over the budget is taken, the next request waits, nothing refused is stored', async () => {
    const shipper = token('shipper', 'ingest');
    const post = (run: string, count: number) =>
      vigil.call('/api/v1/events', {
        token: shipper,
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: Array.from({ length: count }, (_, i) => JSON.stringify({ message: `event ${i}`, labels: { run } })).join('\n'),
      });
    const first = await post('rl-first', 150);
    assert.equal(first.status, 200, 'one batch larger than the burst still goes through');
    const second = await post('rl-refused', 10);
    assert.equal(second.status, 429);
    assert.equal(((await second.json()) as { error: { id: string } }).error.id, 'rate_limited');
    const retryAfter = Number(second.headers.get('retry-after'));
    assert.ok(retryAfter >= 1);
    // Another ingest client is not held back by this one's debt.
    const other = await vigil.call('/api/v1/events', { token: token('other shipper', 'ingest'), method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'x', labels: { run: 'rl-other' } }) });
    assert.equal(other.status, 200);
    assert.ok((await limitedTotal('ingest')) >= 1);

    await sleep(retryAfter * 1000);
    const third = await post('rl-third', 10);
    assert.equal(third.status, 200, 'served again after Retry-After');
    assert.equal(await countStored('rl-first'), 150);
    assert.equal(await countStored('rl-refused'), 0, 'a refused request is not stored');
    assert.equal(await countStored('rl-third'), 10);
  });

  // Last: it spends the budget of 127.0.0.1, which every request of this file comes from.
  test('requests that fail authentication spend their address budget, and the address is then refused', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const response = await vigil.call('/api/v1/alerts', { token: 'vgl_not-a-token' });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.ok(statuses.slice(5).every((s) => s === 429), statuses.join(' '));
    const health = await vigil.call('/api/v1/health', { token: null });
    assert.equal(health.status, 200, 'health is still reachable');
  });
});
