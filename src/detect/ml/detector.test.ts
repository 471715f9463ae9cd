// Detectors end to end on synthetic traffic: scoring starts at min_samples, anomalies carry severity, score and an
// explanation, models persist and reload, rule-alerted evidence is not trained on, drift and the schedule retrain,
// rollback, corrupt model files, missing features and unreadable events.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { mlSchema } from '../../config/ml.js';
import { ManualClock } from '../../core/clock.js';
import type { Detection } from '../../core/detection.js';
import type { EcsEvent } from '../../core/event.js';
import { Random } from './iforest/random.js';
import { forestFile } from './models/model.js';
import { Models } from './models.js';

const T0 = Date.parse('2024-03-03T10:00:00.000Z');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-ml-'));
  dirs.push(dir);
  return dir;
}

/** Ordinary shop traffic: product pages, searches, static files and carts; mostly 200s and 304s, a few 404s. */
class Traffic {
  private readonly rng: Random;
  private i = 0;
  constructor(seed = 1) {
    this.rng = new Random(seed);
  }
  private pick<T>(items: readonly (readonly [T, number])[]): T {
    let r = this.rng.next();
    for (const [item, p] of items) if ((r -= p) < 0) return item;
    return items[items.length - 1]![0];
  }
  normal(n: number, scale = 1): EcsEvent[] {
    const words = ['red', 'shoes', 'blue', 'shirt', 'bag', 'size', 'sale', 'kids'];
    return Array.from({ length: n }, () => {
      const r = this.rng;
      const kind = this.pick([['product', 0.5], ['search', 0.2], ['static', 0.2], ['cart', 0.1]] as const);
      const target =
        kind === 'product' ? `/products?id=${1 + r.below(500)}`
        : kind === 'search' ? `/search?q=${words[r.below(8)]}%20${words[r.below(8)]}&page=${1 + r.below(5)}`
        : kind === 'static' ? `/static/app.${(r.nextUint32() >>> 8).toString(16)}.js`
        : `/cart?add=${1 + r.below(500)}&qty=${1 + r.below(3)}`;
      const status = this.pick([[200, 0.85], [304, 0.08], [404, 0.05], [302, 0.02]] as const);
      const bytes = status === 304 ? 0 : status === 404 ? 150 + r.below(20) : kind === 'static' ? 40_000 + r.below(20_000) : 3000 + r.below(4000);
      const method = kind === 'cart' ? 'POST' : this.pick([['GET', 0.95], ['HEAD', 0.05]] as const);
      const ms = 5 + 60 * r.next() * r.next();
      return this.request(target, status, Math.round(scale * bytes), scale * ms, method, `192.0.2.${1 + r.below(50)}`);
    });
  }
  attack(): EcsEvent {
    return this.request("/products.php?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--%20&debug=%3Cscript%3E", 500, 0, 2400, 'POST', '203.0.113.66');
  }
  request(target: string, status: number, bytes: number, ms: number, method: string, ip: string): EcsEvent {
    const q = target.indexOf('?');
    const i = this.i++;
    return {
      '@timestamp': new Date(T0 + i * 100).toISOString(),
      event: { id: `req-${i}`, dataset: 'nginx.access', duration: Math.round(ms * 1e6) },
      source: { ip },
      http: { request: { method }, response: { status_code: status, body: { bytes } } },
      url: { original: target, path: q < 0 ? target : target.slice(0, q), ...(q < 0 ? {} : { query: target.slice(q + 1) }) },
    };
  }
}

function webModels(dir: string, clock = new ManualClock(T0), extra: Record<string, unknown> = {}, logs: string[] = []): Models {
  const ml = mlSchema.parse({
    min_samples: 200,
    max_training_samples: 2000,
    drift_samples: 300,
    retrain_cron: '',
    detectors: [{ id: 'web', preset: 'web' }],
    ...extra,
  });
  return new Models({ ml, dataDir: dir, clock, log: (m) => logs.push(m) });
}

describe('a web request detector', () => {
  test('collects until min_samples, trains without blocking, then scores; attacks alert with an explanation', async () => {
    const dir = dataDir();
    const models = webModels(dir);
    const traffic = new Traffic();
    assert.deepEqual(models.process(traffic.normal(150)), []);
    assert.equal(models.get('web').state, 'collecting');
    assert.deepEqual(models.process(traffic.normal(60)), [], 'the batch that reaches min_samples starts training, it is not scored');
    assert.equal(models.get('web').state, 'training');
    await models.idle();
    const info = models.get('web') as { state: string; active_version: number; model: { training: { samples: number }; reason: string } };
    assert.equal(info.state, 'ready');
    assert.equal(info.active_version, 1);
    assert.equal(info.model.training.samples, 210);
    assert.equal(info.model.reason, 'initial');

    const normal = models.process(traffic.normal(200));
    assert.ok(normal.filter((d) => d.alert !== false).length <= 2, `ordinary traffic raised ${normal.length} alerts`);
    const attack = traffic.attack();
    const [found] = models.process([attack]);
    assert.ok(found, 'the injection request is an anomaly');
    const d = found as Detection;
    assert.equal(d.source.kind, 'model');
    assert.equal(d.source.id, 'web');
    assert.equal(d.source.title, 'Unusual web request');
    assert.notEqual(d.alert, false);
    assert.ok(['low', 'medium', 'high', 'critical'].includes(d.severity), d.severity);
    assert.ok(d.score! > 0.6 && d.score! <= 1, String(d.score));
    assert.deepEqual(d.evidence, [attack.event.id]);
    assert.deepEqual(d.entity, { field: 'source.ip', value: '203.0.113.66' });
    assert.equal(d.timestamp, attack['@timestamp']);
    const features = (d.details as { features: { feature: string; value: number; median: number; percentile: number; share: number }[] }).features;
    assert.ok(features.length > 0 && features.length <= 3);
    for (const f of features) {
      assert.ok(f.share > 0 && f.share <= 1);
      assert.ok(f.percentile === 100 || f.percentile === 0, `${f.feature} at percentile ${f.percentile}`);
    }
    assert.match(d.reason, /^source\.ip 203\.0\.113\.66: unusual \w+ [\d.]+ \(training median [\d.]+, (above|below) every training value\)/);
  });

  test('anomalies below the alert severity are recorded with alert: false', async () => {
    const models = webModels(dataDir(), new ManualClock(T0), { alert_severity: 'critical' });
    const traffic = new Traffic(2);
    models.process(traffic.normal(300));
    await models.idle();
    const found = [...models.process(traffic.normal(2000)), ...models.process([traffic.attack()])];
    assert.ok(found.length > 0);
    for (const d of found) {
      if (d.severity === 'critical') assert.notEqual(d.alert, false);
      else assert.equal(d.alert, false);
    }
    assert.ok(found.some((d) => d.severity === 'informational' && d.alert === false), 'the anomaly level is recorded without alerting');
  });

  test('the model persists: a restarted detector scores at once with the saved version', async () => {
    const dir = dataDir();
    const first = webModels(dir);
    const traffic = new Traffic(3);
    first.process(traffic.normal(300));
    await first.close();
    const again = webModels(dir);
    assert.equal(again.get('web').state, 'ready');
    assert.equal(again.get('web').active_version, 1);
    assert.equal(again.process([traffic.attack()]).length, 1);
  });

  test('events rules alerted on are left out of training', async () => {
    const models = webModels(dataDir());
    const traffic = new Traffic(4);
    const batch = traffic.normal(260);
    models.excludeEvidence(batch.slice(0, 10).map((e) => e.event.id));
    models.process(batch);
    models.excludeEvidence(batch.slice(10, 40).map((e) => e.event.id));
    await models.idle();
    const meta = await models.retrain('web');
    assert.equal(meta.training.excluded, 40);
    assert.equal(meta.training.samples, 220);
    assert.equal((models.get('web').counters as { excluded: number }).excluded, 30, 'ten were excluded before they arrived');
  });

  test('retraining on demand makes a new version; rollback returns to the previous one and back', async () => {
    const models = webModels(dataDir());
    const traffic = new Traffic(5);
    models.process(traffic.normal(250));
    await models.idle();
    models.process(traffic.normal(100));
    const v2 = await models.retrain('web');
    assert.equal(v2.version, 2);
    assert.equal(v2.reason, 'manual');
    assert.equal(v2.training.samples, 350);
    const back = models.rollback('web');
    assert.equal(back.version, 1);
    assert.equal(models.get('web').active_version, 1);
    assert.equal(models.rollback('web', 2).version, 2);
    assert.throws(() => models.rollback('web', 9), /no version 9/);
    const versions = models.get('web').versions as { version: number; samples: number; seconds: number }[];
    assert.deepEqual(versions.map((v) => [v.version, v.samples]), [[1, 250], [2, 350]]);
    assert.ok(versions.every((v) => v.seconds > 0));
    assert.throws(() => models.rollback('web', 1) && models.rollback('web', undefined), /no earlier usable version/);
  });

  test('a running training reports its progress; live scores are counted in bins from the new version on', async () => {
    const models = webModels(dataDir());
    const traffic = new Traffic(8);
    models.process(traffic.normal(250));
    await models.idle();
    models.process(traffic.normal(300));
    const scored = models.get('web').live_scores as { bins: number[]; total: number };
    assert.equal(scored.bins.length, 20);
    assert.equal(scored.total, 300);
    const seen: number[] = [];
    const training = models.retrain('web');
    // Training yields the event loop between slices: look at the model between them until it is done.
    let done = false;
    void training.then(() => (done = true));
    while (!done) {
      const info = models.get('web');
      if (info.state === 'training') seen.push(info.training_progress as number);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal((await training).version, 2);
    assert.ok(seen.length >= 2, `progress seen ${seen.length} times`);
    assert.ok(seen.every((p, i) => p >= 0 && p <= 1 && (i === 0 || p >= seen[i - 1]!)), `progress only grows: ${seen.join(' ')}`);
    assert.ok(seen[seen.length - 1]! > 0.5);
    const after = models.get('web');
    assert.equal(after.training_progress, undefined);
    assert.equal((after.live_scores as { total: number }).total, 0, 'a new version starts a new histogram');
    assert.equal(after.alert_severity, 'low');
  });

  test('too few usable samples: retrain says so (409) and nothing changes', async () => {
    const models = webModels(dataDir());
    models.process(new Traffic(6).normal(50));
    await assert.rejects(models.retrain('web'), (err: { id?: string; message: string }) => err.id === 'conflict' && /50 usable samples .* trains from 200/.test(err.message));
    assert.throws(() => models.get('nope'), /no model "nope"/);
  });

  test('drift: when live scores move away from training (PSI over the threshold) the model retrains', async () => {
    const logs: string[] = [];
    const clock = new ManualClock(T0);
    const models = webModels(dataDir(), clock, {}, logs);
    const traffic = new Traffic(7);
    models.process(traffic.normal(250));
    await models.idle();
    models.process(traffic.normal(300));
    await models.idle();
    const calm = models.get('web').drift as { psi: number };
    assert.ok(calm.psi < 0.25, `PSI on unchanged traffic ${calm.psi}`);
    // Everything ten times larger and slower.
    models.process(traffic.normal(300, 10));
    assert.ok((models.get('web').drift as { psi: number }).psi > 0.25);
    await models.idle();
    const versions = models.get('web').versions as { version: number }[];
    const latest = models.detector('web').active!;
    assert.equal(latest.reason, 'drift');
    assert.equal(versions.length, 2);
    assert.match(logs.join('\n'), /retraining: live scores drifted \(PSI \d/);

    // Still drifted soon after: no new version each window; ten minutes on, one more.
    models.process(traffic.normal(300, 100));
    await models.idle();
    assert.ok((models.get('web').drift as { psi: number }).psi > 0.25);
    assert.equal((models.get('web').versions as unknown[]).length, 2, 'no retraining within the cooldown');
    clock.advance(10 * 60_000);
    models.process(traffic.normal(300, 1000));
    await models.idle();
    assert.equal((models.get('web').versions as unknown[]).length, 3, 'drift retrains again after the cooldown');
  });

  test('the cron schedule retrains when the injected clock reaches it', async () => {
    const clock = new ManualClock(Date.parse('2024-03-03T10:20:00Z'));
    const models = webModels(dataDir(), clock, { retrain_cron: '0 * * * *', retrain_timezone: 'UTC' });
    models.process(new Traffic(8).normal(250));
    await models.idle();
    models.tick();
    assert.equal(models.get('web').next_retrain, '2024-03-03T11:00:00.000Z');
    clock.set(Date.parse('2024-03-03T10:59:59Z'));
    models.tick();
    assert.equal(models.get('web').active_version, 1);
    clock.set(Date.parse('2024-03-03T11:00:01Z'));
    models.tick();
    await models.idle();
    assert.equal(models.detector('web').active?.reason, 'schedule');
    assert.equal(models.get('web').next_retrain, '2024-03-03T12:00:00.000Z');
  });

  test('a corrupt model file: the detector falls back to the previous version, or collects again; never a crash', async () => {
    const dir = dataDir();
    const models = webModels(dir);
    const traffic = new Traffic(9);
    models.process(traffic.normal(250));
    await models.idle();
    await models.retrain('web');
    await models.close();
    const folder = join(dir, 'models', 'web');
    writeFileSync(join(folder, forestFile(2)), 'not a forest');
    const logs: string[] = [];
    const reopened = webModels(dir, new ManualClock(T0), {}, logs);
    assert.equal(reopened.get('web').active_version, 1);
    assert.match(logs.join('\n'), /version 2: .*not a usable Isolation Forest model/);
    const versions = reopened.get('web').versions as { version: number; error?: string }[];
    assert.match(versions[1]!.error!, /bad magic/);
    writeFileSync(join(folder, forestFile(1)), Buffer.alloc(0));
    const empty = webModels(dir, new ManualClock(T0), {}, []);
    assert.equal(empty.get('web').state, 'collecting');
    assert.deepEqual(empty.process(traffic.normal(10)), []);
  });

  test('missing features are imputed with the training median and shown as missing', async () => {
    const models = webModels(dataDir());
    const traffic = new Traffic(10);
    models.process(traffic.normal(250));
    await models.idle();
    const odd = traffic.request('/admin/backup.tar.gz', 200, 900_000_000, 0, 'GET', '203.0.113.9');
    delete (odd.event as { duration?: number }).duration;
    const [d] = models.process([odd]);
    assert.ok(d);
    const values = (d.details as { values: Record<string, number | null> }).values;
    assert.equal(values.response_time_ms, null);
    assert.ok(((models.get('web').counters as { imputed: number }).imputed) >= 1);
  });

  test('unreadable events are skipped and counted, never thrown on', () => {
    const models = webModels(dataDir());
    const bad = [
      { event: { dataset: 'nginx.access' } },
      { '@timestamp': 'yesterday', event: { id: 'a', dataset: 'nginx.access' } },
      { '@timestamp': new Date(T0).toISOString(), event: { id: 'b', dataset: 'nginx.access', duration: 'slow' }, http: { response: { status_code: 'NaN' } }, url: { original: 42 } },
      null,
    ] as unknown as EcsEvent[];
    assert.doesNotThrow(() => models.process(bad.filter((e) => e !== null)));
    const extraction = models.get('web').extraction as { events: number; skipped: number; samples: number };
    assert.deepEqual(extraction, { events: 3, skipped: 2, samples: 1 });
  });
});

describe('entity detectors', () => {
  test('a source address that suddenly scans many ports is an anomaly of the source-ip detector', async () => {
    const ml = mlSchema.parse({ min_samples: 150, retrain_cron: '', detectors: [{ id: 'src', preset: 'source_ip' }] });
    const models = new Models({ ml, dataDir: dataDir(), clock: new ManualClock(T0) });
    const rng = new Random(11);
    let n = 0;
    // Forty hosts with their own habits: a few to twenty connections a minute to one to three services.
    const minute = (m: number, extra: EcsEvent[] = []): EcsEvent[] => {
      const events: EcsEvent[] = [];
      for (let host = 0; host < 40; host++) {
        const count = 1 + rng.below(host % 2 === 0 ? 5 : 20);
        for (let k = 0; k < count; k++) {
          events.push({
            '@timestamp': new Date(T0 + m * 60_000 + rng.below(59_000)).toISOString(),
            event: { id: `c${n++}`, dataset: 'sshd', outcome: rng.next() < 0.05 ? 'failure' : 'success' },
            source: { ip: `10.0.0.${host}`, bytes: rng.below(5000) },
            user: { name: `user${host}${rng.below(2)}` },
            destination: { ip: `10.0.1.${rng.below(3)}`, port: [22, 80, 443][rng.below(1 + (host % 3))] },
          } as EcsEvent);
        }
      }
      return [...events.sort((a, b) => a['@timestamp'].localeCompare(b['@timestamp'])), ...extra];
    };
    for (let m = 0; m < 5; m++) models.process(minute(m));
    await models.idle();
    assert.equal(models.get('src').state, 'ready');
    const scan: EcsEvent[] = Array.from({ length: 300 }, (_, i) => ({
      '@timestamp': new Date(T0 + 5 * 60_000 + i * 100).toISOString(),
      event: { id: `scan${i}`, dataset: 'sshd', outcome: 'failure' },
      source: { ip: '203.0.113.50' },
      user: { name: ['root', 'admin', 'test', 'oracle'][i % 4] },
      destination: { ip: '10.0.1.1', port: 1 + i },
    }) as EcsEvent);
    const found = [...models.process(minute(5, scan)), ...models.process(minute(6))];
    const scanner = found.find((d) => d.entity?.value === '203.0.113.50');
    assert.ok(scanner, `found ${found.map((d) => d.entity?.value).join(', ')}`);
    assert.notEqual(scanner.alert, false);
    assert.deepEqual(scanner.entity, { field: 'source.ip', value: '203.0.113.50' });
    assert.equal(scanner.evidence.length, 32);
    const features = (scanner.details as { features: { feature: string }[]; window: { start: string; end: string } });
    assert.deepEqual(features.window, { start: new Date(T0 + 5 * 60_000).toISOString(), end: new Date(T0 + 6 * 60_000).toISOString() });
    assert.ok(features.features.some((f) => ['distinct_dest_ports', 'events', 'distinct_users', 'failure_ratio'].includes(f.feature)));
  });
});

describe('configuration', () => {
  test('the example in the README loads, and a bad detector is refused at load with its name', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const yaml = /## Anomaly detection[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1]!;
    const ml = mlSchema.parse((parseYaml(yaml) as { ml: unknown }).ml);
    const models = new Models({ ml, dataDir: dataDir(), clock: new ManualClock(T0) });
    assert.deepEqual(models.ids, ['web-requests', 'source-ip', 'api-latency']);
    assert.equal(models.get('source-ip').step_ms, 60_000);
    assert.equal(models.get('source-ip').window_ms, 300_000);
    const bad = mlSchema.parse({ detectors: [{ id: 'x', kind: 'entity', features: [{ name: 'n', agg: 'count' }] }] });
    assert.throws(() => new Models({ ml: bad, dataDir: dataDir(), clock: new ManualClock(T0) }), /ml detector x: an entity detector needs "entity"/);
    const noAgg = mlSchema.parse({ detectors: [{ id: 'y', kind: 'entity', entity: 'host.name', features: [{ name: 'n' }] }] });
    assert.throws(() => new Models({ ml: noAgg, dataDir: dataDir(), clock: new ManualClock(T0) }), /feature n needs "agg"/);
    assert.throws(() => mlSchema.parse({ retrain_cron: 'every day' }), /cron expression/);
    assert.throws(() => mlSchema.parse({ severity: { low: 0.5 } }), /quantiles must increase/);
    assert.equal(new Models({ ml: mlSchema.parse({ enabled: false }), dataDir: dataDir(), clock: new ManualClock(T0) }).ids.length, 0);
  });
});
