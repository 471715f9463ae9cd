// Configuration of notifications (`notifications`): Slack, webhook and email channels with filters, rate limits and digests.
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../core/detection.js';
import { secretShape } from './secrets.js';

const severity = z.enum(SEVERITIES as [Severity, ...Severity[]]);

const common = {
  /** Referred to by escalation and in health. */
  name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only'),
  /** Alerts and incidents below this severity are not sent here. */
  min_severity: severity.default('medium'),
  /** … nor those whose confidence is below this (0 to 1). */
  min_confidence: z.number().min(0).max(1).default(0),
  /** Notifications reach this channel from this escalation level on (0: alerts and first incident notices; 2: say, raised). */
  min_escalation: z.number().int().min(0).default(0),
  /** Messages a minute at most; the rest wait and go out together as a digest. 0: no limit. */
  rate_limit_per_minute: z.number().min(0).default(10),
  /** After a message, those arriving within this many seconds are collapsed into one digest. 0: no digest window. */
  digest_seconds: z.number().min(0).default(60),
  /** Deliveries waiting (retries included) beyond which new ones are dropped and counted. */
  max_queue: z.number().int().min(1).default(1000),
  /** Attempts per delivery before it counts as failed. */
  max_attempts: z.number().int().min(1).default(6),
  timeout_ms: z.number().int().min(100).default(10_000),
};

const slack = z.strictObject({
  type: z.literal('slack'),
  ...common,
  /** The incoming-webhook URL (a secret: prefer `url_env` or `url_file`). */
  ...secretShape('url'),
});

const webhook = z.strictObject({
  type: z.literal('webhook'),
  ...common,
  url: z.string().url(),
  /** HMAC-SHA256 key for `X-Vigil-Signature`. */
  ...secretShape('secret'),
  /** Extra request headers. */
  headers: z.record(z.string(), z.string()).default({}),
});

const email = z.strictObject({
  type: z.literal('email'),
  ...common,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** `tls`: TLS from the first byte (port 465); `starttls`: upgrade, and refuse a server that cannot; `none`: plain (tests, local relays). */
  security: z.enum(['tls', 'starttls', 'none']).default('starttls'),
  username: z.string().optional(),
  ...secretShape('password'),
  /** PEM CA file for a server with a private certificate. */
  ca: z.string().optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
});

export const notificationsSchema = z
  .strictObject({
    /** Base URL of the dashboard, for links in messages. */
    public_url: z.string().url().default('http://127.0.0.1:3000'),
    channels: z.array(z.discriminatedUnion('type', [slack, webhook, email])).default([]),
  })
  .prefault({});

export type NotificationsConfig = z.infer<typeof notificationsSchema>;
export type ChannelConfig = NotificationsConfig['channels'][number];
export type SlackChannelConfig = z.infer<typeof slack>;
export type WebhookChannelConfig = z.infer<typeof webhook>;
export type EmailChannelConfig = z.infer<typeof email>;
