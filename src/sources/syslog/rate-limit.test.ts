// Syslog rate limits against a real Vigil (pipeline and store) over real sockets: a TCP sender over its rate is read
// more slowly and loses nothing; a UDP sender's excess is dropped and counted as intentional.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startTestVigil, type TestVigil } from '../../testing/runtime.js';

let vigil: TestVigil;

before(async () => {
  vigil = await startTestVigil(
    {
      limits: { syslog_tcp: { messages_per_second: 500, burst: 100 }, syslog_udp: { messages_per_second: 100, burst: 50 } },
      rules: { builtin: false },
      ml: { enabled: false },
    },
    { syslogPort: 'ephemeral' },
  );
});
after(async () => vigil.close());

const message = (host: string, i: number) => `<165>1 2024-05-01T10:00:00.000Z ${host} app - - - message ${i} of a sender over its rate`;

async function stored(host: string): Promise<number> {
  const response = await vigil.call(`/api/v1/events?q=${encodeURIComponent(`host.name:${host}`)}&limit=1`);
  return ((await response.json()) as { total: number }).total;
}

async function metric(prefix: string): Promise<number> {
  const text = await (await vigil.call('/metrics')).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('syslog rate limits', () => {
  test('a TCP sender over its rate is held back, not dropped: every message is stored in the end', async () => {
    const receiver = vigil.runtime.syslog!;
    const total = 2_000;
    const before = receiver.stats().messages;
    const socket = net.connect(receiver.tcpPort, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const body = Array.from({ length: total }, (_, i) => message('rl-tcp', i)).join('\n') + '\n';
    await new Promise<void>((resolve, reject) => socket.write(body, (err) => (err ? reject(err) : resolve())));
    // Written into the kernel's buffers at once; at 500 a second the receiver cannot have read it all yet.
    assert.ok(receiver.stats().messages - before < total, 'the receiver reads at the connection rate');
    let throttledSeen = false;
    await waitFor(() => {
      if (receiver.stats().rateLimitedConnections > 0) throttledSeen = true;
      return throttledSeen;
    }, 'the connection to be held back');
    socket.end();
    await waitFor(async () => (await stored('rl-tcp')) === total, `all ${total} messages stored`);
    assert.equal(await metric('vigil_events_dropped_total{input="syslog_tcp"'), 0, 'nothing dropped');
  });

  test('a UDP flood over the sender rate: the excess is dropped and counted, the rest stored', async () => {
    const receiver = vigil.runtime.syslog!;
    const before = receiver.stats().messages;
    const socket = dgram.createSocket('udp4');
    const sent = 600;
    for (let i = 0; i < sent; i++) {
      await new Promise<void>((resolve, reject) => socket.send(message('rl-udp', i), receiver.udpPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    }
    socket.close();
    const limitedLabel = 'vigil_events_dropped_total{input="syslog_udp",reason="rate_limited",intentional="true"}';
    // Every datagram the receiver read is either stored or counted (the kernel may lose some before that).
    await waitFor(async () => {
      const read = receiver.stats().messages - before;
      return read > 0 && (await stored('rl-udp')) + (await metric(limitedLabel)) === read;
    }, 'every datagram read to be stored or counted');
    const limited = await metric(limitedLabel);
    const kept = await stored('rl-udp');
    assert.ok(limited > 0, 'the excess is counted as dropped for the rate limit');
    assert.ok(kept >= 50, `the burst is stored (${kept})`);
    assert.ok(kept < sent, 'not everything is stored');
  });
});
