// macOS sources, which cannot run here: their parsers on sample output written from Apple's documented formats and
// man pages (testdata/), and, where the command is the same on Linux (lsof, ps), on this machine's real output.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { systemClock } from '../../../core/clock.js';
import { RecordingIngest } from '../../../testing/ingest.js';
import { ProcessCollector } from '../process.js';
import { mapLogStreamLine, parseLogTimestamp } from './log-stream.js';
import { MacProcessReader } from './readers.js';
import { parseLsof, parseNetstatInterfaces, parseNetstatSockets, splitNetstatAddress } from './network.js';
import { PS_ARGS, parseIoreg, parseMount, parsePs, parsePsComm, parseSwapUsage, parseVmStat, vmAvailableBytes } from './system.js';

const sample = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o);

test('log stream --style ndjson: sshd and sudo read by the same parsers as on Linux; authd and loginwindow their own', () => {
  const docs = sample('log-stream.ndjson').split('\n').filter((l) => l).map(mapLogStreamLine);
  assert.equal(docs[0], undefined, 'the "Filtering the log data" banner is not an event');
  assert.equal(docs[8], undefined, 'activity events are not log events');
  const [, accepted, failed, sudo, granted, refused, locked, other] = docs;

  assert.equal(get(accepted, 'event.dataset'), 'sshd');
  assert.equal(get(accepted, 'event.action'), 'ssh_login');
  assert.equal(get(accepted, 'event.outcome'), 'success');
  assert.equal(get(accepted, 'user.name'), 'alice');
  assert.equal(get(accepted, 'source.ip'), '192.0.2.10');
  assert.equal(get(accepted, 'source.port'), 50111);
  assert.equal(get(accepted, 'process.name'), 'sshd');
  assert.equal(get(accepted, 'process.pid'), 812);
  assert.equal(get(accepted, 'process.executable'), '/usr/sbin/sshd');
  assert.equal(get(accepted, '@timestamp'), '2024-03-05T09:15:30.123Z');
  assert.equal(get(accepted, 'input.type'), 'log_stream');
  assert.equal(typeof get(accepted, 'event.original'), 'string');

  assert.equal(get(failed, 'event.dataset'), 'sshd', 'sshd-session (OpenSSH 9.8+) too');
  assert.equal(get(failed, 'event.outcome'), 'failure');
  assert.equal(get(failed, 'user.name'), 'admin');

  assert.equal(get(sudo, 'event.dataset'), 'sudo');
  assert.equal(get(sudo, 'event.action'), 'sudo_command');
  assert.equal(get(sudo, 'user.name'), 'alice');
  assert.equal(get(sudo, 'user.effective.name'), 'root');
  assert.equal(get(sudo, 'system.auth.sudo.command'), '/usr/bin/whoami');

  assert.equal(get(granted, 'event.dataset'), 'macos.authorization');
  assert.equal(get(granted, 'event.action'), 'authorization_granted');
  assert.equal(get(granted, 'event.outcome'), 'success');
  assert.equal(get(granted, 'macos.authorization.right'), 'system.preferences');
  assert.equal(get(granted, 'macos.authorization.client.path'), '/System/Applications/System Settings.app');
  assert.equal(get(granted, 'macos.subsystem'), 'com.apple.Authorization');
  assert.equal(get(refused, 'event.action'), 'authorization_failed');
  assert.equal(get(refused, 'event.outcome'), 'failure');
  assert.equal(get(refused, 'macos.authorization.status'), -60005);
  assert.equal(get(refused, 'macos.authorization.creator.pid'), 2200);
  assert.equal(get(refused, 'log.level'), 'error');

  assert.equal(get(locked, 'event.dataset'), 'macos.loginwindow');
  assert.equal(get(locked, 'event.action'), 'screen_locked');
  assert.equal(get(other, 'event.dataset'), 'macos.loginwindow');
  assert.equal(get(other, 'event.action'), undefined);
});

test('unified log timestamps carry their offset', () => {
  assert.equal(parseLogTimestamp('2024-03-05 10:15:30.123456+0100'), '2024-03-05T09:15:30.123Z');
  assert.equal(parseLogTimestamp('2024-12-31 23:59:59-0800'), '2025-01-01T07:59:59.000Z');
  assert.equal(parseLogTimestamp('yesterday'), undefined);
});

test('lsof -nP -iTCP -iUDP: sockets with their owners; a socket shared by two processes once per process', () => {
  const sockets = parseLsof(sample('lsof.txt'));
  const listen22 = sockets.filter((s) => s.localPort === 22 && s.listening);
  assert.deepEqual(listen22.map((s) => [s.family, s.localIp, s.pid, s.processName, s.userName]), [
    ['ipv6', '::', 1, 'launchd', 'root'],
    ['ipv4', '0.0.0.0', 1, 'launchd', 'root'],
  ]);
  const mdns = sockets.find((s) => s.transport === 'udp')!;
  assert.deepEqual([mdns.localPort, mdns.listening, mdns.state, mdns.userName], [5353, true, 'LISTEN', '_mdnsresponder']);
  const chrome = sockets.find((s) => s.pid === 901)!;
  assert.deepEqual([chrome.processName, chrome.localIp, chrome.localPort, chrome.remoteIp, chrome.remotePort, chrome.state], ['Google ', '192.168.1.20', 49723, '140.82.112.25', 443, 'ESTABLISHED']);
  const curl = sockets.find((s) => s.pid === 1750)!;
  assert.deepEqual([curl.localIp, curl.remoteIp, curl.remotePort, curl.state, curl.listening], ['2001:db8::20', '2001:db8::5', 443, 'SYN_SENT', false]);
  assert.equal(sockets.filter((s) => s.remotePort === 50111).length, 2);
});

test('lsof output of this machine (the same program and layout) finds a listener this test opens', { skip: spawnSync('lsof', ['-v']).error ? 'lsof not installed' : false }, async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const text = execFileSync('lsof', ['-nP', '-a', '-p', String(process.pid), '-iTCP'], { encoding: 'utf8' });
    const mine = parseLsof(text).find((s) => s.localPort === port);
    assert.ok(mine, text);
    assert.deepEqual([mine.listening, mine.state, mine.pid, mine.localIp], [true, 'LISTEN', process.pid, '127.0.0.1']);
  } finally {
    server.close();
  }
});

test('netstat -anv -p tcp: columns found from the header, with pid or process:pid', () => {
  assert.deepEqual(splitNetstatAddress('192.168.1.20.49723', 'ipv4'), { ip: '192.168.1.20', port: 49723 });
  assert.deepEqual(splitNetstatAddress('*.*', 'ipv6'), { ip: '::', port: 0 });
  assert.deepEqual(splitNetstatAddress('fe80::1%lo0.1024', 'ipv6'), { ip: 'fe80::1', port: 1024 });
  const older = parseNetstatSockets(sample('netstat-anv-pid.txt'));
  assert.deepEqual(older.map((s) => [s.family, s.localIp, s.localPort, s.remoteIp, s.remotePort, s.state, s.pid]), [
    ['ipv4', '192.168.1.20', 49723, '140.82.112.25', 443, 'ESTABLISHED', 901],
    ['ipv6', 'fe80::1', 1024, 'fe80::1', 49152, 'ESTABLISHED', 640],
    ['ipv6', '::', 22, '::', 0, 'LISTEN', 1],
    ['ipv4', '192.168.1.20', 50001, '203.0.113.9', 8080, 'TIME_WAIT', undefined],
  ]);
  const newer = parseNetstatSockets(sample('netstat-anv-process.txt'));
  assert.deepEqual(newer.map((s) => [s.localPort, s.state, s.pid, s.processName]), [
    [49723, 'ESTABLISHED', 901, 'Google Chrome H'],
    [5432, 'LISTEN', 733, 'postgres'],
  ]);
});

test('netstat -ibn: the link rows give each interface counters (empty Address column included)', () => {
  const rows = parseNetstatInterfaces(sample('netstat-ibn.txt'));
  assert.deepEqual(rows.map((r) => [r.name, r.rxPackets, r.rxBytes, r.txPackets, r.txBytes]), [
    ['lo0', 581234, 123456789, 581234, 123456789],
    ['en0', 9876543, 12345678901, 5432109, 987654321],
    ['gif0', 0, 0, 0, 0],
  ]);
});

test('ps: fixed columns, the five-word start time, and arguments with spaces; comm is the executable path', () => {
  const rows = parsePs(sample('ps.txt'));
  assert.equal(rows.length, 4);
  const chrome = rows[2]!;
  assert.deepEqual([chrome.pid, chrome.ppid, chrome.uid, chrome.user, chrome.cpuPercent, chrome.rssBytes], [1750, 812, 501, 'alice', 12.5, 204800 * 1024]);
  assert.equal(chrome.lstart, 'Tue Mar 5 10:16:02 2024');
  assert.equal(chrome.start, new Date(2024, 2, 5, 10, 16, 2).getTime(), 'local time, as ps prints it');
  assert.equal(chrome.args, '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome --type=renderer --lang=en-GB');
  const comm = parsePsComm(sample('ps-comm.txt'));
  assert.equal(comm.get(1750), '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome');
  assert.equal(comm.get(812), '/usr/sbin/sshd');
});

test('ps of this machine in the same layout (procps reads the same -o list)', { skip: process.platform === 'linux' ? false : 'compares with /proc' }, () => {
  const rows = parsePs(execFileSync('ps', PS_ARGS, { encoding: 'utf8' }));
  const self = rows.find((r) => r.pid === process.pid);
  assert.ok(self);
  assert.equal(self.ppid, process.ppid);
  assert.ok(self.args.includes('node'));
  assert.ok(self.rssBytes > 1024 * 1024);
  assert.ok(self.start !== undefined && Math.abs(self.start - (Date.now() - process.uptime() * 1000)) < 5000);
});

test('vm_stat and sysctl vm.swapusage: memory in bytes', () => {
  const vm = parseVmStat(sample('vm_stat.txt'));
  assert.equal(vm.pageSize, 16384);
  assert.equal(vm.pages.get('Pages wired down'), 150000);
  assert.equal(vm.pages.get('Translation faults'), 123456789);
  const { free, available } = vmAvailableBytes(vm);
  assert.equal(free, (12000 + 8000) * 16384);
  assert.equal(available, (12000 + 8000 + 250000 + 20000) * 16384);
  assert.deepEqual(parseSwapUsage(sample('sysctl-swapusage.txt')), { total: 2048 * 1048576, used: Math.round(1024.5 * 1048576), free: Math.round(1023.5 * 1048576) });
  assert.equal(parseSwapUsage('vm.swapusage: nothing'), undefined);
});

test('mount and ioreg: local volumes (spaces in mount points) and per-disk I/O statistics', () => {
  const mounts = parseMount(sample('mount.txt'));
  assert.equal(mounts.length, 6);
  assert.deepEqual(mounts[0], { device: '/dev/disk3s1s1', mountPoint: '/', type: 'apfs', options: ['sealed', 'local', 'read-only', 'journaled'] });
  assert.deepEqual(mounts[5]!.mountPoint, '/Volumes/My Backup');
  assert.deepEqual(mounts[4]!.type, 'autofs');
  const disks = parseIoreg(sample('ioreg.txt'));
  assert.deepEqual(disks, [
    { name: 'disk0', reads: 2345678, readBytes: 98765432100, readTime: 123456789012, writes: 1234567, writeBytes: 87654321000, writeTime: 234567890123 },
    { name: 'disk5', reads: 1, readBytes: 4096, readTime: 1000000, writes: 10, writeBytes: 8192, writeTime: 2000000 },
  ]);
});

test('the macOS process reader (two ps calls per sample) drives the same collector: a sleep starts and stops', { skip: process.platform === 'linux' ? false : 'runs ps with a procps-compatible -o list' }, async () => {
  const ingest = new RecordingIngest();
  const c = new ProcessCollector({ ingest, clock: systemClock, dataDir: '/nonexistent' }, new MacProcessReader(), { intervalMs: 60_000, top: 2 });
  await c.tick();
  const child = spawn('sleep', ['28', '2'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  await c.tick();
  const started = ingest.find({ action: 'process_started' }).find((d) => (d.process as { pid: number }).pid === child.pid);
  assert.ok(started, 'seen starting');
  assert.equal((started.process as { command_line: string }).command_line, 'sleep 28 2');
  assert.equal((started.process as { parent: { pid: number } }).parent.pid, process.pid);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  await c.tick();
  assert.ok(ingest.find({ action: 'process_stopped' }).some((d) => (d.process as { pid: number }).pid === child.pid), 'seen stopping');
  assert.ok(ingest.find({ metricset: 'process' }).length > 0, 'top consumers from ps %cpu and rss');
  await c.close();
});
