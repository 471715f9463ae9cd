// Slack: a Block Kit message posted to an incoming webhook (https://api.slack.com/messaging/webhooks). Values from
// events go in `plain_text` objects only, so no mrkdwn formatting, mention or link can be smuggled in, and `&`, `<`
// and `>` are escaped everywhere as Slack asks (https://api.slack.com/reference/surfaces/formatting#escaping).
import type { SlackChannelConfig } from '../../config/notifications.js';
import { redact, resolveSecret } from '../../config/secrets.js';
import type { Channel } from '../channel.js';
import { DeliveryQueue, post } from '../delivery.js';
import { clip, entityText, messageTitle, noticeLine, percent, type Message, type Notice } from '../notice.js';

/** Slack's control characters as HTML entities. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const plain = (text: string, max = 3000) => ({ type: 'plain_text', text: clip(escapeSlack(text), max), emoji: false });
const EMOJI: Record<string, string> = { critical: '🔴', high: '🟠', medium: '🟡', low: '🔵', informational: '⚪' };

function when(n: Notice): string {
  return n.first_seen === n.last_seen ? n.last_seen : `${n.first_seen} → ${n.last_seen}`;
}

export function slackPayload(message: Message, publicUrl: string): Record<string, unknown> {
  const blocks: Record<string, unknown>[] = [];
  if (message.digest) {
    blocks.push({ type: 'header', text: plain(`${message.total} notifications from Vigil`, 150) });
    const shown = message.notices.slice(0, 10);
    blocks.push({ type: 'section', text: plain(shown.map((n) => `• ${noticeLine(n)}`).join('\n')) });
    if (message.total > shown.length) blocks.push({ type: 'context', elements: [plain(`and ${message.total - shown.length} more`)] });
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: plain('Open alerts in Vigil', 75), url: `${publicUrl.replace(/\/+$/, '')}/alerts` }] });
  } else {
    const n = message.notices[0]!;
    blocks.push({ type: 'header', text: plain(`${EMOJI[n.severity] ?? ''} ${messageTitle(message)}`.trim(), 150) });
    const fields = [
      plain(`Severity: ${n.severity}`),
      plain(`Confidence: ${percent(n.confidence)}`),
      plain(`Entity: ${entityText(n.entity)}`),
      plain(n.kind === 'incident' ? `Alerts: ${n.count}${n.stage ? `, stage ${n.stage}` : ''}` : `Seen: ${n.count} time${n.count === 1 ? '' : 's'}`),
    ];
    blocks.push({ type: 'section', fields });
    blocks.push({ type: 'section', text: plain(n.summary) });
    const context = [`When: ${when(n)}`];
    if (n.rule) context.push(`Rule: ${n.rule.title}${n.rule.author ? ` by ${n.rule.author}` : ''}`);
    blocks.push({ type: 'context', elements: [plain(context.join(' · '))] });
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: plain('Open in Vigil', 75), url: n.link, ...(n.severity === 'critical' || n.severity === 'high' ? { style: 'danger' } : {}) }] });
  }
  // The fallback for notifications; `mrkdwn: false` keeps Slack from formatting it.
  return { text: clip(escapeSlack(messageTitle(message)), 3000), mrkdwn: false, blocks };
}

export class SlackChannel implements Channel {
  readonly type = 'slack' as const;
  readonly name: string;
  private readonly queue: DeliveryQueue;
  private readonly url: string;

  constructor(
    private readonly config: SlackChannelConfig,
    private readonly publicUrl: string,
    env: NodeJS.ProcessEnv = process.env,
    options: { baseDelayMs?: number; random?: () => number } = {},
  ) {
    this.name = config.name;
    const url = resolveSecret(config as unknown as Record<string, unknown>, 'url', `notifications.channels.${config.name}`, env);
    if (!url) throw new Error(`notifications.channels.${config.name}: a Slack channel needs url, url_env or url_file`);
    this.url = url;
    this.queue = new DeliveryQueue({ maxQueue: config.max_queue, maxAttempts: config.max_attempts, ...options });
  }

  send(message: Message): boolean {
    const body = JSON.stringify(slackPayload(message, this.publicUrl));
    return this.queue.push(async () => {
      const result = await post(this.url, body, { 'content-type': 'application/json; charset=utf-8' }, this.config.timeout_ms);
      // The webhook URL is the secret: never in an error shown anywhere.
      return result.ok ? result : { ...result, error: redact(result.error, [this.url]) };
    });
  }

  stats() {
    return this.queue.stats;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
