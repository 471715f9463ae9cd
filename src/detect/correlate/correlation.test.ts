import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Detection } from '../../core/detection.js';
import { RuleEngine } from '../rules/engine.js';
import { makeEvent } from '../rules/testing.js';
import { percentile } from './correlation.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function engineWith(yaml: string, options: Parameters<typeof RuleEngine.load>[0] = {}): Promise<RuleEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-corr-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'rule.yml'), yaml);
  const engine = await RuleEngine.load({ dirs: [dir], watch: false, ...options });
  assert.deepEqual(engine.report().rejected, []);
  return engine;
}

const BASE = `---
title: failed login
name: failed
logsource:
    product: linux
    service: sshd
detection:
    sel:
        event.outcome: failure
    condition: sel
---
title: good login
name: good
logsource:
    product: linux
    service: sshd
detection:
    sel:
        event.outcome: success
    condition: sel
`;

const at = (seconds: number) => new Date(Date.UTC(2025, 0, 20, 10, 0, 0) + seconds * 1000).toISOString();
const ssh = (seconds: number, outcome: string, ip: string, user = 'root', extra: Record<string, unknown> = {}) =>
  makeEvent({ '@timestamp': at(seconds), event: { dataset: 'sshd', outcome }, source: { ip }, user: { name: user }, ...extra });
const only = (ds: Detection[], title: string) => ds.filter((d) => d.source.title === title);

function correlation(body: string, level = 'high'): string {
  return `title: corr\nid: corr-1\nauthor: tester\ncorrelation:\n${body}\nlevel: ${level}\n${BASE}`;
}

describe('Sigma correlations', () => {
  test('event_count: a sliding window over event time, not clock-aligned buckets', async () => {
    const engine = await engineWith(correlation('    type: event_count\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 1m\n    condition:\n        gte: 3'));
    // 10:00:50, 10:01:05, 10:01:20 straddle a minute boundary but lie within 60 s.
    const out = engine.process([ssh(50, 'failure', '203.0.113.1'), ssh(65, 'failure', '203.0.113.1'), ssh(80, 'failure', '203.0.113.1')]);
    const fired = only(out, 'corr');
    assert.equal(fired.length, 1);
    assert.deepEqual(fired[0]!.entity, { field: 'source.ip', value: '203.0.113.1' });
    assert.deepEqual(fired[0]!.group, { 'source.ip': '203.0.113.1' });
    assert.equal(fired[0]!.evidence.length, 3);
    assert.equal(fired[0]!.severity, 'high');
    assert.equal(fired[0]!.source.kind, 'correlation');
    assert.equal(fired[0]!.source.author, 'tester');
    assert.equal(fired[0]!.timestamp, at(80));
    assert.match(fired[0]!.reason, /3 events within 1m for source\.ip=203\.0\.113\.1/);
    // Referenced rules do not emit on their own (generate is false by default).
    assert.equal(out.length, 1);
    // Spread out: never three within a minute; other groups are separate.
    const quiet = await engineWith(correlation('    type: event_count\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 1m\n    condition:\n        gte: 3'));
    assert.deepEqual(quiet.process([ssh(0, 'failure', 'a'), ssh(40, 'failure', 'a'), ssh(61, 'failure', 'a'), ssh(62, 'failure', 'b'), ssh(63, 'failure', 'c')]), []);
  });

  test('a fired window starts over; a range condition (gt and lte)', async () => {
    const engine = await engineWith(correlation('    type: event_count\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 10m\n    condition:\n        gt: 1\n        lte: 3'));
    const out = engine.process([0, 1, 2, 3, 4].map((s) => ssh(s, 'failure', 'x')));
    assert.equal(out.length, 2); // after events 2 and 4
  });

  test('value_count counts distinct values per group', async () => {
    const engine = await engineWith(correlation('    type: value_count\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 5m\n    condition:\n        field: user.name\n        gte: 3'));
    assert.deepEqual(engine.process([ssh(0, 'failure', 'x', 'a'), ssh(1, 'failure', 'x', 'a'), ssh(2, 'failure', 'x', 'b'), ssh(3, 'failure', 'y', 'c')]), []);
    const out = engine.process([ssh(4, 'failure', 'x', 'c')]);
    assert.equal(out.length, 1);
    assert.match(out[0]!.reason, /3 distinct user\.name/);
  });

  test('temporal (any order) and temporal_ordered (in order)', async () => {
    const any = await engineWith(correlation('    type: temporal\n    rules: [good, failed]\n    group-by: [user.name]\n    timespan: 5m'));
    assert.equal(any.process([ssh(0, 'success', 'a', 'u'), ssh(10, 'failure', 'b', 'u')]).length, 1);
    const ordered = await engineWith(correlation('    type: temporal_ordered\n    rules: [failed, good]\n    group-by: [user.name]\n    timespan: 5m'));
    assert.deepEqual(ordered.process([ssh(0, 'success', 'a', 'u'), ssh(10, 'failure', 'b', 'u')]), []);
    const out = ordered.process([ssh(20, 'success', 'c', 'u')]);
    assert.equal(out.length, 1);
    assert.match(out[0]!.reason, /failed then good in order within 5m for user\.name=u/);
    // Too far apart.
    assert.deepEqual(ordered.process([ssh(1000, 'failure', 'a', 'v'), ssh(1400, 'success', 'a', 'v')]), []);
  });

  test('value_sum, value_avg and value_percentile over a numeric field', async () => {
    const bytes = (s: number, n: number) => ssh(s, 'failure', 'x', 'u', { http: { response: { body: { bytes: n } } } });
    const sum = await engineWith(correlation('    type: value_sum\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 1h\n    condition:\n        field: http.response.body.bytes\n        gte: 1000'));
    assert.equal(sum.process([bytes(0, 400), bytes(1, 500)]).length, 0);
    assert.equal(sum.process([bytes(2, 100)]).length, 1);
    const avg = await engineWith(correlation('    type: value_avg\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 1h\n    condition:\n        field: http.response.body.bytes\n        gt: 100'));
    assert.equal(avg.process([bytes(0, 50), bytes(1, 100)]).length, 0);
    assert.equal(avg.process([bytes(2, 300)]).length, 1);
    const p90 = await engineWith(correlation('    type: value_percentile\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 1h\n    condition:\n        field: http.response.body.bytes\n        percentile: 90\n        gt: 900'));
    const events = [100, 200, 300, 400, 500, 600, 700, 800, 900].map((n, i) => bytes(i, n));
    assert.equal(p90.process(events).length, 0);
    assert.equal(p90.process([bytes(10, 1000)]).length, 0); // p90 of 100…1000 is 900
    assert.equal(p90.process([bytes(11, 1100)]).length, 1); // p90 of 100…1100 is 1000
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
  });

  test('a long, wrapping window keeps its count, sum, distinct values and last evidence exact as events expire', async () => {
    // 1 event a second for 100 s in a 30 s window (both ends in): the queue wraps many times and never holds 32.
    const count = await engineWith(correlation('    type: event_count\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 30s\n    condition:\n        gte: 32'));
    const events = Array.from({ length: 100 }, (_, s) => ssh(s, 'failure', 'x'));
    assert.deepEqual(count.process(events), []);
    // A burst at 100 s: the window [70, 100] holds 30 + 2 at the burst's second event.
    const burst = Array.from({ length: 10 }, () => ssh(100, 'failure', 'x'));
    const fired = count.process(burst);
    assert.equal(fired.length, 1);
    assert.match(fired[0]!.reason, /: 32 events within 30s/);
    // The evidence is the newest 20 of the window, oldest first.
    const ids = [...events, ...burst].map((e) => e.event!.id as string);
    assert.deepEqual(fired[0]!.evidence, ids.slice(82, 102));

    const sum = await engineWith(correlation('    type: value_sum\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 10s\n    condition:\n        field: http.response.body.bytes\n        gte: 1000'));
    const bytes = (s: number, n: number) => ssh(s, 'failure', 'x', 'u', { http: { response: { body: { bytes: n } } } });
    // 90 bytes a second: at most 11 × 90 within 10 s, however long it runs, if old values leave the sum.
    assert.deepEqual(sum.process(Array.from({ length: 200 }, (_, s) => bytes(s, 90))), []);
    assert.equal(sum.process([bytes(200, 110)]).length, 1); // 190…199 s: 10 × 90, + 110

    const distinct = await engineWith(correlation('    type: value_count\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 10s\n    condition:\n        field: user.name\n        gte: 12'));
    // A new user name a second: at most 11 distinct in any 10 s window, so it never fires while old names leave.
    assert.deepEqual(distinct.process(Array.from({ length: 100 }, (_, s) => ssh(s, 'failure', 'x', `user${s}`))), []);
    assert.equal(distinct.process([ssh(99, 'failure', 'x', 'extra')]).length, 1); // 89…99 s: 11 names + 1
  });

  test('a window holds at most max_events_per_group events; the oldest leave first and are counted', async () => {
    const engine = await engineWith(correlation('    type: event_count\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 1h\n    condition:\n        gte: 6'), { limits: { maxEventsPerGroup: 5 } });
    assert.deepEqual(engine.process(Array.from({ length: 20 }, (_, s) => ssh(s, 'failure', 'x'))), []);
    assert.equal(engine.stats().truncated, 15);
  });

  test('aliases read different fields of different rules as one group', async () => {
    const yaml = `title: corr\nid: corr-1\ncorrelation:\n    type: temporal\n    rules: [failed, good]\n    group-by: [who]\n    timespan: 5m\n    aliases:\n        who:\n            failed: user.name\n            good: user.target.name\n${BASE}`;
    const engine = await engineWith(yaml);
    const out = engine.process([ssh(0, 'failure', 'a', 'mallory'), ssh(5, 'success', 'b', 'alice', { user: { name: 'alice', target: { name: 'mallory' } } })]);
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]!.group, { 'user.name': 'mallory' });
  });

  test('generate: true keeps the referenced rules emitting', async () => {
    const engine = await engineWith(correlation('    type: event_count\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 1m\n    generate: true\n    condition:\n        gte: 2'));
    const out = engine.process([ssh(0, 'failure', 'x'), ssh(1, 'failure', 'x')]);
    assert.equal(only(out, 'failed login').length, 2);
    assert.equal(only(out, 'corr').length, 1);
  });

  test('chains: a correlation of a correlation', async () => {
    const yaml = `title: outer\nid: outer-1\ncorrelation:\n    type: temporal_ordered\n    rules: [many, good]\n    group-by: [source.ip]\n    timespan: 10m\n---\ntitle: many\nname: many\ncorrelation:\n    type: event_count\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 5m\n    condition:\n        gte: 3\n${BASE}`;
    const engine = await engineWith(yaml);
    const out = engine.process([ssh(0, 'failure', 'x'), ssh(1, 'failure', 'x'), ssh(2, 'failure', 'x'), ssh(30, 'success', 'x')]);
    assert.deepEqual(out.map((d) => d.source.title), ['outer']);
    assert.deepEqual(out[0]!.group, { 'source.ip': 'x' });
  });

  test('groups are capped per rule: the least recently seen are evicted and counted', async () => {
    const engine = await engineWith(correlation('    type: event_count\n    rules: [failed]\n    group-by: [source.ip]\n    timespan: 1h\n    condition:\n        gte: 2'), { limits: { maxGroups: 2 } });
    engine.process([ssh(0, 'failure', 'a'), ssh(1, 'failure', 'b'), ssh(2, 'failure', 'c')]); // evicts a
    assert.equal(engine.stats().evictions, 1);
    assert.deepEqual(engine.stats().evictionsByRule, { 'corr-1': 1 });
    assert.equal(engine.process([ssh(3, 'failure', 'a')]).length, 0); // a starts over
    assert.equal(engine.process([ssh(4, 'failure', 'c')]).length, 1);
  });

  test('rejected correlations: unknown references, missing field, bad timespan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-corr-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'a.yml'), 'title: a\ncorrelation:\n    type: event_count\n    rules: [nope]\n    timespan: 1m\n    condition:\n        gte: 1\n');
    writeFileSync(join(dir, 'b.yml'), `title: b\ncorrelation:\n    type: value_count\n    rules: [failed]\n    timespan: 1m\n    condition:\n        gte: 1\n${BASE}`);
    writeFileSync(join(dir, 'c.yml'), 'title: c\ncorrelation:\n    type: event_count\n    rules: [x]\n    timespan: 1 hour\n    condition:\n        gte: 1\n');
    const engine = await RuleEngine.load({ dirs: [dir], watch: false });
    const messages = engine.report().rejected.map((p) => `${p.file.slice(dir.length + 1)}:${p.line} ${p.message}`);
    assert.ok(messages.some((m) => /^a\.yml:1 references unknown rule "nope"/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /^b\.yml:\d+ a value_count correlation needs "field"/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /^c\.yml:5 correlation "timespan"/.test(m)), messages.join('\n'));
  });
});
