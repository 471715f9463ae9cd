import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Detection } from '../../core/detection.js';
import { startTestVigil, type TestVigil } from '../../testing/runtime.js';
import { readServerSentEvents } from '../../testing/sse.js';

/** The stream of a test Vigil, read as it comes. */
async function openStream(vigil: TestVigil, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await vigil.call('/api/v1/stream', { headers, signal: controller.signal });
  return { res, ...readServerSentEvents(res, controller) };
}

const detection = (ip: string): Detection => ({
  source: { kind: 'sigma', id: 'stream-test', title: 'Stream test', author: 'Vigil tests' },
  severity: 'high',
  timestamp: new Date().toISOString(),
  entity: { field: 'source.ip', value: ip },
  evidence: [],
  reason: `seen ${ip}`,
});

test('the stream sends hello, per-dataset rates each second, new and updated alerts, and replays what a reconnecting client missed', async () => {
  const vigil = await startTestVigil();
  try {
    assert.equal((await vigil.call('/api/v1/stream', { token: null })).status, 401);
    const stream = await openStream(vigil);
    assert.equal(stream.res.status, 200);
    assert.match(stream.res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const hello = (await stream.next('hello')).data as { role: string };
    assert.equal(hello.role, 'admin');
    await stream.next('health');

    const post = await vigil.call('/api/v1/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"event":{"dataset":"app"},"message":"a"}\n{"event":{"dataset":"app"},"message":"b"}\n{"event":{"dataset":"web"},"message":"c"}' });
    assert.equal(post.status, 200);
    const rates = (await stream.next('rates', (d: { datasets: Record<string, number> }) => (d.datasets.app ?? 0) > 0)).data as { total: number; datasets: Record<string, number> };
    const { 'vigil.audit': _startRecord, ...datasets } = rates.datasets; // the server's own start is on the audit trail
    assert.deepEqual(datasets, { app: 2, web: 1 });

    vigil.runtime.alerts.handle([detection('192.0.2.1')]);
    const created = await stream.next('alert', (d: { alert: { entity: { value: string } } }) => d.alert.entity.value === '192.0.2.1');
    const data = created.data as { change: string; alert: { id: string; count: number; history?: unknown } };
    assert.equal(data.change, 'created');
    assert.equal(data.alert.history, undefined, 'the audit trail stays on the alert page');
    vigil.runtime.alerts.handle([detection('192.0.2.1')]);
    const updated = await stream.next('alert', (d: { change: string }) => d.change === 'updated');
    assert.equal((updated.data as { alert: { count: number } }).alert.count, 2);
    stream.close();

    // A client that comes back names the last message it saw and gets the ones after it, and the rates of the last
    // minutes at once (a chart of them needs no waiting).
    const again = await openStream(vigil, { 'last-event-id': created.id! });
    const history = (await again.next('history')).data as { rates: { total: number; datasets: Record<string, number> }[] };
    assert.ok(history.rates.length >= 1);
    assert.ok(history.rates.some((r) => r.datasets.app === 2 && r.datasets.web === 1));
    const replayed = await again.next('alert');
    assert.equal(replayed.id, updated.id);
    again.close();
  } finally {
    await vigil.close();
  }
});
