// Every rule file in rules/ is tested by its fixtures: `NAME.match.ndjson` must make the file's rules detect at
// least once, `NAME.nomatch.ndjson` never. Each file runs alone in a fresh engine, as a user would run
// `vigil rules test NAME.yml NAME.match.ndjson`.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { test } from 'node:test';
import type { EcsEvent } from '../../core/event.js';
import { listRuleFiles } from './load.js';
import { BUILTIN_RULES_DIR, RuleEngine } from './engine.js';

function readEvents(path: string): EcsEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EcsEvent);
}

const files = listRuleFiles(BUILTIN_RULES_DIR);

test('the built-in rules folder has rules, each with match and no-match fixtures', () => {
  assert.ok(files.length >= 8);
  for (const file of files) {
    const stem = file.replace(/\.ya?ml$/, '');
    assert.ok(existsSync(`${stem}.match.ndjson`), `${relative(BUILTIN_RULES_DIR, file)} has no .match.ndjson`);
    assert.ok(existsSync(`${stem}.nomatch.ndjson`), `${relative(BUILTIN_RULES_DIR, file)} has no .nomatch.ndjson`);
  }
});

for (const file of files) {
  const name = relative(BUILTIN_RULES_DIR, file);
  const stem = file.replace(/\.ya?ml$/, '');
  test(`rule ${name}: compiles, detects its match fixture, stays quiet on its no-match fixture`, async () => {
    const engine = await RuleEngine.load({ dirs: [file], watch: false });
    try {
      const report = engine.report();
      assert.deepEqual(report.rejected, [], 'rejected documents');
      assert.equal(report.inactive.length, 0, 'inactive rules');
      const hits = engine.process(readEvents(`${stem}.match.ndjson`));
      assert.ok(hits.length >= 1, 'no detection on the match fixture');
      for (const d of hits) {
        assert.equal(d.source.author, 'Vigil');
        assert.ok(d.evidence.length >= 1);
        assert.ok(d.reason.length > 0);
      }
    } finally {
      engine.close();
    }
    const quiet = await RuleEngine.load({ dirs: [file], watch: false });
    try {
      const hits = quiet.process(readEvents(`${stem}.nomatch.ndjson`));
      assert.deepEqual(hits.map((d) => d.reason), [], 'detections on the no-match fixture');
    } finally {
      quiet.close();
    }
  });
}
