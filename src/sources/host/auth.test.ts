// The auth collector: journald entries give the same ECS events as the same messages in auth.log; a real journal
// (files written by systemd-journal-remote, followed by the real journalctl) is read, resumed from the saved cursor
// without repeats; the auth log file is the fallback; an absent source or command is one warning and unhealthy.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { systemClock } from '../../core/clock.js';
import { parseLine } from '../../parsers/index.js';
import { RecordingIngest } from '../../testing/ingest.js';
import { AuthCollector } from './auth.js';
import { journalctlArgs, journalText, mapJournalLine } from './journald.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-auth-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const AUTH_LOG = readFileSync(new URL('../../parsers/testdata/auth.log', import.meta.url), 'utf8').split('\n').filter((l) => l.length > 0);
const CTX = { now: Date.parse('2024-06-01T00:00:00Z'), year: 2024 };

/** The journal entry journald would hold for an auth.log line (what rsyslog writes it from). */
function journalEntry(line: string, cursor: string): Record<string, string> {
  const parsed = parseLine(line, 'sshd', CTX);
  assert.ok(parsed.ok);
  const f = parsed.fields;
  const entry: Record<string, string> = {
    __CURSOR: cursor,
    __REALTIME_TIMESTAMP: String(Date.parse(f['@timestamp']!) * 1000),
    _HOSTNAME: f.host!.name!,
    SYSLOG_IDENTIFIER: f.process!.name!,
    SYSLOG_FACILITY: f.event.dataset === 'sshd' ? '4' : '10',
    PRIORITY: '6',
    MESSAGE: f.message!,
    _TRANSPORT: 'syslog',
  };
  if (f.process?.pid !== undefined) entry._PID = String(f.process.pid);
  return entry;
}

const SAME_FIELDS = ['@timestamp', 'event.dataset', 'event.action', 'event.outcome', 'event.category', 'event.type', 'message', 'host.name', 'process.name', 'process.pid', 'user', 'source', 'destination', 'system'];
const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o);

test('a journald entry gives the same ECS event as the auth.log line (every line of the auth fixture)', () => {
  let actions = 0;
  AUTH_LOG.forEach((line, i) => {
    const fromFile = parseLine(line, 'sshd', CTX);
    assert.ok(fromFile.ok);
    const json = JSON.stringify(journalEntry(line, `c${i}`));
    const { document, cursor } = mapJournalLine(json);
    assert.equal(cursor, `c${i}`);
    assert.ok(document);
    for (const path of SAME_FIELDS) assert.deepEqual(get(document, path), get(fromFile.fields, path), `line ${i + 1} ${path}: ${line}`);
    assert.equal(get(document, 'input.type'), 'journald');
    assert.equal(get(document, 'event.original'), json);
    if (fromFile.fields.event.action) actions++;
  });
  assert.ok(actions > 30, 'the fixture exercises the auth parsers');
});

test('journal fields: byte arrays, repeated fields, priority and facility, missing message', () => {
  assert.equal(journalText([104, 105]), 'hi');
  assert.equal(journalText(['first', 'second']), 'first');
  assert.equal(journalText(null), undefined);
  const { document } = mapJournalLine(JSON.stringify({ __CURSOR: 'x', MESSAGE: [65, 66], SYSLOG_IDENTIFIER: 'sudo', PRIORITY: '3', SYSLOG_FACILITY: '10', _SYSTEMD_UNIT: 'ssh.service' }));
  assert.equal(get(document, 'message'), 'AB');
  assert.equal(get(document, 'log.syslog.facility.name'), 'authpriv');
  assert.equal(get(document, 'log.syslog.severity.name'), 'error');
  assert.equal(get(document, 'log.level'), 'error');
  assert.equal(get(document, 'systemd.unit'), 'ssh.service');
  assert.deepEqual(mapJournalLine('not json'), {});
  assert.deepEqual(mapJournalLine('[1,2]'), {});
});

test('journalctl arguments: resume after the cursor, or start at the end, on the auth facilities', () => {
  assert.deepEqual(journalctlArgs({ cursor: 's=1;i=2', startAt: 'end', matches: ['SYSLOG_FACILITY=4', 'SYSLOG_FACILITY=10'] }), [
    '--follow', '--output=json', '--all', '--no-pager', '--quiet', '--after-cursor=s=1;i=2', '--no-tail', 'SYSLOG_FACILITY=4', 'SYSLOG_FACILITY=10',
  ]);
  assert.ok(journalctlArgs({ cursor: undefined, startAt: 'end', matches: [] }).includes('--lines=0'));
  assert.ok(journalctlArgs({ cursor: undefined, startAt: 'beginning', directory: '/j', matches: [] }).includes('--directory=/j'));
});

// systemd-journal-remote writes real journal files from the export format (https://systemd.io/JOURNAL_EXPORT_FORMATS/).
const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';
const haveJournal = existsSync(JOURNAL_REMOTE) && spawnSync('journalctl', ['--version']).status === 0;
let monotonic = 1000;

function writeJournal(journalDir: string, lines: string[]): void {
  const body = lines
    .map((line, i) => {
      const e = journalEntry(line, '');
      const fields = Object.entries(e).filter(([k]) => k !== '__CURSOR' && k !== '__REALTIME_TIMESTAMP');
      // Entries get today's time so that journalctl orders them as written.
      return [`__REALTIME_TIMESTAMP=${Date.now() * 1000 + i}`, `__MONOTONIC_TIMESTAMP=${monotonic++}`, '_BOOT_ID=0123456789abcdef0123456789abcdef', ...fields.map(([k, v]) => `${k}=${v}`)].join('\n') + '\n\n';
    })
    .join('');
  execFileSync(JOURNAL_REMOTE, [`--output=${join(journalDir, 'remote.journal')}`, '-'], { input: body, stdio: ['pipe', 'ignore', 'ignore'] });
}

test('a real journal: events arrive through journalctl, the cursor is saved, a restart resumes without repeats', { skip: haveJournal ? false : 'needs systemd-journal-remote and journalctl', timeout: 60_000 }, async () => {
  const journalDir = mkdtempSync(join(dir, 'journal-'));
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const ssh = AUTH_LOG.filter((l) => / sshd\[/.test(l)).slice(0, 6);
  const sudo = AUTH_LOG.filter((l) => / sudo(\[\d+\])?: /.test(l)).slice(0, 3);
  const cron = AUTH_LOG.filter((l) => / CRON\[/.test(l)).slice(0, 1);
  assert.ok(ssh.length === 6 && sudo.length > 0);
  writeJournal(journalDir, [...ssh.slice(0, 3), ...cron]);

  const ingest = new RecordingIngest();
  const warnings: string[] = [];
  const context = { ingest, clock: systemClock, dataDir, hostName: 'collector-host', warn: (m: string) => warnings.push(m) };
  const first = new AuthCollector(context, { source: 'journald', journalDirectory: journalDir, startAt: 'beginning' });
  await first.start();
  await ingest.waitFor(() => ingest.documents.length >= 4, 20_000, 'the first four journal entries');
  assert.deepEqual(ingest.documents.map((d) => d.event.dataset), ['sshd', 'sshd', 'sshd', 'pam']);
  assert.ok(ingest.documents.every((d) => (d.input as { type: string }).type === 'journald'));
  assert.equal((ingest.documents[0]!.host as { name: string }).name, 'bastion-1', 'the journal names the host');
  assert.equal(first.status().ok, true);
  assert.equal(first.status().source, 'journald');

  // Appended while it follows.
  writeJournal(journalDir, ssh.slice(3));
  await ingest.waitFor(() => ingest.documents.length >= 7, 20_000, 'entries appended while following');
  await first.close();
  const cursor = readFileSync(join(dataDir, 'journald-cursor'), 'utf8').trim();
  assert.match(cursor, /^s=[0-9a-f]+;i=[0-9a-f]+;/);

  // Written while it was stopped: the next run starts after the saved cursor.
  writeJournal(journalDir, sudo);
  const second = new AuthCollector(context, { source: 'journald', journalDirectory: journalDir, startAt: 'beginning' });
  await second.start();
  await ingest.waitFor(() => ingest.documents.length >= 7 + sudo.length, 20_000, 'entries written while stopped');
  await new Promise((resolve) => setTimeout(resolve, 500));
  await second.close();
  assert.equal(ingest.documents.length, 7 + sudo.length, 'nothing read twice');
  const messages = ingest.documents.map((d) => d.message);
  assert.equal(new Set(messages.map((m, i) => `${i}:${m}`)).size, messages.length);
  assert.deepEqual(ingest.documents.slice(7).map((d) => d.event.dataset), sudo.map(() => 'sudo'));
  assert.equal(warnings.length, 0, warnings.join('\n'));
});

test('without journald, the auth log file is followed (parsed as the sshd format)', async () => {
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const log = join(dir, 'auth.log');
  writeFileSync(log, '');
  const ingest = new RecordingIngest();
  const c = new AuthCollector({ ingest, clock: systemClock, dataDir, hostName: 'h' }, { journaldRunDir: join(dir, 'no-journald'), paths: [join(dir, 'missing.log'), log], pollMs: 50 });
  await c.start();
  assert.deepEqual(c.status(), { ok: true, source: 'file', path: log });
  appendFileSync(log, AUTH_LOG.slice(0, 5).join('\n') + '\n');
  await ingest.waitFor(() => ingest.lines.length >= 5, 10_000, 'auth log lines');
  assert.deepEqual(ingest.lines.map((l) => l.options.format), ['sshd', 'sshd', 'sshd', 'sshd', 'sshd']);
  assert.equal(ingest.lines[0]!.options.filePath, log);
  await c.close();
  assert.ok(existsSync(join(dataDir, 'auth-log-offsets.json')), 'offsets kept in the data directory');
});

test('no journald and no auth log: unhealthy with one clear warning', async () => {
  const warnings: string[] = [];
  const c = new AuthCollector(
    { ingest: new RecordingIngest(), clock: systemClock, dataDir: dir, warn: (m) => warnings.push(m) },
    { journaldRunDir: join(dir, 'no-journald'), paths: [join(dir, 'none.log')], recheckMs: 20 },
  );
  await c.start();
  await new Promise((resolve) => setTimeout(resolve, 150)); // several rechecks
  const status = c.status();
  assert.equal(status.ok, false);
  assert.match(String(status.error), /journald is not running and no readable auth log file exists/);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  await c.close();
});

test('journalctl absent: unhealthy with one warning, however often it is retried', async () => {
  const warnings: string[] = [];
  const c = new AuthCollector(
    { ingest: new RecordingIngest(), clock: systemClock, dataDir: mkdtempSync(join(dir, 'data-')), warn: (m) => warnings.push(m) },
    { source: 'journald', journalctl: join(dir, 'no-such-journalctl') },
  );
  await c.start();
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the first restart happens after 1 s
  assert.equal(c.status().ok, false);
  assert.match(String(c.status().error), /no-such-journalctl is not installed/);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  await c.close();
});
