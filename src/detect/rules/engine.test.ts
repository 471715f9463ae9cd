import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import type { EcsEvent } from '../../core/event.js';
import { RuleEngine } from './engine.js';
import type { LoadReport } from './ruleset.js';
import { makeEvent } from './testing.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  dirs.push(dir);
  return dir;
}

const GOOD = `title: Root login
id: root-login
author: Someone (Somewhere)
tags: [attack.t1078]
logsource:
    product: linux
    service: sshd
detection:
    sel:
        user.name: root
        event.outcome: success
    condition: sel
level: critical
`;

const COUNTING = `title: Failures
id: failures
correlation:
    type: event_count
    rules: [failure]
    group-by: [source.ip]
    timespan: 1h
    condition:
        gte: 3
---
title: failure
name: failure
logsource:
    product: linux
    service: sshd
detection:
    sel:
        event.outcome: failure
    condition: sel
`;

const login = (user: string, outcome = 'success', ip = '203.0.113.5'): EcsEvent =>
  makeEvent({ event: { dataset: 'sshd', outcome }, user: { name: user }, source: { ip }, host: { name: 'gw' } });

describe('RuleEngine', () => {
  test('a detection per match, with the rule, author, severity, entity, evidence, reason and tags', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'root.yml'), GOOD);
    const engine = await RuleEngine.load({ dirs: [dir], watch: false });
    const event = login('root');
    const [d, ...rest] = engine.process([event, login('alice')]);
    assert.equal(rest.length, 0);
    assert.deepEqual(d!.source, { kind: 'sigma', id: 'root-login', title: 'Root login', path: join(dir, 'root.yml'), author: 'Someone (Somewhere)' });
    assert.equal(d!.severity, 'critical');
    assert.deepEqual(d!.entity, { field: 'source.ip', value: '203.0.113.5' });
    assert.deepEqual(d!.evidence, [event.event.id]);
    assert.deepEqual(d!.tags, ['attack.t1078']);
    assert.equal(d!.timestamp, event['@timestamp']);
    assert.match(d!.reason, /^Root login: sel: user\.name = 'root', event\.outcome = 'success'$/);
    assert.equal(engine.get('root-login')?.hits, 1);
  });

  test('only rules whose logsource can select the event see it (dispatch by dataset)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'root.yml'), GOOD);
    const engine = await RuleEngine.load({ dirs: [dir], watch: false });
    const web = makeEvent({ event: { dataset: 'nginx.access', outcome: 'success' }, user: { name: 'root' } });
    assert.deepEqual(engine.process([web]), []);
  });

  test('a broken rule is reported with file and line and the others keep working', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'root.yml'), GOOD);
    writeFileSync(join(dir, 'broken.yml'), 'title: broken\nlogsource:\n    category: webserver\ndetection:\n    sel:\n        cs-uri-query|nonsense: x\n    condition: sel\n');
    writeFileSync(join(dir, 'yaml.yml'), 'title: [unclosed\n');
    writeFileSync(join(dir, 'windows.yml'), 'title: win\nlogsource:\n    product: windows\ndetection:\n    sel:\n        EventID: 4625\n    condition: sel\n');
    const engine = await RuleEngine.load({ dirs: [dir], watch: false });
    const report = engine.report();
    assert.equal(report.compiled, 2);
    assert.equal(report.active, 1);
    assert.deepEqual(report.inactive.map((i) => i.reason), ['no Vigil source for product windows']);
    const rejected = report.rejected.map((p) => `${p.file.slice(dir.length + 1)}:${p.line}`);
    assert.deepEqual(rejected.sort(), ['broken.yml:6', 'yaml.yml:2']);
    assert.equal(engine.process([login('root')]).length, 1);
    assert.equal(engine.list().find((r) => r.title === 'win')?.inactive, 'no Vigil source for product windows');
  });

  test('enable and disable by id; list shows hit counts', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'root.yml'), GOOD);
    const engine = await RuleEngine.load({ dirs: [dir], watch: false });
    assert.equal(engine.disable('root-login'), true);
    assert.deepEqual(engine.process([login('root')]), []);
    assert.equal(engine.list()[0]!.enabled, false);
    assert.equal(engine.enable('root-login'), true);
    assert.equal(engine.process([login('root')]).length, 1);
    assert.equal(engine.disable('no-such-rule'), false);
    assert.deepEqual(engine.list().map((r) => [r.id, r.enabled, r.hits]), [['root-login', true, 1]]);
    const started = await RuleEngine.load({ dirs: [dir], watch: false, disabled: ['root-login'] });
    assert.deepEqual(started.process([login('root')]), []);
  });

  test('bad events are skipped, never thrown', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'root.yml'), GOOD);
    writeFileSync(join(dir, 'any.yml'), "title: any\nlogsource:\n    product: linux\n    category: process_creation\ndetection:\n    sel:\n        CommandLine|contains: 'x'\n    condition: sel\n");
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const engine = await RuleEngine.load({ dirs: [dir], watch: false, clock });
    const weird = [
      {} as EcsEvent,
      { '@timestamp': 'not a time', event: null } as unknown as EcsEvent,
      { '@timestamp': 5, event: { dataset: 7, category: 'process', type: ['start'] }, process: { command_line: { nested: 'x' } } } as unknown as EcsEvent,
      makeEvent({ event: { dataset: 'sshd', outcome: ['success'] }, user: { name: ['root', 'x'] } }),
    ];
    const out = engine.process(weird);
    assert.equal(out.length, 1); // the list-valued root login
    assert.equal(engine.stats().events, 4);
  });

  test('rules reload when their folder changes; unchanged correlations keep their windows', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'counting.yml'), COUNTING);
    const reloads: LoadReport[] = [];
    let notify: () => void = () => {};
    const engine = await RuleEngine.load({
      dirs: [dir],
      debounceMs: 50,
      onReload: (report) => {
        reloads.push(report);
        notify();
      },
    });
    try {
      const fail = (s: number) => makeEvent({ '@timestamp': new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString(), event: { dataset: 'sshd', outcome: 'failure' }, source: { ip: 'x' } });
      assert.deepEqual(engine.process([fail(0), fail(1)]), []);
      const reloaded = new Promise<void>((resolve) => (notify = resolve));
      writeFileSync(join(dir, 'root.yml'), GOOD);
      await reloaded;
      assert.equal(reloads.length >= 1, true);
      assert.equal(engine.report().compiled, 3);
      // The window kept its two failures: the third fires.
      assert.equal(engine.process([fail(2)]).length, 1);
      assert.equal(engine.process([login('root')]).length, 1);
      assert.equal(engine.stats().reloads >= 1, true);
    } finally {
      engine.close();
    }
  });

  test('a missing folder loads nothing and does not throw', async () => {
    const missing = join(tempDir(), 'nope');
    assert.equal(existsSync(missing), false);
    const engine = await RuleEngine.load({ dirs: [missing] });
    assert.equal(engine.report().compiled, 0);
    engine.close();
  });
});
