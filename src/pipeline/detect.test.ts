// The detection stage in a real Vigil: each detection's arrival-to-detection time is recorded, from the event that
// completed it (vigil_detection_latency_seconds), and detections name that event's address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestVigil } from '../testing/runtime.js';

/** count and sum of a Prometheus histogram in the exposition text. */
function histogram(text: string, name: string): { count: number; sum: number } {
  const read = (suffix: string) => Number(new RegExp(`^${name}${suffix} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { count: read('_count'), sum: read('_sum') };
}

test('every detection is timed from the arrival of the event that triggered it', async () => {
  const vigil = await startTestVigil();
  try {
    const before = histogram(await (await vigil.call('/metrics')).text(), 'vigil_detection_latency_seconds');
    assert.equal(before.count, 0);
    const line = (ip: string, target: string) => `${ip} - - [20/Jan/2025:10:00:00 +0000] "GET ${target} HTTP/1.1" 200 512 "-" "Mozilla/5.0"`;
    // One batch: two attacks from two addresses among ordinary requests, then a brute force completed in a second batch.
    const lines = [line('198.51.100.1', '/'), line('198.51.100.2', "/products?id=1'%20OR%20'1'='1"), line('198.51.100.3', '/about'), line('198.51.100.4', '/search?q=%3Cscript%3Ealert(1)%3C/script%3E')];
    const started = Date.now();
    let response = await vigil.call('/api/v1/events?format=nginx', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: lines.join('\n') });
    assert.equal(response.status, 200);
    const failures = Array.from({ length: 10 }, (_, i) => `Jan 20 10:00:${String(i).padStart(2, '0')} gw sshd[${100 + i}]: Failed password for root from 203.0.113.9 port ${40000 + i} ssh2`);
    response = await vigil.call('/api/v1/events?format=sshd', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: failures.join('\n') });
    assert.equal(response.status, 200);
    await vigil.runtime.pipeline.idle();
    const elapsed = (Date.now() - started) / 1000;
    const alerts = vigil.runtime.alerts.list({ limit: 100 }).alerts;
    assert.deepEqual(alerts.map((a) => a.entity?.value).sort(), ['198.51.100.2', '198.51.100.4', '203.0.113.9']);
    const after = histogram(await (await vigil.call('/metrics')).text(), 'vigil_detection_latency_seconds');
    // One observation per detection (not one per batch), each within the time the requests took.
    assert.equal(after.count, 3);
    assert.ok(after.sum >= 0 && after.sum <= 3 * elapsed, `sum ${after.sum} s, requests took ${elapsed} s`);
    for (const a of alerts) assert.deepEqual(a.related.ip, [a.entity!.value]);
  } finally {
    await vigil.close();
  }
});
