// The web rules in rules/web and their fixtures, checked before the rule engine exists: every rule is a complete
// Sigma rule whose selections are `field|vigil.NAME: true`, and for every stored event in NAME.match.ndjson one of
// its selections' detectors fires on the event's field, for every event in NAME.nomatch.ndjson none does.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { SEVERITIES } from '../../core/detection.js';
import { getField } from '../../core/event.js';
import type { EcsEvent } from '../../core/event.js';
import { webDetectors } from './index.js';

const RULES_DIR = fileURLToPath(new URL('../../../rules/web', import.meta.url));

/** Sigma's webserver fields (W3C extended log names) and the ECS fields Vigil stores them in. */
const WEBSERVER_FIELDS: Record<string, string> = {
  'cs-uri-query': 'url.query',
  'cs-uri-stem': 'url.path',
  'cs-user-agent': 'user_agent.original',
};

interface Selection {
  name: string;
  field: string;
  detector: keyof typeof webDetectors;
}

function selections(rule: Record<string, unknown>): Selection[] {
  const detection = rule['detection'] as Record<string, unknown>;
  const out: Selection[] = [];
  for (const [name, body] of Object.entries(detection)) {
    if (name === 'condition') continue;
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      const m = /^([a-z-]+)\|vigil\.([a-z]+)$/.exec(key);
      assert.ok(m !== null, `${name}: ${key} is not field|vigil.NAME`);
      assert.equal(value, true, `${name}: ${key} must be true`);
      assert.ok(Object.hasOwn(WEBSERVER_FIELDS, m[1]!), `${key}: unknown webserver field`);
      assert.ok(Object.hasOwn(webDetectors, m[2]!), `${key}: no detector named ${m[2]}`);
      out.push({ name, field: m[1]!, detector: m[2] as keyof typeof webDetectors });
    }
  }
  return out;
}

function events(file: string): EcsEvent[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as EcsEvent);
}

function firing(sels: Selection[], event: EcsEvent): string[] {
  return sels.filter((s) => {
    const value = getField(event, WEBSERVER_FIELDS[s.field]!);
    return typeof value === 'string' && webDetectors[s.detector](value);
  }).map((s) => `${s.field}|vigil.${s.detector}`);
}

const ruleFiles = readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml')).sort();

describe('rules/web', () => {
  it('has a rule per attack class', () => {
    const detectorsUsed = new Set(ruleFiles.flatMap((f) => selections(parseYaml(readFileSync(join(RULES_DIR, f), 'utf8'))).map((s) => s.detector)));
    assert.deepEqual([...detectorsUsed].sort(), Object.keys(webDetectors).sort());
  });

  for (const file of ruleFiles) {
    const base = file.slice(0, -'.yml'.length);
    describe(base, () => {
      const rule = parseYaml(readFileSync(join(RULES_DIR, file), 'utf8')) as Record<string, unknown>;
      const sels = selections(rule);

      it('is a complete Sigma rule for webserver logs', () => {
        assert.match(String(rule['id']), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        for (const key of ['title', 'description']) assert.ok(typeof rule[key] === 'string' && (rule[key] as string).length > 10, key);
        assert.equal(rule['author'], 'Vigil');
        assert.ok(SEVERITIES.includes(rule['level'] as never), `level ${String(rule['level'])}`);
        assert.ok(Array.isArray(rule['tags']) && (rule['tags'] as string[]).some((t) => /^attack\.t\d{4}/.test(t)), 'a MITRE technique tag');
        assert.ok(Array.isArray(rule['falsepositives']) && (rule['falsepositives'] as unknown[]).length > 0, 'falsepositives');
        assert.deepEqual(rule['logsource'], { category: 'webserver' });
        // One selection, or any of several: the fixtures below are judged with that OR.
        const condition = (rule['detection'] as Record<string, unknown>)['condition'];
        assert.ok(condition === 'selection' || condition === '1 of selection_*', `condition ${String(condition)}`);
        if (condition === '1 of selection_*') assert.ok(sels.every((s) => s.name.startsWith('selection_')));
      });

      it('fires on every event of its match fixture', () => {
        const list = events(join(RULES_DIR, `${base}.match.ndjson`));
        assert.ok(list.length >= 3);
        for (const event of list) {
          assert.equal(event.event.dataset, 'nginx.access');
          assert.ok(firing(sels, event).length > 0, `no selection fired on ${String(event.event.original)}`);
        }
      });

      it('fires on no event of its no-match fixture', () => {
        const list = events(join(RULES_DIR, `${base}.nomatch.ndjson`));
        assert.ok(list.length >= 3);
        for (const event of list) assert.deepEqual(firing(sels, event), [], String(event.event.original));
      });
    });
  }
});
