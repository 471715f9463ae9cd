// The syslog receiver end to end, fed by real senders (logger, rsyslogd, a TLS client) and by hostile ones,
// with the pipeline replaced by a recorder of the lines it is handed.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { VigilError } from '../../core/errors.js';
import type { Ingest, LineOptions } from '../../core/ingest.js';
import { startSyslog, type SyslogOptions, type SyslogReceiver } from './index.js';

/** A stand-in for the pipeline: records every line it takes; a test can make it congested or busy. */
function recordingIngest() {
  const calls: { lines: string[]; options: LineOptions }[] = [];
  const dropped = new Map<string, number>();
  let drainListeners: (() => void)[] = [];
  const state = { congested: false, busy: false, rejections: 0 };
  const ingest: Ingest = {
    get congested() {
      return state.congested;
    },
    async ingestLines(lines, options) {
      if (state.busy) {
        state.rejections++;
        throw new VigilError('busy', 'the pipeline is full', { retryAfter: 60 });
      }
      calls.push({ lines: [...lines], options });
      return { accepted: lines.length, rejected: 0, errors: [], ids: lines.map(() => undefined) };
    },
    async ingestDocuments() {
      throw new Error('syslog hands over lines only');
    },
    onDrain(listener) {
      drainListeners.push(listener);
    },
    countDropped(input, reason, count = 1) {
      dropped.set(`${input}/${reason}`, (dropped.get(`${input}/${reason}`) ?? 0) + count);
    },
  };
  return {
    ingest,
    calls,
    state,
    lines: (input?: string): string[] => calls.filter((c) => input === undefined || c.options.input === input).flatMap((c) => c.lines),
    dropped: (input: string, reason: string): number => dropped.get(`${input}/${reason}`) ?? 0,
    /** Leaves congestion (and busy refusals) and tells every waiting listener, as the pipeline does. */
    drain(): void {
      state.congested = false;
      state.busy = false;
      const listeners = drainListeners;
      drainListeners = [];
      for (const listener of listeners) listener();
    },
  };
}

type Recorder = ReturnType<typeof recordingIngest>;
const run = promisify(execFile);
const HOST = '127.0.0.1';
const RFC5424 = '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event';
const RFC3164 = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8";

function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Polls until `check` holds; fails with `what` after `ms` (a deadline for a hung test, not a speed assertion). */
async function waitFor(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function start(t: TestContext, options: Partial<SyslogOptions> = {}): Promise<{ rec: Recorder; rx: SyslogReceiver }> {
  const rec = recordingIngest();
  const rx = await startSyslog({ host: HOST, port: 'ephemeral', batchMs: 5, ...options }, rec.ingest);
  t.after(() => {
    rec.drain(); // a test that failed while the recorder was busy must not leave close() waiting for ever
    return rx.close();
  });
  return { rec, rx };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: HOST }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
}

/** Sends `data` on a new TCP connection, optionally piece by piece, then closes it. */
async function sendTcp(port: number, data: string | Buffer | (string | Buffer)[]): Promise<void> {
  const socket = await connect(port);
  socket.setNoDelay(true);
  for (const piece of Array.isArray(data) ? data : [data]) {
    await new Promise<void>((resolve, reject) => socket.write(piece, (err) => (err ? reject(err) : resolve())));
  }
  socket.end();
  await closed(socket);
}

async function sendUdp(port: number, datagrams: (string | Buffer)[]): Promise<void> {
  const socket = dgram.createSocket('udp4');
  for (const datagram of datagrams) {
    await new Promise<void>((resolve, reject) => socket.send(datagram, port, HOST, (err) => (err ? reject(err) : resolve())));
  }
  socket.close();
}

function octet(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}

test('UDP and TCP share one port; 0 turns them off; a taken port is a clear error', async (t) => {
  const { rx } = await start(t);
  assert.ok(rx.tcpPort > 0);
  assert.equal(rx.udpPort, rx.tcpPort);
  assert.equal(rx.tlsPort, undefined);

  const off = await startSyslog({ host: HOST, port: 0 }, recordingIngest().ingest);
  assert.equal(off.udpPort, 0);
  assert.equal(off.tcpPort, 0);
  await off.close();

  await assert.rejects(startSyslog({ host: HOST, port: rx.tcpPort }, recordingIngest().ingest), (err: unknown) => {
    assert.ok(err instanceof VigilError);
    assert.equal(err.id, 'unavailable');
    assert.match(err.message, new RegExp(`:${rx.tcpPort}`));
    return true;
  });
  await assert.rejects(startSyslog({ host: HOST, port: 'ephemeral', maxMessageBytes: 3 }, recordingIngest().ingest), /max_message_bytes/);
});

test('logger over UDP, RFC 5424 and RFC 3164', async (t) => {
  if (!hasTool('logger')) return t.skip('logger (util-linux) is not installed');
  const { rec, rx } = await start(t);
  const port = String(rx.udpPort);
  await run('logger', ['-n', HOST, '-P', port, '--udp', '--rfc5424', '-p', 'auth.warning', '-t', 'sshd', '--msgid', 'ID9', 'udp five four two four']);
  await run('logger', ['-n', HOST, '-P', port, '--udp', '--rfc3164', '-p', 'local3.info', '-t', 'cron', 'udp three one six four']);
  await waitFor(() => rec.lines().length === 2, 'two UDP messages');
  const [rfc5424, rfc3164] = rec.lines();
  assert.match(rfc5424!, /^<36>1 \d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d \S+ sshd - ID9 \[timeQuality [^\]]*\] udp five four two four$/);
  assert.match(rfc3164!, /^<158>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ cron: udp three one six four$/);
  for (const call of rec.calls) {
    assert.equal(call.options.format, 'syslog');
    assert.equal(call.options.input, 'syslog_udp');
    assert.match(call.options.peer!, /^127\.0\.0\.1:\d+$/);
  }
});

test('logger over TCP: newline framing, octet counting, a file of many lines', async (t) => {
  if (!hasTool('logger')) return t.skip('logger (util-linux) is not installed');
  const { rec, rx } = await start(t, { batchSize: 50 });
  const port = String(rx.tcpPort);
  await run('logger', ['-n', HOST, '-P', port, '--tcp', '--rfc5424', '-t', 'app', '--sd-id', 'origin@32473', '--sd-param', 'ip="10.0.0.9"', 'newline framed']);
  await waitFor(() => rec.lines().length === 1, 'the newline-framed message');
  await run('logger', ['-n', HOST, '-P', port, '--tcp', '--octet-count', '--rfc5424', '-t', 'app', 'octet counted']);
  await waitFor(() => rec.lines().length === 2, 'the octet-counted message');
  assert.match(rec.lines()[0]!, /^<13>1 \S+ \S+ app - - \[timeQuality [^\]]*\]\[origin@32473 ip="10\.0\.0\.9"\] newline framed$/);
  assert.match(rec.lines()[1]!, /^<13>1 \S+ \S+ app - - \[timeQuality [^\]]*\] octet counted$/);

  const dir = await mkdtemp(join(tmpdir(), 'vigil-syslog-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'lines.txt');
  const count = 300;
  await writeFile(file, Array.from({ length: count }, (_, i) => `file line ${i}`).join('\n') + '\n');
  await run('logger', ['-n', HOST, '-P', port, '--tcp', '--rfc3164', '-t', 'bulk', '-f', file]);
  await waitFor(() => rec.lines().length === 2 + count, 'every line of the file');
  const bulk = rec.lines().slice(2);
  bulk.forEach((line, i) => assert.match(line, new RegExp(`^<13>\\w{3} [ \\d]\\d [\\d:]{8} \\S+ bulk: file line ${i}$`)));
  assert.ok(rec.calls.every((c) => c.lines.length <= 50 && c.options.input === 'syslog_tcp'));
});

test('rsyslogd forwards over TCP (octet-counted) and UDP from a private configuration', async (t) => {
  if (!hasTool('rsyslogd')) return t.skip('rsyslogd is not installed');
  const { rec, rx } = await start(t);
  const dir = await mkdtemp(join(tmpdir(), 'vigil-rsyslog-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const input = join(dir, 'input.log');
  const lines = Array.from({ length: 20 }, (_, i) => `rsyslog line ${i} user=alice src=192.0.2.${i}`);
  await writeFile(input, lines.join('\n') + '\n');
  // The file input runs in its own ruleset, so rsyslogd's own start-up messages are not forwarded.
  const conf = join(dir, 'rsyslog.conf');
  await writeFile(
    conf,
    `global(workDirectory="${dir}")
module(load="imfile")
input(type="imfile" file="${input}" tag="vigiltest:" facility="local0" severity="notice" ruleset="forward")
ruleset(name="forward") {
  action(type="omfwd" target="${HOST}" port="${rx.tcpPort}" protocol="tcp" TCP_Framing="octet-counted")
  action(type="omfwd" target="${HOST}" port="${rx.udpPort}" protocol="udp")
}
`,
  );
  const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  await waitFor(
    () => rec.lines('syslog_tcp').length >= lines.length && rec.lines('syslog_udp').length >= lines.length,
    `rsyslogd's forwarded lines (stderr: ${stderr})`,
  );
  for (const input of ['syslog_tcp', 'syslog_udp']) {
    const got = rec.lines(input);
    assert.equal(got.length, lines.length, input);
    got.forEach((line, i) => assert.match(line, new RegExp(`^<133>\\w{3} [ \\d]\\d [\\d:]{8} \\S+ vigiltest: ${lines[i]}$`), input));
  }
});

test('TLS (RFC 5425): octet-counted frames over node:tls with a self-signed certificate; mutual TLS with a CA', async (t) => {
  if (!hasTool('openssl')) return t.skip('openssl is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'vigil-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', keyFile, '-out', certFile]);
  const cert = await readFile(certFile);
  const key = await readFile(keyFile);

  const send = (port: number, frames: string, client: tls.ConnectionOptions = {}): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host: HOST, servername: 'localhost', ca: cert, ...client }, () => socket.end(frames));
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });

  const { rec, rx } = await start(t, { port: 0, tls: { port: 'ephemeral', cert: certFile, key: keyFile } });
  assert.equal(rx.tcpPort, 0);
  assert.ok(rx.tlsPort !== undefined && rx.tlsPort > 0);
  await send(rx.tlsPort, octet(RFC5424) + octet(RFC3164) + `${RFC3164}\n`);
  await waitFor(() => rec.lines().length === 3, 'three TLS messages');
  assert.deepEqual(rec.lines(), [RFC5424, RFC3164, RFC3164]);
  assert.equal(rec.calls[0]!.options.input, 'syslog_tls');

  // Not TLS at all: the handshake fails, is counted, and the listener carries on.
  await sendTcp(rx.tlsPort, `${RFC3164}\n`);
  await waitFor(() => rec.dropped('syslog_tls', 'tls_error') === 1, 'the failed handshake to be counted');

  const mutual = await start(t, { port: 0, tls: { port: 'ephemeral', cert: certFile, key: keyFile, ca: certFile } });
  await send(mutual.rx.tlsPort!, octet('<13>with a client certificate'), { cert, key });
  await waitFor(() => mutual.rec.lines().length === 1, 'the message from the authenticated client');
  await send(mutual.rx.tlsPort!, octet('<13>without one')).catch(() => {});
  await waitFor(() => mutual.rec.dropped('syslog_tls', 'tls_error') === 1, 'the client without a certificate to be refused');
  assert.deepEqual(mutual.rec.lines(), ['<13>with a client certificate']);

  await assert.rejects(
    startSyslog({ host: HOST, port: 0, tls: { port: 'ephemeral', cert: join(dir, 'missing.pem'), key: keyFile } }, recordingIngest().ingest),
    (err: unknown) => err instanceof VigilError && err.id === 'bad_config' && err.location === join(dir, 'missing.pem'),
  );
});

test('UDP: several lines in one datagram, a long datagram cut and counted, empty datagrams ignored', async (t) => {
  const { rec, rx } = await start(t, { maxMessageBytes: 1024 });
  await sendUdp(rx.udpPort, [`${RFC5424}\n`, `${RFC3164}\n${RFC5424}\r\n`, '', `<13>${'u'.repeat(5000)}`, Buffer.from([0x3c, 0x31, 0x3e, 0xff, 0x00])]);
  await waitFor(() => rec.lines().length === 5, 'five UDP messages');
  assert.deepEqual(rec.lines().slice(0, 3), [RFC5424, RFC3164, RFC5424]);
  assert.deepEqual(rec.lines().slice(3), [`<13>${'u'.repeat(1020)}`, '<1>\ufffd']);
  assert.equal(rec.dropped('syslog_udp', 'truncated'), 1);
});

test('hostile TCP input: split at every byte, a 1 MB line, huge or absurd octet counts, binary, NUL, cut frames', async (t) => {
  const { rec, rx } = await start(t, { maxMessageBytes: 4096 });
  const port = rx.tcpPort;
  const byByte = Buffer.from(`${octet(RFC5424)}${RFC3164}\r\n${octet('<13>Grüße 😀')}`);
  await sendTcp(port, [...byByte].map((b) => Buffer.from([b])));
  await waitFor(() => rec.lines().length === 3, 'the byte-by-byte messages');
  assert.deepEqual(rec.lines(), [RFC5424, RFC3164, '<13>Grüße 😀']);

  const expect: string[] = [...rec.lines()];
  const check = async (what: string, data: string | Buffer | (string | Buffer)[], messages: string[]): Promise<void> => {
    await sendTcp(port, data);
    expect.push(...messages);
    await waitFor(() => rec.lines().length >= expect.length, what);
    assert.deepEqual(rec.lines(), expect, what);
  };
  const mega = Buffer.alloc(1024 * 1024, 'm');
  await check('a 1 MB line without a newline, then a normal one', [mega, mega, `\n${RFC3164}\n`], ['m'.repeat(4096), RFC3164]);
  await check('an octet count over the limit', `${octet(`<13>${'o'.repeat(10_000)}`)}${octet(RFC5424)}`, [`<13>${'o'.repeat(4092)}`, RFC5424]);
  await check('an absurd octet count', `99999999999999999999 x\n${RFC3164}\n`, ['99999999999999999999 x', RFC3164]);
  await check('binary garbage', Buffer.from([0xff, 0xfe, 0x3c, 0x31, 0x3e, 0xc3, 0x0a, 0x80, 0x81]), ['\ufffd\ufffd<1>\ufffd', '\ufffd\ufffd']);
  await check('NUL bytes', `<13>a\0\0<13>b\0${octet('<13>c\0d')}`, ['<13>a', '<13>b', '<13>c\0d']);
  await check('a connection closing in a newline-framed message', `${RFC3164}\n<13>no newline at the end`, [RFC3164, '<13>no newline at the end']);
  await check('a connection closing in a counted frame', `${octet(RFC5424)}500 <13>cut`, [RFC5424, '<13>cut']);
  assert.equal(rec.dropped('syslog_tcp', 'truncated'), 3); // the 1 MB line, the long frame, the cut frame
});

test('a reset connection does not disturb others', async (t) => {
  const { rec, rx } = await start(t);
  const steady = await connect(rx.tcpPort);
  steady.write(`<13>steady 1\n`);
  const rude = await connect(rx.tcpPort);
  rude.write('<13>half a mess');
  await waitFor(() => rx.stats().messages === 1 && rx.stats().connections === 2, 'both connections');
  rude.resetAndDestroy();
  await waitFor(() => rx.stats().connections === 1, 'the reset connection to go');
  steady.end(`<13>steady 2\n`);
  await closed(steady);
  await waitFor(() => rec.lines().length === 3, 'every message');
  assert.deepEqual(rec.lines().sort(), ['<13>half a mess', '<13>steady 1', '<13>steady 2']);
});

test('connections over the limit are closed at once and counted; the others carry on', async (t) => {
  const { rec, rx } = await start(t, { maxConnections: 2 });
  const first = await connect(rx.tcpPort);
  const second = await connect(rx.tcpPort);
  await waitFor(() => rx.stats().connections === 2, 'two connections');
  const third = await connect(rx.tcpPort);
  third.on('error', () => {});
  await closed(third);
  assert.equal(rec.dropped('syslog_tcp', 'connection_limit'), 1);
  first.end('<13>first\n');
  second.end('<13>second\n');
  await waitFor(() => rec.lines().length === 2, 'the messages of the accepted connections');
  assert.deepEqual(rec.lines().sort(), ['<13>first', '<13>second']);
});

test('an idle connection is closed; its message without a newline is still delivered', async (t) => {
  const { rec, rx } = await start(t, { idleTimeoutMs: 200 });
  const socket = await connect(rx.tcpPort);
  socket.on('error', () => {});
  socket.write('<13>idle sender');
  await closed(socket);
  await waitFor(() => rec.lines().length === 1, 'the idle connection’s message');
  assert.deepEqual(rec.lines(), ['<13>idle sender']);
  assert.equal(rx.stats().connections, 0);
});

test('back-pressure: a congested pipeline pauses the socket, the sender is held back, nothing is lost', async (t) => {
  const { rec, rx } = await start(t, { batchSize: 100 });
  rec.state.congested = true;
  const total = 16_000;
  const lines = Array.from({ length: total }, (_, i) => `<13>Oct 11 22:14:15 host app[${i}]: message ${i} ${'p'.repeat(900)}`);
  const socket = await connect(rx.tcpPort);
  socket.write(lines.join('\n') + '\n'); // ~15 MB: more than loopback's socket buffers hold
  await waitFor(() => rx.stats().pausedConnections === 1, 'the connection to be paused');
  await waitFor(() => socket.writableLength > 0, 'the sender to be held back');
  const whilePaused = rec.lines().length;
  assert.ok(whilePaused < total);
  assert.equal(rx.stats().pausedConnections, 1);
  assert.ok(socket.writableLength > 0);
  rec.drain();
  socket.end();
  await waitFor(() => rec.lines().length === total, 'every line after the drain');
  assert.deepEqual(rec.lines(), lines);
  assert.equal(rec.dropped('syslog_tcp', 'congested'), 0);
});

test('back-pressure: a busy refusal pauses the socket and the batch is retried after the drain, once', async (t) => {
  const { rec, rx } = await start(t, { batchSize: 100 });
  rec.state.busy = true;
  const lines = Array.from({ length: 1000 }, (_, i) => `${octet(`<13>busy ${i}`)}`);
  const socket = await connect(rx.tcpPort);
  socket.write(lines.join(''));
  await waitFor(() => rec.state.rejections > 0 && rx.stats().pausedConnections === 1, 'a refusal and a paused connection');
  assert.equal(rec.lines().length, 0);
  rec.drain();
  socket.end();
  await waitFor(() => rec.lines().length === 1000, 'every line after the drain');
  assert.deepEqual(rec.lines(), lines.map((_, i) => `<13>busy ${i}`));
});

test('UDP cannot push back: datagrams while congested or refused are counted as dropped', async (t) => {
  const { rec, rx } = await start(t);
  rec.state.congested = true;
  await sendUdp(rx.udpPort, ['<13>a', '<13>b\n<13>c']);
  await waitFor(() => rec.dropped('syslog_udp', 'congested') === 3, 'three messages counted as dropped');
  rec.drain();
  rec.state.busy = true;
  await sendUdp(rx.udpPort, ['<13>d']);
  await waitFor(() => rec.dropped('syslog_udp', 'congested') === 4, 'the refused batch counted as dropped');
  rec.state.busy = false;
  await sendUdp(rx.udpPort, ['<13>e']);
  await waitFor(() => rec.lines().length === 1, 'the message after the congestion');
  assert.deepEqual(rec.lines(), ['<13>e']);
});

test('close() delivers the messages still being batched, and waits for them', async (t) => {
  const { rec, rx } = await start(t, { batchMs: 60_000, batchSize: 1000 });
  const socket = await connect(rx.tcpPort);
  socket.write(`${RFC5424}\n${RFC3164}\n<13>unterminated`);
  await sendUdp(rx.udpPort, ['<13>udp']);
  await waitFor(() => rx.stats().messages === 3, 'the messages to be read');
  assert.equal(rec.lines().length, 0);
  await rx.close();
  assert.deepEqual(rec.lines().sort(), ['<13>udp', '<13>unterminated', RFC3164, RFC5424].sort());
  await closed(socket);
});
