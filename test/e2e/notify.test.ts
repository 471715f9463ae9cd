// From attack to people: the simulator's compromise reaches a real webhook receiver as signed alert and incident
// messages, and the incident, left unacknowledged, escalates to the channel kept for escalations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runVigil } from '../../src/testing/process.js';
import { startTestVigil } from '../../src/testing/runtime.js';
import { verifySignature } from '../../src/sinks/webhook/webhook.js';

interface Received {
  path: string;
  body: { type: string; escalation?: number; notices: { kind: string; title: string; severity: string }[] };
  signed: boolean;
}

test('a compromise is notified, and escalates to the next channel when nobody acknowledges it', { timeout: 120_000 }, async () => {
  const received: Received[] = [];
  const receiver = createServer((request: IncomingMessage, response) => {
    let text = '';
    request.on('data', (c: Buffer) => (text += c.toString()));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: JSON.parse(text) as Received['body'], signed: verifySignature('s3cret', text, request.headers['x-vigil-signature'] as string | undefined) });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const channel = { type: 'webhook', secret: 's3cret', min_severity: 'high', rate_limit_per_minute: 0, digest_seconds: 0 };
  const vigil = await startTestVigil(
    {
      syslog: { host: '127.0.0.1' },
      alerts: { escalate_after_minutes: 0.1 },
      notifications: { channels: [{ ...channel, name: 'ops', url: `${base}/ops` }, { ...channel, name: 'pager', url: `${base}/pager`, min_escalation: 1 }] },
    },
    { syslogPort: 'ephemeral' },
  );
  try {
    const token = vigil.runtime.credentials.createToken('simulator', 'analyst').token;
    const result = await runVigil(['simulate', '--scenario', 'compromise', '--server', vigil.url, '--token', token, '--syslog', `127.0.0.1:${vigil.runtime.syslog!.tcpPort}`, '--wait', '60s']);
    assert.equal(result.code, 0, result.stderr);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !received.some((r) => r.path === '/pager')) await new Promise((r) => setTimeout(r, 200));
    const ops = received.filter((r) => r.path === '/ops');
    assert.ok(ops.every((r) => r.signed), 'every delivery is signed');
    assert.ok(ops.some((r) => r.body.type === 'alert' && r.body.notices[0]!.title === 'Successful SSH login after brute force'));
    assert.ok(ops.some((r) => r.body.type === 'incident' && /Possible compromise: 218\.92\.0\.107/.test(r.body.notices[0]!.title)), JSON.stringify(ops.map((r) => r.body.notices[0]!.title)));
    // The pager hears only of the incident, once it has waited unacknowledged.
    const pager = received.filter((r) => r.path === '/pager');
    assert.ok(pager.length >= 1, 'escalated to the pager');
    assert.ok(pager.every((r) => r.body.type === 'incident' && (r.body.escalation ?? 0) >= 1));
    assert.equal(pager[0]!.body.notices[0]!.severity, 'critical');
  } finally {
    await vigil.close();
    receiver.close();
  }
});
