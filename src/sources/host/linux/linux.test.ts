// The /proc readers' parsing, on sample files written from proc(5) and the kernel's proc_net_tcp.txt (testdata/),
// and on this machine's own /proc where the answer is known (our own process, os.cpus(), os.totalmem()).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cpus, endianness, totalmem } from 'node:os';
import { test } from 'node:test';
import { ipv6Text, parseNetDev, parseProcAddress, parseSocketTable } from './net.js';
import { joinArgs, parseCmdline, parseProcPidStat, parseStatusUid } from './processes.js';
import { parseDiskstats, parseLoadavg, parseMeminfo, parseMounts, parseNodevTypes, parseProcStat } from './stat.js';
import { parsePasswd } from './users.js';

const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'latin1');
// The sample socket tables are what a little-endian machine (x86, arm64) prints.
const le = { skip: endianness() !== 'LE' ? 'the samples are little-endian' : false };

test('addresses of /proc/net tables are host-order hex words', le, () => {
  assert.deepEqual(parseProcAddress('0100007F:0016'), { ip: '127.0.0.1', port: 22 });
  assert.deepEqual(parseProcAddress('00000000000000000000000001000000:01BB'), { ip: '::1', port: 443 });
  assert.deepEqual(parseProcAddress('0000000000000000FFFF00000F02000A:0050'), { ip: '10.0.2.15', port: 80 });
  assert.equal(parseProcAddress('zz:1'), undefined);
  assert.equal(parseProcAddress('0100007F:FFFFF'), undefined);
});

test('IPv6 text is RFC 5952: the longest zero run compressed, lower case', () => {
  const bytes = (hex: string) => hex.match(/../g)!.map((b) => Number.parseInt(b, 16));
  assert.equal(ipv6Text(bytes('20010db8000000000000000000000001')), '2001:db8::1');
  assert.equal(ipv6Text(bytes('00000000000000000000000000000000')), '::');
  assert.equal(ipv6Text(bytes('20010db8000000010000000000000001')), '2001:db8:0:1::1');
  assert.equal(ipv6Text(bytes('fe800000000000000000000000000000')), 'fe80::');
  assert.equal(ipv6Text(bytes('00000000000000000000ffffc0000207')), '192.0.2.7');
});

test('TCP and UDP tables: listeners, connections, states, owners by uid and inode', le, () => {
  const tcp = parseSocketTable(fixture('tcp'), 'tcp', 'ipv4');
  assert.equal(tcp.length, 3);
  assert.deepEqual(tcp[0], { transport: 'tcp', family: 'ipv4', localIp: '0.0.0.0', localPort: 22, remoteIp: '0.0.0.0', remotePort: 0, state: 'LISTEN', listening: true, uid: 0, inode: 20181 });
  assert.equal(tcp[1]!.state, 'ESTABLISHED');
  assert.equal(tcp[1]!.remotePort, 54004);
  assert.equal(tcp[1]!.uid, 1000);
  assert.equal(tcp[2]!.state, 'TIME_WAIT');
  assert.equal(tcp[2]!.inode, 0);
  assert.deepEqual([tcp[2]!.localIp, tcp[2]!.localPort, tcp[2]!.remoteIp, tcp[2]!.remotePort], ['10.0.2.15', 50000, '10.0.2.2', 443]);

  const tcp6 = parseSocketTable(fixture('tcp6'), 'tcp', 'ipv6');
  assert.deepEqual(tcp6.map((s) => [s.localIp, s.localPort, s.remoteIp, s.remotePort, s.state]), [
    ['::', 80, '::', 0, 'LISTEN'],
    ['10.0.2.15', 80, '10.0.2.7', 57585, 'ESTABLISHED'],
    ['2001:db8::1', 443, '::1', 40000, 'ESTABLISHED'],
  ]);

  const udp = parseSocketTable(fixture('udp'), 'udp', 'ipv4');
  assert.deepEqual(udp.map((s) => [s.localIp, s.localPort, s.state, s.listening]), [
    ['127.0.0.53', 53, 'LISTEN', true],
    ['10.0.2.15', 41394, 'ESTABLISHED', false],
  ]);
});

test('interface counters from /proc/net/dev', () => {
  const [lo, eth0] = parseNetDev(fixture('dev'));
  assert.deepEqual(lo, { name: 'lo', rxBytes: 2776770, rxPackets: 11307, rxErrors: 0, rxDropped: 0, txBytes: 2776770, txPackets: 11307, txErrors: 0, txDropped: 0 });
  assert.deepEqual(eth0, { name: 'eth0', rxBytes: 1215645, rxPackets: 2751, rxErrors: 1, rxDropped: 2, txBytes: 1782404, txPackets: 4324, txErrors: 3, txDropped: 4 });
});

test('this machine: CPU lines, memory and load match what Node reads', () => {
  const stat = parseProcStat(readFileSync('/proc/stat', 'latin1'));
  assert.equal(stat.cores.length, cpus().length);
  assert.ok(stat.total.idle > 0 && stat.total.user > 0);
  assert.ok(stat.bootTime! > 1e9 && stat.bootTime! * 1000 < Date.now());
  assert.equal(parseMeminfo(readFileSync('/proc/meminfo', 'latin1')).total, totalmem());
  const load = parseLoadavg(readFileSync('/proc/loadavg', 'latin1'));
  assert.ok(load.every((x) => x >= 0));
});

test('meminfo without MemAvailable (Linux < 3.14) estimates it from free, buffers and cache', () => {
  const m = parseMeminfo('MemTotal:  1000 kB\nMemFree:  100 kB\nBuffers:  50 kB\nCached:  250 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n');
  assert.equal(m.available, 400 * 1024);
});

test('diskstats, mounts (octal escapes, later mounts hide earlier ones) and nodev types', () => {
  const [d] = parseDiskstats(' 254       0 vda 88794 1234 5915042 31864 1674226 9876 224693320 347180 0 143080 379044 0 0 0 0\n');
  assert.deepEqual(d, { major: 254, minor: 0, name: 'vda', reads: 88794, readSectors: 5915042, readTime: 31864, writes: 1674226, writeSectors: 224693320, writeTime: 347180, ioTime: 143080 });
  const mounts = parseMounts('/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /mnt/my\\040disk xfs rw 0 0\n/dev/sda2 / ext4 rw 0 0\n');
  assert.deepEqual(mounts, [
    { device: '/dev/sdb1', mountPoint: '/mnt/my disk', type: 'xfs' },
    { device: '/dev/sda2', mountPoint: '/', type: 'ext4' },
  ]);
  const nodev = parseNodevTypes('nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\tcgroup2\n');
  assert.deepEqual([...nodev], ['sysfs', 'tmpfs', 'cgroup2']);
});

test('/proc/<pid>/stat with spaces and parentheses in the command name', () => {
  const stat = parseProcPidStat('4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 25 0 0 20 0 1 0 98765 12345678 321 18446744073709551615 0 0 0');
  assert.deepEqual(stat, { pid: 4242, name: 'my (odd) prog', ppid: 1, flags: 4194560, utime: 150, stime: 25, starttime: 98765, rssPages: 321 });
  const own = parseProcPidStat(readFileSync('/proc/self/stat', 'latin1'))!;
  assert.equal(own.pid, Number(readFileSync('/proc/self/stat', 'latin1').split(' ')[0]));
  assert.equal(parseStatusUid(readFileSync('/proc/self/status', 'latin1')), process.getuid!());
});

test('command lines: NUL-separated argv, joined with quoting where needed', () => {
  assert.deepEqual(parseCmdline('sleep\x0030\x00'), ['sleep', '30']);
  assert.deepEqual(parseCmdline(''), []);
  assert.equal(joinArgs(['sh', '-c', "echo 'hi there'"]), `sh -c 'echo '\\''hi there'\\'''`);
  assert.equal(joinArgs(['ls', '']), "ls ''");
});

test('passwd: the first entry of a uid wins; comments and short lines skipped', () => {
  const names = parsePasswd('# comment\nroot:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/bash\nbroken\n');
  assert.equal(names.get(0), 'root');
  assert.equal(names.get(1000), 'alice');
  assert.equal(names.size, 2);
});
