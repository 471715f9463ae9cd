// Wires a whole Vigil together from a configuration: store, pipeline, API, syslog, file tails, retention.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import { systemClock, type Clock } from '../core/clock.js';
import { VigilError, errorMessage } from '../core/errors.js';
import { Telemetry } from '../core/telemetry.js';
import { Credentials } from '../api/auth/credentials.js';
import { buildApi } from '../api/server.js';
import type { HealthSource } from '../api/health/routes.js';
import { startSyslog, type ListenPort, type SyslogReceiver } from '../sources/syslog/index.js';
import { defaultTailTargets, startFileTail, type FileTail } from '../sources/file/index.js';
import { openStore } from '../store/index.js';
import type { EventStore } from '../store/types.js';
import { AlertManager } from '../alerts/manager.js';
import { DetectStage } from './detect.js';
import { Pipeline } from './pipeline.js';
import { VERSION } from '../core/version.js';
import { Enrichment } from '../enrich/index.js';
import { Notifier } from '../sinks/notify.js';
import { EsExporter } from '../sinks/elasticsearch/exporter.js';

export interface Runtime {
  config: Config;
  store: EventStore;
  pipeline: Pipeline;
  detect: DetectStage;
  alerts: AlertManager;
  /** GeoIP and threat intelligence (the `enrich` stage and the `threat-intel` detector). */
  enrichment: Enrichment;
  /** Slack, webhook and email channels: `notifier.notifyAlert(alert)`, `notifier.notifyIncident(incident, level)`. */
  notifier: Notifier;
  /** Live export to the clusters of the `export` block. */
  exporters: EsExporter[];
  credentials: Credentials;
  telemetry: Telemetry;
  api: FastifyInstance;
  /** Base URL of the API, e.g. http://127.0.0.1:3000. */
  url: string;
  syslog: SyslogReceiver | undefined;
  files: FileTail | undefined;
  /** Shown once on first start: the generated admin password and token. */
  firstStart: { password?: string; token: string } | undefined;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** Overrides `syslog.port`, e.g. `'ephemeral'` so that tests get a free port. */
  syslogPort?: ListenPort;
}

/** Opens the embedded store, turning DuckDB's lock error into advice. */
export async function openDataDir(dataDir: string): Promise<EventStore> {
  mkdirSync(dataDir, { recursive: true });
  try {
    return await openStore({ engine: 'duckdb', dir: dataDir });
  } catch (err) {
    const message = errorMessage(err);
    if (/lock/i.test(message)) {
      throw new VigilError('conflict', `the data directory ${dataDir} is in use by another Vigil process (is \`vigil start\` running?). Stop it, or send through it with --server URL`, { cause: err });
    }
    throw new VigilError('unavailable', `cannot open the event store in ${dataDir}: ${message}`, { cause: err });
  }
}

export async function startRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const telemetry = new Telemetry({ processMetrics: true });
  const store = await openDataDir(config.data_dir);
  const closers: (() => Promise<void>)[] = [async () => store.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        console.error(`vigil: error while stopping: ${errorMessage(err)}`);
      }
    }
  };
  try {
    const credentials = new Credentials(config.data_dir, env.VIGIL_ADMIN_TOKEN ? { envAdminToken: env.VIGIL_ADMIN_TOKEN } : {});
    const firstStart = credentials.bootstrap(env.VIGIL_ADMIN_PASSWORD || undefined);
    const enrichment = new Enrichment(config, { clock, telemetry, env });
    closers.push(() => enrichment.close());
    // Feeds from files load at once; one behind a slow URL goes on loading in the background rather than hold up the start.
    await Promise.race([enrichment.start(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    const pipeline = new Pipeline({
      store,
      clock,
      telemetry,
      maxQueueEvents: config.ingest.max_queue_events,
      maxLineBytes: config.ingest.max_line_bytes,
      stages: [enrichment.stage],
    });
    closers.push(() => pipeline.close());

    const alerts = new AlertManager({ dataDir: config.data_dir, clock, suppressionWindowMs: config.alerts.suppression_window_minutes * 60_000 });
    closers.splice(1, 0, async () => alerts.close()); // closed after the pipeline has drained
    const notifier = new Notifier(config.notifications, { clock, telemetry, env });
    closers.splice(1, 0, () => notifier.close()); // after the alerts it sends are final
    // New alerts are told at once; escalation of incidents is the alerts stage's to drive (notifyIncident).
    alerts.onChange((alert, change) => {
      if (change === 'created') notifier.notifyAlert(alert);
    });
    const exporters = config.export.filter((t) => t.live).map((t) => new EsExporter(t, { dataDir: config.data_dir, store, clock, telemetry, env }));
    for (const exporter of exporters) {
      pipeline.onStored((events) => exporter.onStored(events));
      alerts.onChange((alert) => exporter.onAlert(alert));
      exporter.start();
      closers.splice(1, 0, () => exporter.close()); // after the pipeline has drained, before the store closes
    }
    const detect = new DetectStage({ detectors: enrichment.detector ? [enrichment.detector] : [], alerts, ingest: pipeline, telemetry, clock });
    pipeline.onStored((events) => void detect.process(events));

    const health: HealthSource[] = [...enrichment.health(), notifier.health()];
    if (exporters.length > 0) {
      health.push({ name: 'export', status: () => {
        const targets = exporters.map((e) => e.status());
        // Behind or failing is worth seeing, but the events are safe in the store: not a reason to answer 503.
        return { ok: true, targets };
      } });
    }
    const api = await buildApi({
      pipeline,
      store,
      credentials,
      alerts,
      telemetry,
      clock,
      version: VERSION,
      maxBodyBytes: config.ingest.max_body_bytes,
      health,
      enrichment,
      ...(config.tls ? { tls: config.tls } : {}),
    });
    await api.listen({ host: config.host, port: config.port });
    closers.push(() => api.close());
    const address = api.server.address() as AddressInfo;
    const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `${config.tls ? 'https' : 'http'}://${hostForUrl}:${address.port}`;

    let syslog: SyslogReceiver | undefined;
    const syslogPort = options.syslogPort ?? config.syslog.port;
    if (syslogPort !== 0) {
      syslog = await startSyslog(
        {
          host: config.syslog.host,
          port: syslogPort,
          maxMessageBytes: config.syslog.max_message_bytes,
          maxConnections: config.syslog.max_connections,
          idleTimeoutMs: config.syslog.idle_timeout_ms,
          ...(config.syslog.tls ? { tls: config.syslog.tls } : {}),
        },
        pipeline,
      );
      closers.push(() => syslog!.close());
      const receiver = syslog;
      health.push({ name: 'syslog', status: () => ({ ok: true, udp_port: receiver.udpPort, tcp_port: receiver.tcpPort, tls_port: receiver.tlsPort ?? null, ...receiver.stats() }) });
    }

    let files: FileTail | undefined;
    if (config.files.enabled) {
      const targets = config.files.targets ?? defaultTailTargets();
      if (targets.length > 0) {
        files = await startFileTail(
          { targets, statePath: join(config.data_dir, 'file-offsets.json'), pollMs: config.files.poll_ms, startAt: config.files.start_at, maxLineBytes: config.ingest.max_line_bytes },
          pipeline,
        );
        closers.push(() => files!.close());
      }
    }

    let retentionTimer: NodeJS.Timeout | undefined;
    const { max_age_days: maxAgeDays, max_bytes: maxBytes, interval_minutes: intervalMinutes } = config.retention;
    if (maxAgeDays > 0 || maxBytes > 0) {
      const policy = { ...(maxAgeDays > 0 ? { maxAgeDays } : {}), ...(maxBytes > 0 ? { maxBytes } : {}) };
      let running = false;
      const enforce = async () => {
        if (running) return;
        running = true;
        try {
          const { deleted } = await store.enforceRetention(policy, clock.now());
          if (deleted > 0) telemetry.dropped.inc({ input: 'store', reason: 'retention', intentional: 'true' }, deleted);
        } catch (err) {
          console.error(`vigil: retention failed: ${errorMessage(err)}`);
        } finally {
          running = false;
        }
      };
      retentionTimer = setInterval(() => void enforce(), intervalMinutes * 60_000);
      retentionTimer.unref();
      void enforce();
      closers.push(async () => clearInterval(retentionTimer));
    }

    return {
      config,
      store,
      pipeline,
      detect,
      alerts,
      enrichment,
      notifier,
      exporters,
      credentials,
      telemetry,
      api,
      url,
      syslog,
      files,
      firstStart,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
