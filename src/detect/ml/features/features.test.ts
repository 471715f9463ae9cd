// Feature extraction: web request features on known events, entity windows (aggregates, closing, sliding, late
// events, bounded state with eviction), filters, and exclusion bookkeeping.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EcsEvent } from '../../../core/event.js';
import { PRESETS } from '../presets.js';
import { DISTINCT_CAP, EntityWindows } from './entity-windows.js';
import { EventFeatures } from './event-features.js';
import { compileFilters, compileSelection } from './read.js';
import { ExclusionIndex, isExcluded } from './types.js';
import { entropy, WEB_FEATURE_FNS } from './web.js';

const T0 = Date.parse('2024-03-03T10:00:00.000Z');
let nextId = 0;

function ev(seconds: number, fields: Record<string, unknown> = {}, dataset = 'sshd'): EcsEvent {
  const { event, ...rest } = fields as { event?: Record<string, unknown> };
  return { '@timestamp': new Date(T0 + seconds * 1000).toISOString(), event: { id: `id-${nextId++}`, dataset, ...event }, ...rest } as EcsEvent;
}

describe('web request features', () => {
  const request = ev(0, {
    event: { duration: 250_000_000 },
    http: { request: { method: 'POST' }, response: { status_code: 404, body: { bytes: 153 } } },
    url: { original: '/a.php?id=1%27%20OR%201=1&x=', path: '/a.php', query: 'id=1%27%20OR%201=1&x=' },
  }, 'nginx.access');

  test('each built-in feature reads the ECS fields the access-log parser writes', () => {
    const f = WEB_FEATURE_FNS;
    assert.equal(f.response_time_ms(request), 250);
    assert.equal(f.status_class(request), 4);
    assert.equal(f.response_bytes(request), 153);
    assert.equal(f.url_length(request), '/a.php?id=1%27%20OR%201=1&x='.length);
    assert.equal(f.query_params(request), 2);
    const q = 'id=1%27%20OR%201=1&x=';
    assert.equal(f.query_letters(request), 5 / q.length); // i d O R x
    assert.equal(f.query_digits(request), 9 / q.length); // 1, 27, 20, 20, 1, 1
    assert.equal(f.query_special(request), 7 / q.length); // = % % % = & =
    assert.equal(f.query_encoded(request), 3);
    assert.equal(f.query_entropy(request), entropy(q));
    assert.equal(f.method(request), 2);
  });

  test('absent fields are missing (NaN in the sample), an absent query counts as empty', () => {
    const bare = ev(0, { url: { original: '/' } }, 'nginx.access');
    const extractor = new EventFeatures(PRESETS.web.features, compileSelection(PRESETS.web.datasets, undefined), 'source.ip', new ExclusionIndex(), 'web');
    const [sample] = extractor.push([bare]);
    const names = extractor.featureNames;
    const value = (name: string) => sample!.values[names.indexOf(name)]!;
    assert.ok(Number.isNaN(value('response_time_ms')));
    assert.ok(Number.isNaN(value('status_class')));
    assert.ok(Number.isNaN(value('method')));
    assert.equal(value('url_length'), 1);
    assert.equal(value('query_params'), 0);
    assert.equal(value('query_entropy'), 0);
  });

  test('entropy is in bits per character', () => {
    assert.equal(entropy(''), 0);
    assert.equal(entropy('aaaa'), 0);
    assert.equal(entropy('abab'), 1);
    assert.equal(entropy('abcd'), 2);
  });

  test('only selected datasets become samples; unreadable events are skipped and counted', () => {
    const extractor = new EventFeatures(PRESETS.web.features, compileSelection(PRESETS.web.datasets, undefined), 'source.ip', new ExclusionIndex(), 'web');
    const samples = extractor.push([
      request,
      ev(1, {}, 'sshd'),
      { '@timestamp': 'not a time', event: { id: 'x', dataset: 'nginx.access' } } as EcsEvent,
      { event: { dataset: 'apache.access' } } as unknown as EcsEvent,
    ]);
    assert.equal(samples.length, 1);
    assert.deepEqual(extractor.stats(), { events: 3, skipped: 2, samples: 1 });
  });
});

describe('filters', () => {
  test('equals matches scalars and array elements; min/max are a half-open range; exists', () => {
    const f = compileFilters([{ field: 'event.category', equals: 'authentication' }]);
    assert.ok(f(ev(0, { event: { category: ['authentication', 'session'] } })));
    assert.ok(!f(ev(0, { event: { category: ['network'] } })));
    const range = compileFilters([{ field: 'http.response.status_code', min: 400, max: 500 }]);
    assert.ok(range(ev(0, { http: { response: { status_code: 404 } } })));
    assert.ok(range(ev(0, { http: { response: { status_code: '400' } } })));
    assert.ok(!range(ev(0, { http: { response: { status_code: 500 } } })));
    assert.ok(!range(ev(0, {})));
    const exists = compileFilters([{ field: 'user.name', exists: false }]);
    assert.ok(exists(ev(0, {})));
    assert.ok(!exists(ev(0, { user: { name: 'x' } })));
  });
});

function windows(overrides: Partial<ConstructorParameters<typeof EntityWindows>[0]> = {}) {
  return new EntityWindows({
    features: PRESETS.source_ip.features,
    select: () => true,
    entityField: 'source.ip',
    windowMs: 60_000,
    stepMs: 60_000,
    latenessMs: 0,
    maxEntities: 100,
    exclusions: new ExclusionIndex(),
    detector: 'test',
    ...overrides,
  });
}

describe('entity windows', () => {
  test('one sample per entity per window, emitted when event time passes the window, with every aggregate', () => {
    const w = windows();
    const names = w.featureNames;
    const a = { source: { ip: '203.0.113.7' } };
    const batch = [
      ev(1, { ...a, user: { name: 'root' }, event: { outcome: 'failure' }, destination: { port: 22, ip: '10.0.0.1' } }),
      ev(2, { ...a, user: { name: 'admin' }, event: { outcome: 'failure' }, destination: { port: 22, ip: '10.0.0.1' } }),
      ev(3, { ...a, user: { name: 'admin' }, event: { outcome: 'success' }, destination: { port: 2222, ip: '10.0.0.2' } }),
      ev(4, { ...a, url: { path: '/x' }, http: { response: { status_code: 404, body: { bytes: 100 } } } }),
      ev(5, { source: { ip: '198.51.100.1' }, http: { response: { status_code: 503, body: { bytes: 7 } } } }),
    ];
    assert.deepEqual(w.push(batch), [], 'nothing closes inside the window');
    const samples = w.push([ev(61, { source: { ip: '192.0.2.9' } })]);
    assert.equal(samples.length, 2);
    const first = samples.find((s) => s.entity === '203.0.113.7')!;
    const get = (name: string) => first.values[names.indexOf(name)];
    assert.equal(get('events'), 4);
    assert.equal(get('failure_ratio'), 0.5);
    assert.equal(get('distinct_users'), 2);
    assert.equal(get('distinct_dest_ports'), 2);
    assert.equal(get('distinct_dest_ips'), 2);
    assert.equal(get('distinct_urls'), 1);
    assert.equal(get('ratio_4xx'), 0.25);
    assert.equal(get('ratio_5xx'), 0);
    assert.equal(get('bytes'), 100);
    assert.equal(first.evidence.length, 4);
    assert.equal(first.time, T0 + 4000, 'sample time is its newest event');
    assert.equal(first.windowStart, T0);
    assert.equal(first.windowEnd, T0 + 60_000);
    const second = samples.find((s) => s.entity === '198.51.100.1')!;
    assert.equal(second.values[names.indexOf('ratio_5xx')], 1);
    assert.equal(w.flush().length, 1);
  });

  test('mean and max ignore events without the field; a window without any value is missing', () => {
    const w = windows({ features: PRESETS.host.features, entityField: 'host.name' });
    const h = { host: { name: 'web1' } };
    w.push([
      ev(1, { ...h, host: { name: 'web1', cpu: { usage: 0.2 } } }, 'host.metrics'),
      ev(2, { ...h, host: { name: 'web1', cpu: { usage: 0.4 } } }, 'host.metrics'),
      ev(3, { ...h, event: { action: 'connection_opened' } }, 'host.network'),
      ev(4, { ...h, event: { action: 'start' } }, 'host.process'),
      ev(5, { ...h, event: { action: 'start' } }, 'host.process'),
    ]);
    const [s] = w.flush();
    const names = w.featureNames;
    assert.ok(Math.abs(s!.values[names.indexOf('cpu')]! - 0.3) < 1e-12);
    assert.ok(Number.isNaN(s!.values[names.indexOf('memory')]!));
    assert.equal(s!.values[names.indexOf('connections')], 1);
    assert.equal(s!.values[names.indexOf('new_processes')], 2);
    assert.equal(s!.values[names.indexOf('network_bytes')], 0);
  });

  test('sliding windows: a 60 s window with a 20 s step covers the last three steps', () => {
    const w = windows({ stepMs: 20_000 });
    const a = { source: { ip: '203.0.113.7' } };
    const out = [...w.push([ev(1, a), ev(25, a), ev(45, a)]), ...w.push([ev(65, a)]), ...w.push([ev(200, { source: { ip: '192.0.2.1' } })])];
    const events = out.filter((s) => s.entity === '203.0.113.7').map((s) => s.values[0]);
    // Windows ending at 20 s, 40 s, 60 s, 80 s hold 1, 2, 3 and 3 events.
    assert.deepEqual(events, [1, 2, 3, 3]);
  });

  test('late events within the lateness count in their own window; later ones in the oldest open window', () => {
    const w = windows({ latenessMs: 10_000 });
    const a = { source: { ip: '203.0.113.7' } };
    assert.deepEqual(w.push([ev(50, a), ev(65, a), ev(55, a)]), []);
    const closed = w.push([ev(71, a)]);
    assert.equal(closed.length, 1);
    assert.equal(closed[0]!.values[0], 2, 'the event at 55 s arrived within the lateness');
    w.push([ev(30, a)]);
    assert.equal(w.stats().late, 1);
    const [last] = w.flush();
    assert.equal(last!.values[0], 3, 'the late event joined the open window');
  });

  test('state is bounded: beyond max_entities the least recently seen entity is evicted and counted', () => {
    const w = windows({ maxEntities: 3 });
    w.push(['a', 'b', 'c'].map((ip, i) => ev(i, { source: { ip } })));
    w.push([ev(4, { source: { ip: 'a' } })]); // a is now the most recent
    w.push([ev(5, { source: { ip: 'd' } })]); // evicts b
    const stats = w.stats();
    assert.equal(stats.entities, 3);
    assert.equal(stats.evicted, 1);
    const samples = w.flush();
    assert.deepEqual(samples.map((s) => s.entity).sort(), ['a', 'c', 'd']);
    // Closed windows free their entities.
    assert.equal(w.stats().entities, 0);
  });

  test('distinct counts saturate at the cap', () => {
    const w = windows();
    const events = Array.from({ length: DISTINCT_CAP + 50 }, (_, i) => ev(1, { source: { ip: 'scanner' }, destination: { port: i } }));
    w.push(events);
    const [s] = w.flush();
    assert.equal(s!.values[w.featureNames.indexOf('distinct_dest_ports')], DISTINCT_CAP);
    assert.equal(s!.values[w.featureNames.indexOf('events')], DISTINCT_CAP + 50);
  });

  test('events without the entity field or a time are skipped and counted, never thrown on', () => {
    const w = windows();
    assert.deepEqual(w.push([ev(1, {}), { event: { id: 'z', dataset: 'x' } } as unknown as EcsEvent, ev(2, { source: { ip: ['203.0.113.1'] } })]), []);
    assert.equal(w.stats().skipped, 2);
  });
});

describe('exclusion', () => {
  test('excluding an event marks the sample (or open window) holding it, before or after it arrives', () => {
    const index = new ExclusionIndex();
    const w = windows({ exclusions: index });
    const a = { source: { ip: '203.0.113.7' } };
    const first = ev(1, a);
    w.push([first]);
    index.exclude([first.event.id]);
    const early = ev(2, { source: { ip: '198.51.100.2' } });
    index.exclude([early.event.id]);
    w.push([early, ev(3, { source: { ip: '192.0.2.3' } })]);
    const samples = w.flush();
    const excluded = new Map(samples.map((s) => [s.entity, isExcluded(s)]));
    assert.deepEqual(Object.fromEntries(excluded), { '203.0.113.7': true, '198.51.100.2': true, '192.0.2.3': false });
  });

  test('the index is bounded', () => {
    const index = new ExclusionIndex(10);
    for (let i = 0; i < 25; i++) index.track(`e${i}`, { excluded: false });
    assert.equal(index.size, 10);
  });
});
