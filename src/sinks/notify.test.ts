// Notifications against real local receivers: an HTTP server for webhooks and Slack, an SMTP server (smtp-server)
// for email. Signatures, retries with backoff and Retry-After, escaping, filters, rate limits, digests, escalation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { notificationsSchema } from '../config/notifications.js';
import { Notifier } from './notify.js';
import { testAlert, testIncident } from './testing.js';
import { verifySignature } from './webhook/webhook.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** An HTTP receiver answering with the statuses given, in turn (then 200), and recording every request. */
async function receiver(statuses: (number | [number, Record<string, string>] | 'hang')[] = []): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url!, headers: req.headers, body, at: Date.now() });
      const next = statuses.shift() ?? 200;
      if (next === 'hang') return; // never answers: the sender times out
      const [status, headers] = Array.isArray(next) ? next : [next, {}];
      res.writeHead(status, headers);
      res.end(status === 200 ? 'ok' : 'try later');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const fast = { baseDelayMs: 20, random: () => 1 };
const quiet = { rate_limit_per_minute: 0, digest_seconds: 0, min_severity: 'informational' as const };

test('webhook: signed JSON, retried on 5xx, 429 and timeouts with backoff and Retry-After, not on other 4xx', async () => {
  const { server, url, received } = await receiver([503, [429, { 'retry-after': '1' }], 'hang', 200, 400]);
  const config = notificationsSchema.parse({ public_url: 'https://vigil.example/', channels: [{ type: 'webhook', name: 'hook', url: `${url}/hook`, secret_env: 'HOOK_SECRET', timeout_ms: 300, headers: { 'x-team': 'sec' }, ...quiet }] });
  const notifier = new Notifier(config, { env: { HOOK_SECRET: 'whsec-test' }, delivery: fast });
  try {
    assert.deepEqual(notifier.notifyAlert(testAlert()), ['hook']);
    await notifier.flush();
    // 503, 429 (Retry-After 1 s), no answer, then 200: four attempts of the same bytes.
    assert.equal(received.length, 4);
    assert.ok(received[2]!.at - received[1]!.at >= 950, `Retry-After honoured: ${received[2]!.at - received[1]!.at} ms`);
    assert.ok(received[1]!.at - received[0]!.at >= 20, 'backoff between attempts');
    assert.deepEqual(new Set(received.map((r) => r.body)).size, 1);
    const first = received[0]!;
    assert.equal(first.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(first.headers['x-team'], 'sec');
    assert.ok(verifySignature('whsec-test', first.body, first.headers['x-vigil-signature'] as string));
    assert.equal(verifySignature('other', first.body, first.headers['x-vigil-signature'] as string), false);
    assert.equal(verifySignature('whsec-test', first.body + ' ', first.headers['x-vigil-signature'] as string), false);
    const body = JSON.parse(first.body) as { id: string; timestamp: number; type: string; notices: { link: string; entity: unknown }[]; alert: { id: string } };
    assert.equal(body.id, first.headers['x-vigil-delivery']);
    assert.equal(String(body.timestamp), first.headers['x-vigil-timestamp']);
    assert.ok(Math.abs(body.timestamp - Date.now() / 1000) < 30);
    assert.equal(body.type, 'alert');
    assert.equal(body.alert.id, 'a1');
    assert.equal(body.notices[0]!.link, 'https://vigil.example/alerts/a1');
    let status = notifier.status()[0]!;
    assert.deepEqual([status.sent, status.retries, status.failed], [1, 3, 0]);

    // A 400 is final: one attempt, counted as failed, and health says so.
    notifier.notifyAlert(testAlert({ id: 'a2' }));
    await notifier.flush();
    assert.equal(received.length, 5);
    status = notifier.status()[0]!;
    assert.deepEqual([status.sent, status.failed], [1, 1]);
    assert.match(status.last_error!, /HTTP 400/);
    assert.deepEqual(notifier.health().status().failing, ['hook']);
    notifier.notifyAlert(testAlert({ id: 'a3' }));
    await notifier.flush();
    assert.deepEqual(notifier.health().status().failing, []);
  } finally {
    await notifier.close();
    server.close();
  }
});

test('a receiver that stays down: attempts stop at max_attempts; a full queue drops and counts', async () => {
  const { server, url, received } = await receiver(Array(20).fill(500));
  const config = notificationsSchema.parse({ channels: [{ type: 'webhook', name: 'down', url, max_attempts: 3, max_queue: 1, ...quiet }] });
  const notifier = new Notifier(config, { delivery: fast });
  try {
    notifier.notifyAlert(testAlert({ id: 'x1' }));
    notifier.notifyAlert(testAlert({ id: 'x2' })); // the queue holds one: dropped
    await notifier.flush();
    const status = notifier.status()[0]!;
    assert.equal(received.length, 3);
    assert.deepEqual([status.sent, status.failed, status.dropped, status.retries], [0, 1, 1, 2]);
  } finally {
    await notifier.close();
    server.close();
  }
});

test('slack: Block Kit with severity, entity, summary and a link; attacker text cannot format, mention or link', async () => {
  const { server, url, received } = await receiver();
  const config = notificationsSchema.parse({ public_url: 'http://vigil.local:3000', channels: [{ type: 'slack', name: 'soc', url_file: undefined, url: `${url}/services/T000/B000/XXXX`, ...quiet }] });
  const notifier = new Notifier(config, { delivery: fast });
  try {
    const hostile = testAlert({ entity: { field: 'user.name', value: '<!channel> *boss* <http://evil.example|click>' }, reason: 'login by `x` & <@U123>' });
    notifier.notifyAlert(hostile);
    await notifier.flush();
    assert.equal(received[0]!.path, '/services/T000/B000/XXXX');
    const payload = JSON.parse(received[0]!.body) as { text: string; mrkdwn: boolean; blocks: { type: string; text?: { type: string; text: string }; fields?: { type: string; text: string }[]; elements?: { url?: string; text: { text: string } }[] }[] };
    assert.equal(payload.mrkdwn, false);
    assert.equal(payload.blocks[0]!.type, 'header');
    assert.match(payload.blocks[0]!.text!.text, /^🟠 HIGH: SSH brute force — user.name &lt;!channel&gt; \*boss\* &lt;http:\/\/evil.example\|click&gt;$/);
    const fields = payload.blocks[1]!.fields!;
    assert.deepEqual(fields.map((f) => f.type), ['plain_text', 'plain_text', 'plain_text', 'plain_text']);
    assert.deepEqual(fields.map((f) => f.text), ['Severity: high', 'Confidence: 87%', 'Entity: user.name &lt;!channel&gt; *boss* &lt;http://evil.example|click&gt;', 'Seen: 12 times']);
    assert.deepEqual(payload.blocks[2]!.text, { type: 'plain_text', text: 'login by `x` &amp; &lt;@U123&gt;', emoji: false });
    assert.match((payload.blocks[3]!.elements![0] as unknown as { text: string }).text, /Rule: SSH brute force by Vigil tests/);
    assert.equal(payload.blocks[4]!.elements![0]!.url, 'http://vigil.local:3000/alerts/a1');
    // No '<' or '>' from the event reaches Slack unescaped anywhere in the payload.
    assert.doesNotMatch(received[0]!.body, /<!channel>|<@U123>|<http/);
  } finally {
    await notifier.close();
    server.close();
  }
});

test('filters, digests, rate limits and escalation routing', async () => {
  const { server, url, received } = await receiver();
  const config = notificationsSchema.parse({
    channels: [
      { type: 'webhook', name: 'chat', url: `${url}/chat`, min_severity: 'medium', min_confidence: 0.5, rate_limit_per_minute: 60, digest_seconds: 0.3 },
      { type: 'webhook', name: 'pager', url: `${url}/pager`, min_severity: 'high', min_escalation: 2, rate_limit_per_minute: 1, digest_seconds: 0 },
    ],
  });
  const notifier = new Notifier(config, { delivery: fast });
  try {
    // Below the severity or the confidence floor: not sent.
    assert.deepEqual(notifier.notifyAlert(testAlert({ id: 'low', severity: 'low' })), []);
    assert.deepEqual(notifier.notifyAlert(testAlert({ id: 'unsure', confidence: 0.2 })), []);
    // A burst: the first goes out at once, the other nine as one digest when the window closes.
    for (let i = 0; i < 10; i++) notifier.notifyAlert(testAlert({ id: `burst${i}`, entity: { field: 'source.ip', value: `203.0.113.${i}` } }));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.filter((r) => r.path === '/chat').length, 1);
    assert.equal(notifier.status()[0]!.pending, 9);
    await new Promise((r) => setTimeout(r, 400));
    await notifier.flush();
    const chat = received.filter((r) => r.path === '/chat').map((r) => JSON.parse(r.body) as { type: string; total: number; notices: { id: string }[] });
    assert.deepEqual(chat.map((m) => [m.type, m.total]), [['alert', 1], ['digest', 9]]);
    assert.deepEqual(chat[1]!.notices.map((n) => n.id), ['burst1', 'burst2', 'burst3', 'burst4', 'burst5', 'burst6', 'burst7', 'burst8', 'burst9']);
    assert.equal(notifier.status()[0]!.filtered, 2);

    // Escalation: level 0 reaches chat only; level 2 reaches the pager too; an explicit list sends there alone.
    const incident = testIncident();
    assert.deepEqual(notifier.notifyIncident(incident, 0), ['chat']);
    assert.deepEqual(notifier.notifyIncident(incident, 2), ['chat', 'pager']);
    assert.deepEqual(notifier.notifyIncident(incident, 1, { channels: ['pager'] }), ['pager']);
    assert.throws(() => notifier.notifyIncident(incident, 1, { channels: ['nope'] }), /no notification channel named nope/);
    // The pager allows one a minute: the second waits, and goes out as the next message (flushed here).
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(received.filter((r) => r.path === '/pager').length, 1);
    assert.equal(notifier.status()[1]!.pending, 1);
    await notifier.flush();
    const pager = received.filter((r) => r.path === '/pager').map((r) => JSON.parse(r.body) as { type: string; escalation?: number; incident?: { id: string } });
    assert.deepEqual(pager.map((m) => [m.type, m.escalation]), [['incident', 2], ['incident', undefined]]);
    assert.equal(pager[0]!.incident!.id, 'i1');
  } finally {
    await notifier.close();
    server.close();
  }
});

test('email: SMTP with AUTH to a real local server, HTML-escaped, transient failures retried and permanent ones not', async () => {
  const messages: { from: string; to: string[]; raw: string; user: string | undefined }[] = [];
  /** SMTP replies to give to the next messages instead of accepting them. */
  const refusals: number[] = [];
  const smtp = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (auth.username === 'vigil' && auth.password === 'smtp-pass') callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString()));
      stream.on('end', () => {
        const code = refusals.shift();
        if (code !== undefined) {
          return callback(Object.assign(new Error(code === 451 ? 'try again later' : 'mailbox unavailable'), { responseCode: code }));
        }
        messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw, user: session.user as string | undefined });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  const config = notificationsSchema.parse({
    channels: [{ type: 'email', name: 'mail', host: '127.0.0.1', port, security: 'none', username: 'vigil', password_env: 'SMTP_PASSWORD', from: 'vigil@example.org', to: ['soc@example.org', 'oncall@example.org'], ...quiet }],
  });
  const notifier = new Notifier(config, { env: { SMTP_PASSWORD: 'smtp-pass' }, delivery: fast });
  try {
    notifier.notifyAlert(testAlert({ entity: { field: 'user.name', value: '<script>alert(1)</script>' }, reason: 'name "x" & \'y\'\r\nBcc: victim@example.org' }));
    await notifier.flush();
    assert.equal(messages.length, 1);
    const m = messages[0]!;
    assert.equal(m.user, 'vigil');
    assert.equal(m.from, 'vigil@example.org');
    assert.deepEqual(m.to, ['soc@example.org', 'oncall@example.org']);
    const headers = m.raw.slice(0, m.raw.indexOf('\r\n\r\n'));
    // Quoted-printable soft line breaks joined (RFC 2045 §6.7), in the body only.
    const raw = m.raw.slice(headers.length).replace(/=\r?\n/g, '');
    // RFC 2047 encoded words, decoded to read the subject as a mail client shows it.
    const subject = /^Subject: (.*(?:\r\n .*)*)/m.exec(headers)![1]!.replace(/\r\n /g, ' ');
    const decoded = subject.replace(/=\?UTF-8\?Q\?([^?]*)\?=\s*/g, (_, q: string) => Buffer.from(q.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'));
    assert.equal(decoded, '[Vigil] HIGH: SSH brute force — user.name <script>alert(1)</script>');
    assert.doesNotMatch(headers, /^Bcc:/m);
    const html = raw.slice(raw.indexOf('Content-Type: text/html'));
    const qp = html.replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    assert.doesNotMatch(qp, /<script>/);
    assert.match(qp, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(qp, /&quot;x&quot; &amp; &#39;y&#39;/);
    assert.match(raw, /Content-Type: text\/plain/);
    assert.match(raw, /http:\/\/127\.0\.0\.1:3000\/alerts\/a1/);

    // 451 (transient) is retried and then delivered; 550 (permanent) is not retried.
    refusals.push(451);
    notifier.notifyAlert(testAlert({ id: 'a2' }));
    await notifier.flush();
    assert.equal(messages.length, 2);
    refusals.push(550);
    notifier.notifyAlert(testAlert({ id: 'a3' }));
    await notifier.flush();
    assert.equal(messages.length, 2);
    const status = notifier.status()[0]!;
    assert.deepEqual([status.sent, status.failed, status.retries], [2, 1, 1]);
    assert.match(status.last_error!, /SMTP 550/);
    assert.doesNotMatch(JSON.stringify(notifier.status()), /smtp-pass/);
  } finally {
    await notifier.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  }
});
