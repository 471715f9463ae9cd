// The process collector against this machine's real /proc: a `sleep` this test spawns is seen starting and stopping,
// with its parent (this process), executable, command line and user; the top consumers are reported as metrics.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { test } from 'node:test';
import { systemClock } from '../../core/clock.js';
import { RecordingIngest, type Doc } from '../../testing/ingest.js';
import { LinuxProcessReader } from './linux/processes.js';
import { UserNames } from './linux/users.js';
import { ProcessCollector } from './process.js';

const linux = { skip: process.platform !== 'linux' ? 'reads Linux /proc' : false };
const proc = (d: Doc) => d.process as Record<string, unknown> & { pid: number; parent: { pid: number; name?: string } };

function collector(ingest: RecordingIngest, top = 3) {
  return new ProcessCollector({ ingest, clock: systemClock, dataDir: '/nonexistent' }, new LinuxProcessReader('/proc', new UserNames()), { intervalMs: 60_000, scanIntervalMs: 100, top });
}

test('a process started after the baseline is reported when it starts and when it stops', linux, async () => {
  const ingest = new RecordingIngest();
  const c = collector(ingest);
  await c.tick(); // baseline, and the first top list
  assert.equal(ingest.find({ action: 'process_started' }).length, 0, 'what already ran is not reported');

  const child = spawn('sleep', ['29', '1'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  const pid = child.pid!;
  await c.tick(); // a quick scan: only new pids are read
  const started = ingest.find({ action: 'process_started' }).filter((d) => proc(d).pid === pid);
  assert.equal(started.length, 1);
  const e = started[0]!;
  assert.equal(e.event.dataset, 'host.process');
  assert.deepEqual(e.event.category, ['process']);
  assert.deepEqual(e.event.type, ['start']);
  const p = proc(e);
  assert.equal(p.name, 'sleep');
  assert.equal(p.parent.pid, process.pid);
  assert.equal(p.parent.name, 'node', 'the parent was known, so it is named');
  assert.equal(p.executable, readlinkSync('/proc/' + pid + '/exe'));
  assert.match(p.executable as string, /sleep$/);
  assert.equal(p.command_line, 'sleep 29 1');
  assert.deepEqual(p.args, ['sleep', '29', '1']);
  assert.equal(p.working_directory, process.cwd());
  const startedAt = Date.parse(p.start as string);
  assert.ok(Math.abs(startedAt - Date.now()) < 5000, `process.start ${p.start} is about now`);
  assert.deepEqual(e.user, { id: String(process.getuid!()), name: userInfo().username });
  assert.match(e.message as string, /^process started: sleep \(pid \d+, parent \d+, \S+\): sleep 29 1$/);

  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  await c.tick();
  const stopped = ingest.find({ action: 'process_stopped' }).filter((d) => proc(d).pid === pid);
  assert.equal(stopped.length, 1);
  assert.deepEqual(stopped[0]!.event.type, ['end']);
  assert.equal(proc(stopped[0]!).command_line, 'sleep 29 1', 'a stop event says what stopped');
  assert.ok(typeof proc(stopped[0]!).end === 'string');
  await c.close();
});

test('the top consumers of CPU and memory, each once, with shares and resident bytes', linux, async () => {
  const ingest = new RecordingIngest();
  // Other work shares this machine: a generous top list is sure to hold this busy process.
  const top = 25;
  const c = new ProcessCollector({ ingest, clock: systemClock, dataDir: '/nonexistent' }, new LinuxProcessReader('/proc', new UserNames()), { intervalMs: 200, scanIntervalMs: 100, top });
  await c.tick();
  // Keep this process busy until the next full sample, so that it has a CPU share to report.
  const until = Date.now() + 300;
  while (Date.now() < until) Math.sqrt(Math.random());
  await c.tick();
  const tops = ingest.find({ metricset: 'process' });
  assert.ok(tops.length > 0);
  const last = tops.filter((d) => d['@timestamp'] === tops[tops.length - 1]!['@timestamp']);
  assert.ok(last.length >= Math.min(top, 5) && last.length <= 2 * top, `${last.length} top events (by CPU and by memory, overlapping)`);
  const byCpu = last.filter((d) => (d.system as { process: { top: string[] } }).process.top.includes('cpu'));
  assert.ok(byCpu.length <= top);
  assert.equal(new Set(last.map((d) => proc(d).pid)).size, last.length, 'a process is listed once');
  const self = last.find((d) => proc(d).pid === process.pid);
  assert.ok(self, 'this busy process is among the top CPU consumers');
  const sys = (self.system as { process: { cpu: { total: { pct: number; norm: { pct: number } } }; memory: { rss: { bytes: number; pct: number } }; top: string[] } }).process;
  assert.ok(sys.top.includes('cpu'));
  assert.ok(sys.cpu.total.pct > 0.3, `cpu share ${sys.cpu.total.pct}`);
  assert.ok(sys.memory.rss.bytes > 10 * 1024 * 1024 && sys.memory.rss.pct > 0 && sys.memory.rss.pct < 1);
  const rss = Number(/VmRSS:\s+(\d+)/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
  assert.ok(Math.abs(sys.memory.rss.bytes - rss) / rss < 0.5, 'RSS matches /proc/self/status');
  assert.equal(self.event.kind, 'metric');
  await c.close();
});
