// The live connection: one EventSource on /api/v1/stream shared by every page. When it fails the page says so and
// falls back to polling (alerts and health every few seconds) while it keeps trying to reconnect.
import { api } from './api.js';
import type { Alert, HealthMessage, RatesMessage } from './types.js';

export type LiveStatus = 'connecting' | 'live' | 'polling';

export interface LiveEvents {
  alert: { change: 'created' | 'updated'; alert: Alert };
  rates: RatesMessage;
  /** The server's last few minutes of rates, sent once on connecting. */
  history: { rates: RatesMessage[] };
  health: HealthMessage;
  anomaly: { anomalies: { at: string; rule: string | null; title: string | null; score: number | null; entity: unknown; alert: boolean }[]; more: number };
  resync: { reason: string };
  /** New data may be there: sent with each non-empty rates message, and on each poll. */
  tick: { at: number };
  status: LiveStatus;
}

type Handler<K extends keyof LiveEvents> = (data: LiveEvents[K]) => void;

export const POLL_MS = 5000;
/** How long a broken stream may try to come back before the page falls back to polling. */
const GRACE_MS = 3000;

class LiveStream {
  status: LiveStatus = 'connecting';
  private source: EventSource | undefined;
  private readonly handlers = new Map<keyof LiveEvents, Set<(data: never) => void>>();
  private pollTimer: number | undefined;
  private retryTimer: number | undefined;
  private graceTimer: number | undefined;
  private retryMs = 2000;
  private lastPoll = new Date(Date.now() - 60_000).toISOString();
  private seen = new Map<string, string>();
  /** Events per second over the last minutes, for sparklines that must not wait for a first fetch. */
  readonly rates: RatesMessage[] = [];
  health: HealthMessage | undefined;

  on<K extends keyof LiveEvents>(event: K, handler: Handler<K>): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as (data: never) => void);
    return () => set.delete(handler as (data: never) => void);
  }

  private emit<K extends keyof LiveEvents>(event: K, data: LiveEvents[K]): void {
    for (const h of this.handlers.get(event) ?? []) {
      try {
        (h as Handler<K>)(data);
      } catch (err) {
        console.warn('live handler failed', err);
      }
    }
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.emit('status', status);
  }

  start(): void {
    if (this.source) return;
    const source = new EventSource('/api/v1/stream');
    this.source = source;
    const listen = <K extends keyof LiveEvents>(name: K, after?: (data: LiveEvents[K]) => void) =>
      source.addEventListener(name, (e) => {
        let data: LiveEvents[K];
        try {
          data = JSON.parse((e as MessageEvent<string>).data) as LiveEvents[K];
        } catch {
          return;
        }
        after?.(data);
        this.emit(name, data);
      });
    source.addEventListener('hello', () => {
      this.retryMs = 2000;
      window.clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
      this.stopPolling();
      this.setStatus('live');
    });
    listen('alert');
    listen('anomaly');
    listen('resync');
    listen('health', (h) => (this.health = h));
    listen('history', (h) => {
      // What the server remembers replaces what this page saw: after a reconnect there is no gap.
      this.rates.splice(0, this.rates.length, ...h.rates.slice(-600));
    });
    listen('rates', (r) => {
      this.rates.push(r);
      if (this.rates.length > 600) this.rates.shift();
      if (r.total > 0) this.emit('tick', { at: Date.now() });
    });
    source.onerror = () => {
      // EventSource retries by itself after a dropped connection, but gives up for good on an HTTP error.
      if (source.readyState === EventSource.CLOSED) {
        this.source = undefined;
        this.retryTimer = window.setTimeout(() => this.start(), this.retryMs);
        this.retryMs = Math.min(30_000, this.retryMs * 2);
      }
      this.graceTimer ??= window.setTimeout(() => {
        this.graceTimer = undefined;
        if (this.status !== 'live' || !this.source || this.source.readyState !== EventSource.OPEN) this.startPolling();
      }, GRACE_MS);
      if (this.status === 'live') this.setStatus('connecting');
    };
  }

  stop(): void {
    this.source?.close();
    this.source = undefined;
    this.stopPolling();
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.graceTimer);
  }

  private startPolling(): void {
    this.setStatus('polling');
    if (this.pollTimer !== undefined) return;
    const poll = async () => {
      try {
        const { alerts } = await api<{ alerts: Alert[] }>('/api/v1/alerts?limit=200');
        for (const alert of alerts) {
          const before = this.seen.get(alert.id);
          if (before === alert.updated) continue;
          this.seen.set(alert.id, alert.updated);
          if (alert.updated >= this.lastPoll || before !== undefined) this.emit('alert', { change: before === undefined ? 'created' : 'updated', alert });
        }
        this.lastPoll = new Date(Date.now() - POLL_MS).toISOString();
      } catch {
        // The banner already says the live stream is down; the next poll tries again.
      }
      this.emit('tick', { at: Date.now() });
    };
    // Seed what is known, so the first poll reports only changes.
    void api<{ alerts: Alert[] }>('/api/v1/alerts?limit=200')
      .then(({ alerts }) => alerts.forEach((a) => this.seen.set(a.id, a.updated)))
      .catch(() => undefined);
    this.pollTimer = window.setInterval(() => void poll(), POLL_MS);
  }

  private stopPolling(): void {
    if (this.pollTimer !== undefined) window.clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}

export const live = new LiveStream();
