// Tests of the file tailer against real files in a temp directory: appends, partial lines, every kind of
// rotation, restarts, globs, long lines and back-pressure. Waits with idle(), never with timed sleeps.
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, mkdtemp, open, readFile, rename, rm, truncate, unlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { runs } from '../../testing/fuzz.js';
import { VigilError } from '../../core/errors.js';
import type { Ingest, IngestResult, LineOptions } from '../../core/ingest.js';
import { defaultTailTargets, startFileTail, type FileTail, type FileTailError, type FileTailOptions, type TailTarget } from './index.js';

/** Stands in for the pipeline: records what it is given; can answer `busy` a number of times first. */
function recordingIngest(options: { busy?: number } = {}) {
  let busyLeft = options.busy ?? 0;
  const calls: { lines: string[]; options: LineOptions }[] = [];
  const dropped = new Map<string, number>();
  const waiters: { count: number; resolve: () => void }[] = [];
  const recorder = {
    calls,
    dropped,
    attempts: 0,
    /** Every line acknowledged, in order. */
    get lines(): string[] {
      return calls.flatMap((call) => call.lines);
    },
    congested: false,
    async ingestLines(lines: readonly string[], lineOptions: LineOptions): Promise<IngestResult> {
      recorder.attempts++;
      if (busyLeft > 0) {
        busyLeft--;
        throw new VigilError('busy', 'the pipeline is full', { retryAfter: 1 });
      }
      calls.push({ lines: [...lines], options: { ...lineOptions } });
      const total = recorder.lines.length;
      for (const w of waiters.splice(0)) if (total >= w.count) w.resolve(); else waiters.push(w);
      return { accepted: lines.length, rejected: 0, errors: [], ids: lines.map(() => undefined) };
    },
    async ingestDocuments(documents: readonly unknown[]): Promise<IngestResult> {
      return { accepted: documents.length, rejected: 0, errors: [], ids: documents.map(() => undefined) };
    },
    onDrain(listener: () => void): void {
      setImmediate(listener); // the queue drains right after saying busy
    },
    countDropped(input: string, reason: string, count = 1): void {
      const key = `${input}/${reason}`;
      dropped.set(key, (dropped.get(key) ?? 0) + count);
    },
    /** Resolves once `count` lines in all have been acknowledged. */
    waitForLines(count: number): Promise<void> {
      if (recorder.lines.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
  } satisfies Ingest & Record<string, unknown>;
  return recorder;
}

const fixture = async (name: string): Promise<string[]> =>
  (await readFile(new URL(`./testdata/${name}`, import.meta.url), 'utf8')).split('\n').filter((line) => line !== '');
const AUTH = await fixture('auth.log');
const ACCESS = await fixture('access.log');
const text = (lines: readonly string[]): string => lines.map((line) => `${line}\n`).join('');

let dir: string;
let statePath: string;
const openTails: FileTail[] = [];

async function tail(ingest: Ingest, targets: TailTarget[], extra: Partial<FileTailOptions> = {}): Promise<FileTail> {
  const t = await startFileTail({ targets, statePath, pollMs: 20, startAt: 'beginning', hostName: 'test-host', ...extra }, ingest);
  openTails.push(t);
  return t;
}

/** Only idle() moves these: no watcher, and a poll interval longer than any test. */
const stepwise: Partial<FileTailOptions> = { watch: false, pollMs: 600_000 };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-file-tail-'));
  statePath = join(dir, 'state', 'file-offsets.json');
});

afterEach(async () => {
  for (const t of openTails.splice(0)) await t.close();
  await rm(dir, { recursive: true, force: true });
});

describe('file tail: reading', () => {
  it('delivers existing and appended lines with the file, format and host', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, text(AUTH.slice(0, 4)));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'sshd' }]);
    await t.idle();
    assert.deepEqual(ingest.lines, AUTH.slice(0, 4));
    await appendFile(log, text(AUTH.slice(4)));
    await t.idle();
    assert.deepEqual(ingest.lines, AUTH);
    assert.deepEqual(ingest.calls[0]!.options, { format: 'sshd', input: 'file', filePath: log, hostName: 'test-host' });
  });

  it("startAt 'end' skips what was there, including the rest of a line being written", async () => {
    const log = join(dir, 'access.log');
    await writeFile(log, text(ACCESS.slice(0, 3)) + ACCESS[3]!.slice(0, 20));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'nginx' }], { startAt: 'end' });
    await appendFile(log, ACCESS[3]!.slice(20) + '\n' + text(ACCESS.slice(4)));
    await t.idle();
    assert.deepEqual(ingest.lines, ACCESS.slice(4));
  });

  it('holds a partial line until its newline arrives', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, '');
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'sshd' }]);
    await appendFile(log, AUTH[2]!.slice(0, 30));
    await t.idle();
    assert.deepEqual(ingest.lines, []);
    await appendFile(log, AUTH[2]!.slice(30));
    await t.idle();
    assert.deepEqual(ingest.lines, []);
    await appendFile(log, `\n${AUTH[3]}\n`);
    await t.idle();
    assert.deepEqual(ingest.lines, [AUTH[2], AUTH[3]]);
  });

  it('strips CR of CRLF line ends and keeps a lone CR inside a line', async () => {
    const log = join(dir, 'app.log');
    await writeFile(log, 'first line\r\nsecond\rstill second\r\n\r\nlast\r');
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'auto' }], stepwise);
    await t.idle();
    assert.deepEqual(ingest.lines, ['first line', 'second\rstill second', '']);
    await appendFile(log, '\n');
    await t.idle();
    assert.deepEqual(ingest.lines, ['first line', 'second\rstill second', '', 'last']);
  });

  it('decodes invalid UTF-8 with replacement characters', async () => {
    const log = join(dir, 'app.log');
    await writeFile(log, Buffer.concat([Buffer.from('user=j\u00f6rg bad='), Buffer.from([0xff, 0xfe]), Buffer.from(' end\n')]));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'auto' }], stepwise);
    await t.idle();
    assert.deepEqual(ingest.lines, ['user=j\u00f6rg bad=\ufffd\ufffd end']);
  });

  it('cuts a 1 MB line without newline, counts it, and skips its rest even across a restart', async () => {
    const log = join(dir, 'app.log');
    await writeFile(log, `${AUTH[0]}\n` + 'x'.repeat(1024 * 1024));
    const ingest = recordingIngest();
    let t = await tail(ingest, [{ path: log, format: 'auto' }], stepwise);
    await t.idle();
    assert.equal(ingest.lines.length, 2);
    assert.equal(ingest.lines[0], AUTH[0]);
    assert.equal(ingest.lines[1], 'x'.repeat(64 * 1024));
    assert.equal(ingest.dropped.get('file/truncated'), 1);
    await t.close();
    await appendFile(log, 'x'.repeat(5000) + `\n${AUTH[1]}\n`);
    t = await tail(ingest, [{ path: log, format: 'auto' }], stepwise);
    await t.idle();
    assert.deepEqual(ingest.lines.slice(2), [AUTH[1]]);
    assert.equal(ingest.dropped.get('file/truncated'), 1);
  });

  it('a change notification wakes the tail without waiting for the poll', { timeout: 20_000 }, async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, '');
    const ingest = recordingIngest();
    await tail(ingest, [{ path: log, format: 'sshd' }], { pollMs: 600_000 });
    await appendFile(log, text(AUTH.slice(0, 2)));
    await ingest.waitForLines(2); // no idle(): only fs.watch can start a pass before the 10-minute poll
    assert.deepEqual(ingest.lines, AUTH.slice(0, 2));
  });

  it('delivers in batches of batchSize, in order', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, text(AUTH));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'sshd' }], { ...stepwise, batchSize: 5 });
    await t.idle();
    assert.deepEqual(
      ingest.calls.map((call) => call.lines.length),
      [5, 5, 2],
    );
    assert.deepEqual(ingest.lines, AUTH);
  });
});

describe('file tail: rotation', () => {
  it('rename rotation: the old file is read to its end, then the new one from 0', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, text(AUTH.slice(0, 3)));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'sshd' }]);
    await t.idle();
    await appendFile(log, text(AUTH.slice(3, 6))); // just before the rename
    await rename(log, `${log}.1`);
    await writeFile(log, text(AUTH.slice(6, 8))); // just after
    await appendFile(log, text(AUTH.slice(8)));
    await t.idle();
    assert.deepEqual(ingest.lines, AUTH);
    assert.equal(ingest.calls.at(-1)!.options.filePath, log);
  });

  it('rename rotation: lines a writer adds to the renamed file before reopening are not lost', async () => {
    const log = join(dir, 'access.log');
    const writer = await open(log, 'a');
    try {
      await writer.write(text(ACCESS.slice(0, 2)));
      const ingest = recordingIngest();
      const t = await tail(ingest, [{ path: log, format: 'nginx' }]);
      await t.idle();
      await rename(log, `${log}.1`);
      await writeFile(log, text(ACCESS.slice(5)));
      await t.idle();
      await writer.write(text(ACCESS.slice(2, 5))); // still through the old descriptor, as nginx does until USR1
      await t.idle();
      assert.deepEqual([...ingest.lines].sort(), [...ACCESS].sort());
      assert.equal(new Set(ingest.lines).size, ACCESS.length);
    } finally {
      await writer.close();
    }
  });

  it('rename rotation with a glob that matches the rotated name: followed by identity, nothing read twice', async () => {
    const log = join(dir, 'access.log');
    await writeFile(log, text(ACCESS.slice(0, 3)));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: join(dir, 'access.log*'), format: 'nginx' }], stepwise);
    await t.idle();
    await appendFile(log, text(ACCESS.slice(3, 5)));
    await rename(log, `${log}.1`);
    await writeFile(log, text(ACCESS.slice(5)));
    await t.idle();
    assert.deepEqual(ingest.lines, ACCESS);
    assert.deepEqual(
      ingest.calls.map((call) => call.options.filePath),
      [log, `${log}.1`, log],
    );
  });

  it('close() delivers what is left of a file renamed away, which a restart would not find', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, text(AUTH.slice(0, 2)));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'sshd' }], stepwise);
    await t.idle();
    await rename(log, `${log}.1`);
    await t.idle(); // within its grace period: still open
    await appendFile(`${log}.1`, text(AUTH.slice(2, 4)) + AUTH[4]!.slice(0, 30));
    await t.close();
    assert.deepEqual(ingest.lines, [...AUTH.slice(0, 4), AUTH[4]!.slice(0, 30)]);
  });

  it('a partial last line of a file rotated away is delivered', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, `${AUTH[0]}\n${AUTH[1]}`);
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'sshd' }], { ...stepwise, rotatedGraceMs: 0 });
    await t.idle();
    assert.deepEqual(ingest.lines, [AUTH[0]]);
    await rename(log, join(dir, 'auth.log.1'));
    await t.idle();
    assert.deepEqual(ingest.lines, [AUTH[0], AUTH[1]]);
  });

  it('a file out of sight for a while (a listing that raced a rename) resumes where it was when it shows up again', async () => {
    const log = join(dir, 'app.log');
    await writeFile(log, text(AUTH.slice(0, 3)));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: join(dir, 'app.log*'), format: 'sshd' }], { ...stepwise, rotatedGraceMs: 0 });
    await t.idle();
    await rename(log, join(dir, 'elsewhere.tmp'));
    await t.idle(); // gone and quiet: let go of
    await rename(join(dir, 'elsewhere.tmp'), `${log}.1`);
    await appendFile(`${log}.1`, text(AUTH.slice(3, 5)));
    await t.idle();
    assert.deepEqual(ingest.lines, AUTH.slice(0, 5));
  });

  it('copytruncate: a file cut shorter than the offset is read again from 0', async () => {
    const log = join(dir, 'access.log');
    await writeFile(log, text(ACCESS.slice(0, 6)));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'nginx' }], stepwise);
    await t.idle();
    await copyFile(log, `${log}.1`);
    await truncate(log, 0);
    await appendFile(log, text(ACCESS.slice(6)));
    await t.idle();
    assert.deepEqual(ingest.lines, ACCESS);
  });

  it('copytruncate: a file that grew back past the offset before we looked is recognised by its first bytes', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, text(AUTH.slice(0, 2)));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'sshd' }], stepwise);
    await t.idle();
    await truncate(log, 0);
    await appendFile(log, text(AUTH.slice(2)));
    await t.idle();
    assert.deepEqual(ingest.lines, AUTH);
  });

  it('a file deleted and re-created is followed from its start', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, text(AUTH.slice(0, 5)));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'sshd' }]);
    await t.idle();
    await unlink(log);
    await t.idle();
    await writeFile(log, text(AUTH.slice(5)));
    await t.idle();
    assert.deepEqual(ingest.lines, AUTH);
  });

  it('a file that does not exist yet (nor its directory) is picked up when it appears, from its start', async () => {
    const log = join(dir, 'later', 'auth.log');
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'sshd' }], { startAt: 'end' });
    await t.idle();
    await mkdir(join(dir, 'later'));
    await writeFile(log, text(AUTH.slice(0, 4)));
    await t.idle();
    assert.deepEqual(ingest.lines, AUTH.slice(0, 4));
  });

  it('a glob picks up new files, and skips compressed rotations and other names', async () => {
    const logs = join(dir, 'apps');
    await mkdir(logs);
    await writeFile(join(logs, 'app-1.log'), text(AUTH.slice(0, 2)));
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: join(logs, 'app-*.log*'), format: 'sshd' }], { startAt: 'end' });
    await appendFile(join(logs, 'app-1.log'), text(AUTH.slice(2, 4)));
    await writeFile(join(logs, 'app-2.log'), text(AUTH.slice(4, 6)));
    await writeFile(join(logs, 'app-0.log.2.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x0a, 0x0a]));
    await writeFile(join(logs, 'other.log'), text(AUTH.slice(6)));
    await mkdir(join(logs, 'app-3.log.d'));
    await t.idle();
    const byFile = new Map<string, string[]>();
    for (const call of ingest.calls) byFile.set(call.options.filePath!, [...(byFile.get(call.options.filePath!) ?? []), ...call.lines]);
    assert.deepEqual(
      Object.fromEntries(byFile),
      { [join(logs, 'app-1.log')]: AUTH.slice(2, 4), [join(logs, 'app-2.log')]: AUTH.slice(4, 6) },
    );
  });
});

describe('file tail: restart and back-pressure', () => {
  it('a restart delivers exactly the lines appended while stopped, completing a held partial line', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, text(AUTH.slice(0, 4)) + AUTH[4]!.slice(0, 25));
    const ingest = recordingIngest();
    let t = await tail(ingest, [{ path: log, format: 'sshd' }]);
    await t.idle();
    assert.deepEqual(ingest.lines, AUTH.slice(0, 4));
    await t.close();
    await appendFile(log, AUTH[4]!.slice(25) + '\n' + text(AUTH.slice(5)));
    const again = recordingIngest();
    t = await tail(again, [{ path: log, format: 'sshd' }], { startAt: 'end' });
    await t.idle();
    assert.deepEqual(again.lines, AUTH.slice(4));
  });

  it('saves the acknowledged offset in the state file', async () => {
    const log = join(dir, 'auth.log');
    const content = text(AUTH.slice(0, 3));
    await writeFile(log, content + 'partial');
    const t = await tail(recordingIngest(), [{ path: log, format: 'sshd' }], stepwise);
    await t.idle();
    const state = JSON.parse(await readFile(statePath, 'utf8')) as { version: number; files: { path: string; offset: number }[] };
    assert.equal(state.version, 1);
    assert.deepEqual(
      state.files.map((f) => [f.path, f.offset]),
      [[log, Buffer.byteLength(content)]],
    );
  });

  it('a file replaced while stopped (its inode may be reused) is read from its start', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, text(AUTH.slice(0, 3)));
    const ingest = recordingIngest();
    let t = await tail(ingest, [{ path: log, format: 'sshd' }]);
    await t.idle();
    await t.close();
    await unlink(log);
    await writeFile(log, text(AUTH.slice(3))); // longer than the saved offset, so only the fingerprint tells
    const again = recordingIngest();
    t = await tail(again, [{ path: log, format: 'sshd' }], { startAt: 'end' });
    await t.idle();
    assert.deepEqual(again.lines, AUTH.slice(3));
  });

  it('a busy pipeline gets the same batch again until it takes it: nothing lost, nothing doubled', async () => {
    const log = join(dir, 'access.log');
    await writeFile(log, text(ACCESS));
    const ingest = recordingIngest({ busy: 3 });
    const t = await tail(ingest, [{ path: log, format: 'nginx' }], { ...stepwise, batchSize: 3 });
    await t.idle();
    assert.deepEqual(ingest.lines, ACCESS);
    assert.equal(ingest.attempts, 3 + 3);
  });

  it('close() while the pipeline is busy keeps the undelivered lines for the next start', async () => {
    const log = join(dir, 'access.log');
    await writeFile(log, text(ACCESS));
    const busy = recordingIngest({ busy: Number.MAX_SAFE_INTEGER });
    busy.onDrain = () => undefined; // it never drains
    let t = await tail(busy, [{ path: log, format: 'nginx' }], stepwise);
    void t.idle();
    while (busy.attempts === 0) await new Promise((resolve) => setImmediate(resolve));
    await t.close();
    assert.deepEqual(busy.lines, []);
    const ingest = recordingIngest();
    t = await tail(ingest, [{ path: log, format: 'nginx' }], stepwise);
    await t.idle();
    assert.deepEqual(ingest.lines, ACCESS);
  });
});

describe('file tail: problems', () => {
  it('a target that is a directory is reported once and does not stop the others', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, text(AUTH.slice(0, 2)));
    const errors: FileTailError[] = [];
    const ingest = recordingIngest();
    const t = await tail(
      ingest,
      [
        { path: dir, format: 'sshd' },
        { path: log, format: 'sshd' },
      ],
      { ...stepwise, onError: (e) => errors.push(e) },
    );
    await t.idle();
    await t.idle();
    assert.deepEqual(
      errors.map((e) => [e.path, e.code]),
      [[dir, 'is_directory']],
    );
    assert.deepEqual(ingest.lines, AUTH.slice(0, 2));
  });

  it('a file that cannot be read is reported once and retried until it can', { skip: process.getuid?.() === 0 ? 'root reads any file' : false }, async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, text(AUTH.slice(0, 2)));
    await chmod(log, 0o000);
    const errors: FileTailError[] = [];
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'sshd' }], { ...stepwise, onError: (e) => errors.push(e) });
    await t.idle();
    await t.idle();
    assert.deepEqual(
      errors.map((e) => e.code),
      ['EACCES'],
    );
    await chmod(log, 0o644);
    await t.idle();
    assert.deepEqual(ingest.lines, AUTH.slice(0, 2));
  });

  it('an unreadable state file is reported and the tail starts without saved offsets', async () => {
    const log = join(dir, 'auth.log');
    await writeFile(log, text(AUTH.slice(0, 2)));
    await mkdir(join(dir, 'state'));
    await writeFile(statePath, '{"version": 1, "files": [');
    const errors: FileTailError[] = [];
    const ingest = recordingIngest();
    const t = await tail(ingest, [{ path: log, format: 'sshd' }], { ...stepwise, onError: (e) => errors.push(e) });
    await t.idle();
    assert.deepEqual(
      errors.map((e) => [e.path, e.code]),
      [[statePath, 'state_unreadable']],
    );
    assert.deepEqual(ingest.lines, AUTH.slice(0, 2));
    assert.equal((JSON.parse(await readFile(statePath, 'utf8')) as { files: unknown[] }).files.length, 1);
  });

  it('rejects wildcards outside the file name and relative paths as configuration errors', async () => {
    await assert.rejects(tail(recordingIngest(), [{ path: join(dir, '*', 'a.log'), format: 'sshd' }]), { id: 'bad_config' });
    await assert.rejects(tail(recordingIngest(), [{ path: 'logs/a.log', format: 'sshd' }]), { id: 'bad_config' });
  });
});

describe('defaultTailTargets', () => {
  it('lists only the usual logs that exist', async () => {
    await mkdir(join(dir, 'var/log/nginx'), { recursive: true });
    await mkdir(join(dir, 'var/log/httpd'), { recursive: true });
    await writeFile(join(dir, 'var/log/secure'), '');
    await writeFile(join(dir, 'var/log/nginx/access.log.1'), '');
    await writeFile(join(dir, 'var/log/httpd/access_log'), '');
    assert.deepEqual(defaultTailTargets(dir), [
      { path: join(dir, 'var/log/secure'), format: 'sshd' },
      { path: join(dir, 'var/log/nginx/access.log*'), format: 'nginx' },
      { path: join(dir, 'var/log/httpd/access_log'), format: 'apache' },
    ]);
    await writeFile(join(dir, 'var/log/auth.log'), '');
    assert.equal(defaultTailTargets(dir)[0]!.path, join(dir, 'var/log/auth.log'));
    assert.deepEqual(defaultTailTargets(join(dir, 'nothing-here')), []);
    // Left to the host auth collector when it runs.
    assert.ok(defaultTailTargets(dir, { authLog: false }).every((t) => t.format !== 'sshd'));
  });
});

describe('file tail: random histories', () => {
  it('every complete line is delivered exactly once, in order, whatever the mix of writes, rotations and restarts', async () => {
    type Op = { kind: 'append'; count: number } | { kind: 'partial' } | { kind: 'rotate' } | { kind: 'copytruncate' } | { kind: 'recreate' } | { kind: 'restart' } | { kind: 'idle' };
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.integer({ min: 1, max: 4 }).map((count): Op => ({ kind: 'append', count })) },
      fc.constant<Op>({ kind: 'partial' }),
      fc.constant<Op>({ kind: 'rotate' }),
      fc.constant<Op>({ kind: 'copytruncate' }),
      fc.constant<Op>({ kind: 'recreate' }),
      fc.constant<Op>({ kind: 'restart' }),
      fc.constant<Op>({ kind: 'idle' }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), fc.boolean(), async (ops, glob) => {
        const runDir = join(dir, `run-${run++}`);
        await mkdir(runDir);
        const log = join(runDir, 'app.log');
        const options: Partial<FileTailOptions> = { pollMs: 5, rotatedGraceMs: 0, statePath: join(runDir, 'state.json'), batchSize: 3 };
        const target = { path: glob ? join(runDir, 'app.log*') : log, format: 'auto' };
        const ingest = recordingIngest();
        const expected: string[] = [];
        let serial = 0;
        let pending: string | undefined; // the line whose first half is in the file
        const nextLine = () => `${AUTH[serial % AUTH.length]} #${serial++}`;
        let t = await tail(ingest, [target], options);
        for (const step of ops) {
          switch (step.kind) {
            case 'append': {
              let data = '';
              if (pending !== undefined) {
                data += pending.slice(20) + '\n';
                expected.push(pending);
                pending = undefined;
              }
              for (let i = 0; i < step.count; i++) {
                const line = nextLine();
                data += `${line}\n`;
                expected.push(line);
              }
              await appendFile(log, data);
              break;
            }
            case 'partial':
              if (pending !== undefined) break;
              pending = nextLine();
              await appendFile(log, pending.slice(0, 20));
              break;
            case 'rotate':
            case 'recreate':
              if (glob && step.kind === 'rotate' && pending !== undefined) {
                // app.log.1 is still followed under the glob: its partial line waits for its newline like any other.
                await appendFile(log, pending.slice(20) + '\n');
                expected.push(pending);
                pending = undefined;
              }
              await t.idle(); // what a non-glob tail never saw before its file left is out of reach
              if (step.kind === 'rotate') await rename(log, `${log}.1`).catch(() => undefined);
              else await unlink(log).catch(() => undefined);
              if (pending !== undefined) expected.push(pending.slice(0, 20)); // its file is gone: the partial line is delivered as it is
              pending = undefined;
              break;
            case 'copytruncate':
              await t.idle();
              await truncate(log, 0).catch(() => undefined);
              pending = undefined; // a held partial line was copied away with the old contents
              break;
            case 'restart':
              await t.close();
              t = await tail(ingest, [target], options);
              break;
            case 'idle':
              await t.idle();
              break;
          }
        }
        if (pending !== undefined) {
          await appendFile(log, pending.slice(20) + '\n');
          expected.push(pending);
        }
        await t.idle();
        await t.close();
        assert.deepEqual(ingest.lines, expected);
      }),
      { numRuns: runs(40) },
    );
  });
});
