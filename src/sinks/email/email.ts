// Email over SMTP with nodemailer (https://nodemailer.com/smtp/): a plain-text and an HTML part, every value taken
// from events HTML-escaped, header values stripped of line breaks. Temporary SMTP failures (4xx, no connection) are
// retried; permanent ones (5xx) are not.
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { EmailChannelConfig } from '../../config/notifications.js';
import { redact, resolveSecret } from '../../config/secrets.js';
import { errorMessage } from '../../core/errors.js';
import type { Channel } from '../channel.js';
import { DeliveryQueue, type AttemptResult } from '../delivery.js';
import { clip, entityText, messageTitle, noticeLine, percent, type Message } from '../notice.js';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A header value: no CR, LF or other control characters (they would start a new header). */
function headerText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return clip(text.replace(/[\u0000-\u001f\u007f]+/g, ' '), 200);
}

export function emailContent(message: Message, publicUrl: string): { subject: string; text: string; html: string } {
  const subject = headerText(`[Vigil] ${messageTitle(message)}`);
  const rows: [string, string][] = [];
  const lines: string[] = [];
  let link = `${publicUrl.replace(/\/+$/, '')}/alerts`;
  if (message.digest) {
    for (const n of message.notices) lines.push(noticeLine(n));
    if (message.total > message.notices.length) lines.push(`… and ${message.total - message.notices.length} more`);
  } else {
    const n = message.notices[0]!;
    link = n.link;
    rows.push(['Severity', n.severity], ['Confidence', percent(n.confidence)], ['Entity', entityText(n.entity)], ['Summary', n.summary]);
    rows.push(n.kind === 'incident' ? ['Alerts', `${n.count}${n.stage ? ` (stage ${n.stage})` : ''}`] : ['Seen', `${n.count} time${n.count === 1 ? '' : 's'}`]);
    rows.push(['First seen', n.first_seen], ['Last seen', n.last_seen]);
    if (n.rule) rows.push(['Rule', `${n.rule.title} (${n.rule.id})${n.rule.author ? ` by ${n.rule.author}` : ''}`]);
    if (n.escalation) rows.push(['Escalation', String(n.escalation)]);
  }
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  const text = [messageTitle(message), '', ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`), ...lines, '', `Open in Vigil: ${link}`, ''].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2>${escapeHtml(messageTitle(message))}</h2>`,
    rows.length > 0 ? `<table>${rows.map(([k, v]) => `<tr><th align="left" style="padding-right:1em">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>` : '',
    lines.length > 0 ? `<ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>` : '',
    `<p><a href="${escapeHtml(link)}">Open in Vigil</a></p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

export class EmailChannel implements Channel {
  readonly type = 'email' as const;
  readonly name: string;
  private readonly queue: DeliveryQueue;
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;
  private readonly password: string | undefined;

  constructor(
    private readonly config: EmailChannelConfig,
    private readonly publicUrl: string,
    env: NodeJS.ProcessEnv = process.env,
    options: { baseDelayMs?: number; random?: () => number } = {},
  ) {
    this.name = config.name;
    this.password = resolveSecret(config as unknown as Record<string, unknown>, 'password', `notifications.channels.${config.name}`, env);
    const transportOptions: SMTPTransport.Options = {
      host: config.host,
      port: config.port,
      secure: config.security === 'tls',
      // STARTTLS required: a server that does not offer it (or a stripped offer) fails instead of sending in clear.
      requireTLS: config.security === 'starttls',
      ignoreTLS: config.security === 'none',
      connectionTimeout: config.timeout_ms,
      greetingTimeout: config.timeout_ms,
      socketTimeout: config.timeout_ms,
      ...(config.username ? { auth: { user: config.username, pass: this.password ?? '' } } : {}),
      ...(config.ca ? { tls: { ca: readFileSync(config.ca) } } : {}),
    };
    this.transport = nodemailer.createTransport(transportOptions);
    this.queue = new DeliveryQueue({ maxQueue: config.max_queue, maxAttempts: config.max_attempts, ...options });
  }

  send(message: Message): boolean {
    const { subject, text, html } = emailContent(message, this.publicUrl);
    return this.queue.push(async (): Promise<AttemptResult> => {
      try {
        await this.transport.sendMail({ from: this.config.from, to: this.config.to, subject, text, html });
        return { ok: true };
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        const error = redact(errorMessage(err), [this.password]);
        // RFC 5321 §4.2.1: 4yz is a transient failure, 5yz a permanent one; no reply at all is worth another try.
        return { ok: false, retry: code === undefined || (code >= 400 && code < 500), error: code ? `SMTP ${code}: ${error}` : error };
      }
    });
  }

  stats() {
    return this.queue.stats;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.transport.close();
  }
}
