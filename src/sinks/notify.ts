// The notifier: routes alerts and incidents to the configured channels (Slack, webhooks, email) through each
// channel's filters (severity, confidence, escalation level), then its rate limit and digest window, so that an
// attack becomes a few messages and a digest rather than a storm. The alerts stage calls notifyAlert/notifyIncident.
import { Counter } from 'prom-client';
import type { Alert, Incident } from '../core/alert.js';
import type { ChannelConfig, NotificationsConfig } from '../config/notifications.js';
import { systemClock, type Clock } from '../core/clock.js';
import { SEVERITIES } from '../core/detection.js';
import type { Telemetry } from '../core/telemetry.js';
import type { Channel } from './channel.js';
import type { DeliveryStats } from './delivery.js';
import { EmailChannel } from './email/email.js';
import { alertNotice, incidentNotice, type Message, type Notice } from './notice.js';
import { SlackChannel } from './slack/slack.js';
import { WebhookChannel } from './webhook/webhook.js';

/** Notices a digest keeps to list; it still counts all of them. */
const DIGEST_LIST = 20;

export interface SendOptions {
  /**
   * Send to these channels (by name) instead of those the channel filters choose: how an escalation policy raises an
   * incident to another channel. Severity and confidence filters still apply; `min_escalation` does not.
   */
  channels?: readonly string[];
}

export interface NotifierOptions {
  clock?: Clock;
  telemetry?: Telemetry;
  env?: NodeJS.ProcessEnv;
  /** Channels made elsewhere (tests); by default they are built from the configuration. */
  channels?: Channel[];
  /** Retry timing, for tests. */
  delivery?: { baseDelayMs?: number; random?: () => number };
}

export interface ChannelStatus extends DeliveryStats {
  name: string;
  type: Channel['type'];
  /** Notices waiting for the digest. */
  pending: number;
  /** Notices that went out inside a digest rather than alone. */
  digested: number;
  /** Notices that passed the filters / were filtered out. */
  routed: number;
  filtered: number;
}

/** A channel's rate limit and digest window. */
class Gate {
  private tokens: number;
  private last: number;
  private windowUntil = 0;
  private pending: Notice[] = [];
  private pendingTotal = 0;
  private timer: NodeJS.Timeout | undefined;
  routed = 0;
  filtered = 0;
  digested = 0;

  constructor(
    readonly config: ChannelConfig,
    readonly channel: Channel,
    private readonly clock: Clock,
  ) {
    this.tokens = Math.max(1, config.rate_limit_per_minute);
    this.last = clock.now();
  }

  get waiting(): number {
    return this.pendingTotal;
  }

  private take(now: number): boolean {
    const rate = this.config.rate_limit_per_minute;
    if (rate <= 0) return true;
    this.tokens = Math.min(Math.max(1, rate), this.tokens + ((now - this.last) / 60_000) * rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is there. */
  private tokenWait(): number {
    const rate = this.config.rate_limit_per_minute;
    return rate <= 0 || this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / rate) * 60_000);
  }

  offer(notice: Notice, subject: Message['subject']): void {
    this.routed++;
    const now = this.clock.now();
    if (now >= this.windowUntil && this.pendingTotal === 0 && this.take(now)) {
      this.channel.send({ notices: [notice], digest: false, total: 1, ...(subject ? { subject } : {}) });
      this.openWindow(now);
      return;
    }
    if (this.pending.length < DIGEST_LIST) this.pending.push(notice);
    this.pendingTotal++;
    this.schedule(now);
  }

  private openWindow(now: number): void {
    if (this.config.digest_seconds > 0) this.windowUntil = now + this.config.digest_seconds * 1000;
  }

  private schedule(now: number): void {
    if (this.timer) return;
    const wait = Math.max(this.windowUntil - now, this.tokenWait(), 0);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.release();
    }, wait);
    this.timer.unref();
  }

  /** Sends what waits as one digest (or alone, if it is one notice) once the window and the rate limit allow. */
  release(force = false): void {
    if (this.pendingTotal === 0) return;
    const now = this.clock.now();
    if (!force && (now < this.windowUntil || !this.take(now))) {
      this.schedule(now);
      return;
    }
    const notices = this.pending;
    const total = this.pendingTotal;
    this.pending = [];
    this.pendingTotal = 0;
    if (total > 1) this.digested += total;
    this.channel.send({ notices, digest: total > 1, total });
    this.openWindow(now);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

const rank = (s: string) => SEVERITIES.indexOf(s as (typeof SEVERITIES)[number]);

export class Notifier {
  private readonly gates: Gate[];
  private readonly publicUrl: string;
  private readonly counter: Counter<'channel' | 'kind'> | undefined;

  constructor(config: NotificationsConfig, options: NotifierOptions = {}) {
    const clock = options.clock ?? systemClock;
    this.publicUrl = config.public_url;
    const names = new Set<string>();
    this.gates = config.channels.map((c) => {
      if (names.has(c.name)) throw new Error(`notifications.channels: the name ${c.name} is used twice`);
      names.add(c.name);
      const channel = options.channels?.find((ch) => ch.name === c.name) ?? this.build(c, clock, options);
      return new Gate(c, channel, clock);
    });
    this.counter = options.telemetry
      ? new Counter({ name: 'vigil_notifications_total', help: 'Alerts and incidents routed to a notification channel.', labelNames: ['channel', 'kind'], registers: [options.telemetry.registry] })
      : undefined;
  }

  private build(c: ChannelConfig, clock: Clock, options: NotifierOptions): Channel {
    switch (c.type) {
      case 'slack':
        return new SlackChannel(c, this.publicUrl, options.env, options.delivery);
      case 'webhook':
        return new WebhookChannel(c, this.publicUrl, clock, options.env, options.delivery);
      case 'email':
        return new EmailChannel(c, this.publicUrl, options.env, options.delivery);
    }
  }

  /** Names of the configured channels. */
  get channelNames(): string[] {
    return this.gates.map((g) => g.config.name);
  }

  private route(notice: Notice, subject: Message['subject'], options: SendOptions, escalation?: number): string[] {
    if (options.channels) {
      for (const name of options.channels) if (!this.gates.some((g) => g.config.name === name)) throw new Error(`no notification channel named ${name}`);
    }
    const sent: string[] = [];
    for (const gate of this.gates) {
      const c = gate.config;
      // Alerts count as level 0: a channel kept for escalations hears only of incidents that reached it.
      const chosen = options.channels ? options.channels.includes(c.name) : (escalation ?? 0) >= c.min_escalation;
      if (!chosen) continue;
      if (rank(notice.severity) < rank(c.min_severity) || notice.confidence < c.min_confidence) {
        gate.filtered++;
        continue;
      }
      gate.offer(notice, subject);
      this.counter?.inc({ channel: c.name, kind: notice.kind });
      sent.push(c.name);
    }
    return sent;
  }

  /** Sends an alert (new, or worth telling again) to the channels whose filters it passes; answers their names. */
  notifyAlert(alert: Alert, options: SendOptions = {}): string[] {
    return this.route(alertNotice(alert, this.publicUrl), { alert }, options);
  }

  /**
   * Sends an incident at an escalation level (0 first notice, 1 reminder, 2 raised …) to the channels whose
   * `min_escalation` it has reached, or to `options.channels`; answers their names.
   */
  notifyIncident(incident: Incident, escalation: number, options: SendOptions = {}): string[] {
    return this.route(incidentNotice(incident, escalation, this.publicUrl), { incident, escalation }, options, escalation);
  }

  status(): ChannelStatus[] {
    return this.gates.map((g) => ({ name: g.config.name, type: g.channel.type, ...g.channel.stats(), pending: g.waiting, digested: g.digested, routed: g.routed, filtered: g.filtered }));
  }

  /**
   * The `notifications` health section. A channel whose latest delivery failed for good (and none has succeeded
   * since) is listed in `failing`; it does not make Vigil unhealthy (503), as the events and alerts are safe.
   */
  health(): { name: string; status(): { ok: boolean; [key: string]: unknown } } {
    return {
      name: 'notifications',
      status: () => {
        const channels = this.status();
        const failing = channels.filter((c) => c.last_failure !== null && (c.last_success === null || c.last_success < c.last_failure)).map((c) => c.name);
        return { ok: true, failing, channels };
      },
    };
  }

  /** Sends every pending digest now and waits for all deliveries (shutdown, tests). */
  async flush(): Promise<void> {
    for (const g of this.gates) g.release(true);
    await Promise.all(this.gates.map((g) => g.channel.idle()));
  }

  async close(): Promise<void> {
    for (const g of this.gates) {
      g.release(true);
      g.stop();
    }
    await Promise.all(this.gates.map((g) => g.channel.close()));
  }
}
