// Generic webhooks: the message as JSON, signed with HMAC-SHA256 in `X-Vigil-Signature: sha256=<hex>` over the exact
// body bytes. The body carries its own `timestamp` and a unique `id` (both signed), repeated in `X-Vigil-Timestamp`
// and `X-Vigil-Delivery`, so a receiver can refuse stale or replayed deliveries (README, "Notifications").
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { WebhookChannelConfig } from '../../config/notifications.js';
import { resolveSecret } from '../../config/secrets.js';
import type { Clock } from '../../core/clock.js';
import type { Channel } from '../channel.js';
import { DeliveryQueue, post } from '../delivery.js';
import type { Message } from '../notice.js';

export const SIGNATURE_HEADER = 'x-vigil-signature';

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** What a receiver does: recompute the HMAC over the raw body and compare in constant time. */
export function verifySignature(secret: string, body: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(sign(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function webhookBody(message: Message, id: string, timestamp: number, publicUrl: string): Record<string, unknown> {
  const type = message.digest ? 'digest' : message.notices[0]!.kind;
  const body: Record<string, unknown> = { id, timestamp, type, source: 'vigil', public_url: publicUrl, total: message.total, notices: message.notices };
  if (message.subject && 'alert' in message.subject) body.alert = message.subject.alert;
  if (message.subject && 'incident' in message.subject) {
    body.incident = message.subject.incident;
    body.escalation = message.subject.escalation;
  }
  return body;
}

export class WebhookChannel implements Channel {
  readonly type = 'webhook' as const;
  readonly name: string;
  private readonly queue: DeliveryQueue;
  private readonly secret: string | undefined;

  constructor(
    private readonly config: WebhookChannelConfig,
    private readonly publicUrl: string,
    private readonly clock: Clock,
    env: NodeJS.ProcessEnv = process.env,
    options: { baseDelayMs?: number; random?: () => number } = {},
  ) {
    this.name = config.name;
    this.secret = resolveSecret(config as unknown as Record<string, unknown>, 'secret', `notifications.channels.${config.name}`, env);
    this.queue = new DeliveryQueue({ maxQueue: config.max_queue, maxAttempts: config.max_attempts, ...options });
  }

  send(message: Message): boolean {
    const id = randomUUID();
    const timestamp = Math.floor(this.clock.now() / 1000);
    const body = JSON.stringify(webhookBody(message, id, timestamp, this.publicUrl));
    const headers: Record<string, string> = {
      ...this.config.headers,
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Vigil-Webhook/1',
      'x-vigil-delivery': id,
      'x-vigil-timestamp': String(timestamp),
    };
    if (this.secret) headers[SIGNATURE_HEADER] = sign(this.secret, body);
    // Every retry sends the same bytes, id and signature, so the receiver can drop duplicates by id.
    return this.queue.push(() => post(this.config.url, body, headers, this.config.timeout_ms));
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
