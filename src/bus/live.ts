// The live stream across processes: the store role (which stores events and owns the alerts) tells the api role's
// `GET /api/v1/stream` what changed — each alert change at once, stored events per dataset once a second — over
// core NATS subjects. A message lost while the api role reconnects costs only a live update: lists are read anew.
import type { Subscription } from '@nats-io/transport-node';
import type { AlertListener, AlertManager } from '../alerts/manager.js';
import { anomalySummary, type StreamHub } from '../api/stream/hub.js';
import type { Alert } from '../core/alert.js';
import type { EcsEvent } from '../core/event.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { SERVICES, type Bus } from './connection.js';

/** Bounds of one second's message (the hub keeps at most as many per tick). */
const MAX_DATASETS = 40;
const MAX_ANOMALIES = 20;

interface RatesMessage {
  t: number;
  d: Record<string, number>;
  a: unknown[];
  o: number;
}

/** The store role's side. */
export class LiveRelay {
  private total = 0;
  private datasets: Record<string, number> = {};
  private anomalies: unknown[] = [];
  private overflow = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly bus: Bus,
    alerts: Pick<AlertManager, 'onChange'>,
    pipeline: Pick<Pipeline, 'onStored'>,
  ) {
    alerts.onChange((alert, change) => this.alert(alert, change));
    pipeline.onStored((events) => this.stored(events));
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref();
  }

  private publish(subject: string, body: string): void {
    if (this.closed || this.bus.nc.isClosed()) return;
    try {
      this.bus.nc.publish(subject, body);
    } catch {
      // reconnecting: a live update is lost, never the alert
    }
  }

  private alert(alert: Alert, change: 'created' | 'updated'): void {
    // The stream carries what lists show; the audit trail stays on the alert page.
    let body = JSON.stringify({ change, alert: { ...alert, history: [] } });
    if (body.length > this.bus.maxMessageBytes) body = JSON.stringify({ change, alert: { ...alert, history: [], evidence: [] } });
    this.publish(SERVICES.liveAlert, body);
  }

  private stored(events: readonly EcsEvent[]): void {
    this.total += events.length;
    for (const e of events) {
      const name = e.event?.dataset ?? 'unknown';
      if (name in this.datasets || Object.keys(this.datasets).length < MAX_DATASETS) this.datasets[name] = (this.datasets[name] ?? 0) + 1;
      else this.datasets._other = (this.datasets._other ?? 0) + 1;
      if (name === 'vigil.anomaly') {
        if (this.anomalies.length < MAX_ANOMALIES) this.anomalies.push(anomalySummary(e));
        else this.overflow++;
      }
    }
  }

  private flush(): void {
    if (this.total === 0) return;
    const message: RatesMessage = { t: this.total, d: this.datasets, a: this.anomalies, o: this.overflow };
    this.total = 0;
    this.datasets = {};
    this.anomalies = [];
    this.overflow = 0;
    this.publish(SERVICES.liveRates, JSON.stringify(message));
  }

  close(): void {
    this.flush();
    this.closed = true;
    clearInterval(this.timer);
  }
}

/** The api role's side: alert changes for its stream hub (as the alert manager would tell them), and the rates. */
export class LiveFeed implements Pick<AlertManager, 'onChange'> {
  private readonly listeners: AlertListener[] = [];
  private readonly subscriptions: Subscription[] = [];
  private hub: StreamHub | undefined;
  /** Messages received, for health. */
  readonly received = { alerts: 0, rates: 0 };

  constructor(bus: Bus) {
    this.subscriptions.push(
      bus.nc.subscribe(SERVICES.liveAlert, {
        callback: (err, msg) => {
          if (err) return;
          try {
            const { change, alert } = msg.json<{ change: 'created' | 'updated'; alert: Alert }>();
            if ((change !== 'created' && change !== 'updated') || typeof alert?.id !== 'string') return;
            alert.history ??= [];
            alert.notes ??= [];
            this.received.alerts++;
            for (const listener of this.listeners) listener(alert, change);
          } catch {
            // not a relayed alert: skipped
          }
        },
      }),
      bus.nc.subscribe(SERVICES.liveRates, {
        callback: (err, msg) => {
          if (err || !this.hub) return;
          try {
            const m = msg.json<RatesMessage>();
            if (typeof m?.t !== 'number' || typeof m.d !== 'object' || m.d === null || !Array.isArray(m.a)) return;
            const datasets = Object.fromEntries(Object.entries(m.d).filter(([, n]) => typeof n === 'number'));
            this.received.rates++;
            this.hub.recordStored(m.t, datasets, m.a.slice(0, MAX_ANOMALIES), typeof m.o === 'number' ? m.o : 0);
          } catch {
            // not relayed rates: skipped
          }
        },
      }),
    );
  }

  onChange(listener: AlertListener): void {
    this.listeners.push(listener);
  }

  /** Where relayed rates go. */
  attach(hub: StreamHub): void {
    this.hub = hub;
  }

  close(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }
}
