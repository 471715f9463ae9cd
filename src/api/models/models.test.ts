// Models through a real Vigil: access-log lines posted to the API train the web detector, an attack becomes an
// anomaly event and an alert, and the models API lists, retrains and rolls back, with roles enforced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EcsEvent } from '../../core/event.js';
import { Random } from '../../detect/ml/iforest/random.js';
import { startTestVigil } from '../../testing/runtime.js';

/** nginx combined lines with $request_time: an ordinary day at a small shop. */
function accessLines(n: number, seed: number, startSecond = 0): string[] {
  const rng = new Random(seed);
  const words = ['red', 'shoes', 'blue', 'shirt', 'bag', 'sale'];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = new Date(Date.UTC(2024, 2, 3, 10, 0, startSecond + i));
    const stamp = `${String(t.getUTCDate()).padStart(2, '0')}/Mar/2024:${String(t.getUTCHours()).padStart(2, '0')}:${String(t.getUTCMinutes()).padStart(2, '0')}:${String(t.getUTCSeconds()).padStart(2, '0')} +0000`;
    const kind = rng.below(10);
    const target = kind < 5 ? `/products?id=${1 + rng.below(300)}` : kind < 7 ? `/search?q=${words[rng.below(6)]}%20${words[rng.below(6)]}` : kind < 9 ? `/static/app.${rng.below(9999)}.css` : '/';
    const status = rng.next() < 0.9 ? 200 : rng.next() < 0.6 ? 304 : 404;
    const bytes = status === 304 ? 0 : status === 404 ? 153 : kind >= 7 ? 20000 + rng.below(9000) : 3000 + rng.below(3000);
    const seconds = (0.005 + 0.05 * rng.next() * rng.next()).toFixed(3);
    lines.push(`192.0.2.${1 + rng.below(40)} - - [${stamp}] "GET ${target} HTTP/1.1" ${status} ${bytes} "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/123.0" ${seconds}`);
  }
  return lines;
}

const ATTACK = `203.0.113.66 - - [03/Mar/2024:11:00:00 +0000] "POST /products.php?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--%20&x=%3Cscript%3E HTTP/1.1" 500 0 "-" "sqlmap/1.7.2#stable (https://sqlmap.org)" 2.950`;

async function eventually<T>(get: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  let value = await get();
  for (let i = 0; i < 200 && !ok(value); i++) {
    await new Promise((r) => setTimeout(r, 25));
    value = await get();
  }
  assert.ok(ok(value), `timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
  return value;
}

interface ModelList {
  total: number;
  models: { id: string; state: string; samples: number; active_version: number | null; versions: { version: number; reason?: string }[]; model: { thresholds: Record<string, number>; histogram: { edges: number[] } } | null; drift: { psi: number | null } }[];
}

test('models train on ingested events, score them end to end, and are managed through the API', async () => {
  const vigil = await startTestVigil({ ml: { min_samples: 300, retrain_cron: '', detectors: [{ id: 'web', preset: 'web' }] } });
  try {
    const send = (lines: string[]) => vigil.call('/api/v1/events?format=nginx', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: lines.join('\n') });
    const list = async () => (await (await vigil.call('/api/v1/models')).json()) as ModelList;

    const before = await list();
    assert.equal(before.total, 1);
    assert.equal(before.models[0]!.state, 'collecting');
    assert.equal((await send(accessLines(400, 1))).status, 200);
    const ready = await eventually(list, (l) => l.models[0]!.state === 'ready', 'the first model');
    const web = ready.models[0]!;
    assert.equal(web.active_version, 1);
    assert.equal(web.samples, 400);
    assert.ok(web.model!.thresholds.low! > web.model!.thresholds.anomaly!);
    assert.ok(web.model!.histogram.edges.length > 0);

    assert.equal((await send([ATTACK])).status, 200);
    type Alerts = { total: number; alerts: { rule: { kind: string; id: string }; severity: string; score: number; entity: { value: string }; details: { features: { feature: string }[] } }[] };
    // The attack also matches rules (its scanner user agent); the model's alert is the one about its oddity.
    const alerts = await eventually(async () => (await (await vigil.call('/api/v1/alerts')).json()) as Alerts, (a) => a.alerts.some((x) => x.rule.kind === 'model'), 'a model alert');
    const alert = alerts.alerts.find((a) => a.entity.value === '203.0.113.66' && a.rule.kind === 'model')!;
    assert.ok(alert, JSON.stringify(alerts.alerts.map((a) => a.entity)));
    assert.deepEqual(alert.rule, { ...alert.rule, kind: 'model', id: 'web' });
    assert.ok(alert.score > 0.6);
    assert.ok(alert.details.features.length > 0);
    await vigil.runtime.pipeline.idle();
    const anomalies = (await (await vigil.call('/api/v1/events?q=event.dataset:vigil.anomaly AND source.ip:203.0.113.66&from=2000-01-01T00:00:00Z')).json()) as { total: number; events: EcsEvent[] };
    assert.equal(anomalies.total, 1, 'the anomaly is stored as a searchable event');

    const one = (await (await vigil.call('/api/v1/models/web')).json()) as { recent_anomalies: { entity: { value: string } }[] };
    assert.equal(one.recent_anomalies[0]!.entity.value, '203.0.113.66');

    const retrained = await vigil.call('/api/v1/models/web/retrain', { method: 'POST' });
    assert.equal(retrained.status, 200);
    assert.equal(((await retrained.json()) as { version: number }).version, 2);
    const rolled = await vigil.call('/api/v1/models/web/rollback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(((await rolled.json()) as { version: number }).version, 1);
    assert.equal((await list()).models[0]!.active_version, 1);
    const forward = await vigil.call('/api/v1/models/web/rollback?version=2', { method: 'POST' });
    assert.equal(((await forward.json()) as { version: number }).version, 2);
    const noEarlier = await vigil.call('/api/v1/models/web/rollback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"version": 7}' });
    assert.equal(noEarlier.status, 404);
    assert.equal((await vigil.call('/api/v1/models/nope')).status, 404);

    const { token: viewer } = vigil.runtime.credentials.createToken('viewer', 'viewer');
    assert.equal((await vigil.call('/api/v1/models', { token: viewer })).status, 200);
    assert.equal((await vigil.call('/api/v1/models/web/retrain', { method: 'POST', token: viewer })).status, 403);
    const { token: analyst } = vigil.runtime.credentials.createToken('analyst', 'analyst');
    assert.equal((await vigil.call('/api/v1/models/web/retrain', { method: 'POST', token: analyst })).status, 200);
    assert.equal((await vigil.call('/api/v1/models', { token: null })).status, 401);

    const health = (await (await vigil.call('/api/v1/health')).json()) as { components: { models: { detectors: { web: { state: string } } } } };
    assert.equal(health.components.models.detectors.web.state, 'ready');
  } finally {
    await vigil.close();
  }
});

test('too few samples to retrain answers 409 with the counts', async () => {
  const vigil = await startTestVigil({ ml: { retrain_cron: '', detectors: [{ id: 'web', preset: 'web' }] } });
  try {
    const response = await vigil.call('/api/v1/models/web/retrain', { method: 'POST' });
    assert.equal(response.status, 409);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /0 usable samples .* trains from 256 \(min_samples\)/);
  } finally {
    await vigil.close();
  }
});
