// A flood of events from distinct source addresses through the real detection state: the rule engine with the
// built-in rules (correlation groups per address), the anomaly detectors (entity windows per address), and the alerts
// and incidents they raise. Used by `src/detect/flood.test.ts` and by `npm run flood` (a million addresses); it
// reports the largest state seen at any point against its cap, and the evictions counted.
import type { EcsEvent } from '../core/event.js';
import { ManualClock } from '../core/clock.js';
import { Telemetry } from '../core/telemetry.js';
import { parseConfig } from '../config/config.js';
import { RuleEngine, ruleEngineOptions } from './rules/engine.js';
import { Models } from './ml/models.js';
import { AlertManager } from '../alerts/manager.js';
import { IncidentTracker } from '../alerts/incidents.js';

export interface FloodOptions {
  /** Events to send; each from a source address never seen before. */
  events: number;
  /** Where alerts, incidents and models are written. */
  dataDir: string;
  maxGroupsPerRule: number;
  maxEntities: number;
  maxAlerts: number;
  maxIncidents: number;
  /** Events per batch handed to the detectors (the pipeline's group commit makes batches like these). */
  batch?: number;
  /** How often (in events) the state sizes are sampled. */
  sampleEvery?: number;
  onProgress?: (done: number) => void;
}

export interface FloodReport {
  events: number;
  detections: number;
  rules: { largestGroups: number; groupLimit: number; evictions: number; groups: number };
  models: Record<string, { entities: number; held: number; limit: number; evicted: number }>;
  alerts: { largest: number; limit: number };
  incidents: { largest: number; limit: number; largestIndex: number };
  /** `vigil_detection_state_evictions_total` by detector, read from the Prometheus text. */
  evictionMetrics: Record<string, number>;
  seconds: number;
}

const T0 = Date.parse('2024-05-01T00:00:00Z');

/** The n-th address of 10.0.0.0/8: distinct for every n below 2^24 - 1. */
export function floodAddress(n: number): string {
  const x = n + 1;
  return `10.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
}

/** One event of the flood: SSH failures, web requests (one in forty an SQL injection) and inbound connections. */
export function floodEvent(n: number): EcsEvent {
  const ip = floodAddress(n);
  const ts = new Date(T0 + n).toISOString();
  const id = `flood-${n}`;
  switch (n % 3) {
    case 0:
      return {
        '@timestamp': ts,
        event: { id, dataset: 'sshd', kind: 'event', category: ['authentication'], type: ['start'], action: 'ssh_login', outcome: 'failure' },
        source: { ip, port: 40_000 + (n % 20_000) },
        user: { name: n % 6 === 0 ? 'root' : `user${n % 97}` },
        host: { name: 'bastion' },
        message: `Failed password for root from ${ip} port 22 ssh2`,
      };
    case 1: {
      const attack = n % 40 === 1;
      return {
        '@timestamp': ts,
        event: { id, dataset: 'nginx.access', kind: 'event', category: ['web'], type: ['access'], outcome: 'success' },
        source: { ip },
        url: { path: `/shop/item/${n % 500}`, original: `/shop/item/${n % 500}${attack ? "?id=1' OR '1'='1" : ''}`, ...(attack ? { query: "id=1' OR '1'='1" } : {}) },
        http: { request: { method: 'GET' }, response: { status_code: n % 11 === 0 ? 404 : 200, body: { bytes: 512 + (n % 4096) } } },
        user_agent: { original: 'Mozilla/5.0 (X11; Linux x86_64)' },
        host: { name: 'web-1' },
      };
    }
    default:
      return {
        '@timestamp': ts,
        event: { id, dataset: 'host.network', kind: 'event', category: ['network'], type: ['connection', 'start'], action: 'connection_opened' },
        source: { ip, port: 50_000 + (n % 10_000) },
        destination: { ip: '192.0.2.10', port: 22 + (n % 3) },
        network: { transport: 'tcp', direction: 'ingress' },
        host: { name: 'web-1' },
      };
  }
}

/** Reads `vigil_detection_state_evictions_total{detector="…"} N` lines. */
function evictionCounters(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^vigil_detection_state_evictions_total\{detector="([^"]+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

export async function runFlood(options: FloodOptions): Promise<FloodReport> {
  const started = performance.now();
  const clock = new ManualClock(T0);
  const config = parseConfig({
    data_dir: options.dataDir,
    rules: { max_groups_per_rule: options.maxGroupsPerRule },
    ml: { detectors: ['source-ip', 'user-logins', 'host-activity'].map((id, i) => ({ id, preset: ['source_ip', 'user', 'host'][i], max_entities: options.maxEntities })) },
  });
  const rules = await RuleEngine.load({ ...ruleEngineOptions(config.rules), watch: false, clock });
  const models = new Models({ ml: config.ml, dataDir: options.dataDir, clock, log: () => undefined });
  const alerts = new AlertManager({ dataDir: options.dataDir, clock, maxAlerts: options.maxAlerts, flushIntervalMs: 60_000 });
  const incidents = new IncidentTracker({ dataDir: options.dataDir, clock, tickMs: 0, maxIncidents: options.maxIncidents });
  alerts.onChange((alert) => incidents.observe(alert));
  const telemetry = new Telemetry();
  telemetry.watchDetectionState(() => [...rules.state(), ...models.state()]);

  const report: FloodReport = {
    events: 0,
    detections: 0,
    rules: { largestGroups: 0, groupLimit: options.maxGroupsPerRule, evictions: 0, groups: 0 },
    models: {},
    alerts: { largest: 0, limit: options.maxAlerts },
    incidents: { largest: 0, limit: options.maxIncidents, largestIndex: 0 },
    evictionMetrics: {},
    seconds: 0,
  };
  const sample = () => {
    const r = rules.stats();
    report.rules.largestGroups = Math.max(report.rules.largestGroups, r.largestGroups);
    report.rules.groups = r.groups;
    report.rules.evictions = r.evictions;
    for (const id of models.ids) {
      const d = models.detector(id);
      if (d.spec.kind !== 'entity') continue;
      const s = d.stats();
      const seen = report.models[id] ?? { entities: 0, held: 0, limit: d.spec.maxEntities, evicted: 0 };
      report.models[id] = { entities: Math.max(seen.entities, s.entities ?? 0), held: Math.max(seen.held, s.held ?? 0), limit: d.spec.maxEntities, evicted: s.evicted ?? 0 };
    }
    report.alerts.largest = Math.max(report.alerts.largest, alerts.size);
    const i = incidents.stats();
    report.incidents.largest = Math.max(report.incidents.largest, i.incidents);
    report.incidents.largestIndex = Math.max(report.incidents.largestIndex, i.indexedEntities, i.indexedAlerts, i.confidences);
  };

  const batch = options.batch ?? 1000;
  const sampleEvery = options.sampleEvery ?? 20_000;
  try {
    for (let n = 0; n < options.events; ) {
      const size = Math.min(batch, options.events - n);
      const events: EcsEvent[] = new Array(size);
      for (let i = 0; i < size; i++) events[i] = floodEvent(n + i);
      n += size;
      clock.set(T0 + n);
      const detections = [...rules.process(events), ...models.process(events)];
      report.detections += detections.length;
      if (detections.length > 0) alerts.handle(detections);
      report.events = n;
      if (n % sampleEvery < size || n === options.events) {
        sample();
        options.onProgress?.(n);
      }
    }
    report.evictionMetrics = evictionCounters(await telemetry.metrics());
  } finally {
    rules.close();
    await models.close();
    alerts.close();
    incidents.close();
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
