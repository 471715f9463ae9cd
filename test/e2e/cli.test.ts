// The `vigil` command as a user runs it: help, tokens, batch import, first start, search against a running server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runVigil, startVigilProcess, type ServerProcess } from '../../src/testing/process.js';

const AUTH_LOG = join(REPO_ROOT, 'test/fixtures/logs/auth.log');
const ACCESS_LOG = join(REPO_ROOT, 'test/fixtures/logs/access.log');

let dir: string;
let dataDir: string;
let config: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  dataDir = join(dir, 'data');
  config = join(dir, 'vigil.yaml');
  writeFileSync(config, 'files:\n  enabled: false\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil', () => {
  test('--help lists the commands, and every command has --help', async () => {
    const help = await runVigil(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['start', 'ingest', 'search', 'token', 'user', 'iforest', 'model']) {
      assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
      const sub = await runVigil([command, '--help']);
      assert.equal(sub.code, 0, `${command} --help`);
      assert.match(sub.stdout, /Usage: vigil/);
    }
  });

  test('a wrong option says what is wrong and exits non-zero', async () => {
    const result = await runVigil(['search', '--limit', 'many', '--token', 'x']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /--limit must be a positive integer/);
  });

  test('ingest imports files through the pipeline and prints a summary', async () => {
    const result = await runVigil(['ingest', '--data-dir', dataDir, '--year', '2024', '--json', AUTH_LOG, ACCESS_LOG]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { lines: number; events: number; unparsed: number; datasets: Record<string, number> };
    assert.equal(summary.lines, 24);
    assert.equal(summary.events, 24);
    assert.ok((summary.datasets.sshd ?? 0) >= 10, JSON.stringify(summary.datasets));
    assert.equal(summary.datasets['nginx.access'], 6);
    const table = await runVigil(['ingest', '--data-dir', dataDir, '--format', 'nginx', ACCESS_LOG]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /events\/s/);
    assert.match(table.stdout, /nginx\.access\s+6/);
  });

  test('ingest of a missing file says so', async () => {
    const result = await runVigil(['ingest', '--data-dir', dataDir, join(dir, 'nope.log')]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /cannot read .*nope\.log/);
  });

  test('tokens: create, list, revoke', async () => {
    const created = await runVigil(['token', 'create', '--data-dir', dataDir, '--name', 'cli test', '--role', 'viewer']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout.trim(), /^vgl_[A-Za-z0-9_-]{40,}$/);
    const list = await runVigil(['token', 'list', '--data-dir', dataDir]);
    assert.match(list.stdout, /viewer .* cli test/);
    assert.doesNotMatch(list.stdout, /vgl_/);
    const revoked = await runVigil(['token', 'revoke', '--data-dir', dataDir, 'cli test']);
    assert.equal(revoked.code, 0);
    assert.match(revoked.stdout, /revoked 1 token/);
  });
});

describe('vigil start and search', () => {
  let server: ServerProcess;
  let token: string;

  before(async () => {
    server = await startVigilProcess(['--port', '0', '--syslog-port', '0', '--no-collect', '--data-dir', dataDir, '--config', config], { VIGIL_ADMIN_TOKEN: '' });
    const m = /API token: (vgl_\S+)/.exec(server.output());
    assert.ok(m, `first start prints the admin token:\n${server.output()}`);
    token = m[1]!;
    assert.match(server.output(), /password: +\S{12,}/);
  });
  after(async () => {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
  });

  test('search prints a table, NDJSON and CSV', async () => {
    const table = await runVigil(['search', 'source.ip:203.0.113.7 AND event.outcome:failure', '--server', server.url, '--token', token]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /@timestamp/);
    assert.match(table.stdout, /203\.0\.113\.7/);
    assert.match(table.stdout, /of \d+ matching events/);
    const nd = await runVigil(['search', 'event.dataset:nginx.access AND http.response.status_code>=500', '--format', 'ndjson', '--server', server.url], { VIGIL_TOKEN: token });
    assert.equal(nd.code, 0, nd.stderr);
    const lines = nd.stdout.trim().split('\n').map((l) => JSON.parse(l) as { source: { ip: string } });
    assert.ok(lines.length >= 1);
    assert.ok(lines.every((e) => e.source.ip === '198.51.100.66'));
    const csv = await runVigil(['search', 'user.name:deploy', '--format', 'csv', '--fields', 'user.name,source.ip', '--server', server.url, '--token', token]);
    assert.equal(csv.stdout.split('\r\n')[0], 'user.name,source.ip');
  });

  test('a wrong token is refused with advice', async () => {
    const result = await runVigil(['search', '', '--server', server.url, '--token', 'vgl_nope']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /authentication required/);
  });

  test('local ingest refuses a data directory in use and points at --server, which works', async () => {
    const local = await runVigil(['ingest', '--data-dir', dataDir, AUTH_LOG]);
    assert.notEqual(local.code, 0);
    assert.match(local.stderr, /in use by another Vigil process.*--server/);
    const remote = await runVigil(['ingest', '--server', server.url, '--token', token, '--format', 'nginx', '--json', ACCESS_LOG]);
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal((JSON.parse(remote.stdout) as { events: number }).events, 6);
  });

  test('the first-start credentials are printed only once', async () => {
    const second = await runVigil(['token', 'list', '--data-dir', dataDir]);
    assert.match(second.stdout, /admin \(first start\)/);
  });
});
