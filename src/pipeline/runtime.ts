// Wires a whole Vigil together from a configuration: store, pipeline, API, syslog, file tails, retention.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import type { Ingest } from '../core/ingest.js';
import { systemClock, type Clock } from '../core/clock.js';
import { VigilError, errorMessage } from '../core/errors.js';
import { Telemetry } from '../core/telemetry.js';
import { Credentials } from '../api/auth/credentials.js';
import { buildApi } from '../api/server.js';
import type { HealthSource } from '../api/health/routes.js';
import { HostRegistry } from '../api/hosts/registry.js';
import { httpRateLimits } from '../api/rate-limit.js';
import { startSyslog, syslogRateLimits, type ListenPort, type SyslogReceiver } from '../sources/syslog/index.js';
import { defaultTailTargets, startFileTail, type FileTail } from '../sources/file/index.js';
import { startHostCollectors, type HostCollectors } from '../sources/host/index.js';
import { openStore, storeConfigFromUrl } from '../store/index.js';
import { resolveSecret } from '../config/secrets.js';
import type { EventStore } from '../store/types.js';
import { AlertManager } from '../alerts/manager.js';
import { IncidentTracker } from '../alerts/incidents.js';
import { RuleEngine, ruleEngineOptions } from '../detect/rules/engine.js';
import { DetectStage } from './detect.js';
import { Models } from '../detect/ml/models.js';
import { Pipeline } from './pipeline.js';
import { VERSION } from '../core/version.js';
import { Enrichment } from '../enrich/index.js';
import { Notifier } from '../sinks/notify.js';
import { EsExporter } from '../sinks/elasticsearch/exporter.js';
import { AuditTrail } from '../audit/trail.js';
import { AuditShipper } from '../audit/shipper.js';
import { configDigest } from '../audit/event.js';
import { LoginGuard, lockoutPolicy } from '../api/auth/lockout.js';
import type { ForwardedAuth } from '../api/auth/hook.js';
import type { ModelAccess } from '../api/models/routes.js';
import type { RemoteRules } from '../api/rules/routes.js';

export interface Runtime {
  config: Config;
  store: EventStore;
  pipeline: Pipeline;
  detect: DetectStage;
  alerts: AlertManager;
  models: Models;
  incidents: IncidentTracker;
  rules: RuleEngine;
  /** GeoIP and threat intelligence (the `enrich` stage and the `threat-intel` detector). */
  enrichment: Enrichment;
  /** Slack, webhook and email channels: `notifier.notifyAlert(alert)`, `notifier.notifyIncident(incident, level)`. */
  notifier: Notifier;
  /** Live export to the clusters of the `export` block. */
  exporters: EsExporter[];
  credentials: Credentials;
  /** Administrative and analyst actions, stored as `vigil.audit` events (src/audit/). */
  audit: AuditTrail;
  auditShipper: AuditShipper;
  /** Failed-login lockout of the dashboard and HTTP Basic. */
  loginGuard: LoginGuard;
  telemetry: Telemetry;
  api: FastifyInstance;
  /** Base URL of the API, e.g. http://127.0.0.1:3000. */
  url: string;
  syslog: SyslogReceiver | undefined;
  files: FileTail | undefined;
  host: HostCollectors | undefined;
  /** Shown once on first start: the generated admin password and token. */
  firstStart: { password?: string; token: string } | undefined;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** Overrides `syslog.port`, e.g. `'ephemeral'` so that tests get a free port. */
  syslogPort?: ListenPort;
  /**
   * The store and api roles of a bus deployment (roles.ts): inputs and the API hand events to `ingest` (the bus)
   * rather than to the store's pipeline, and `detect: false` leaves enrichment and detection to the analyze role.
   */
  ingest?: Pipeline;
  detect?: boolean;
  /**
   * The store role (roles.ts): requests the api role forwards, already authenticated; the analyze workers' models
   * and rules (switches recorded on the bus, hits summed) in place of this process's, which see no events.
   */
  forwarded?: ForwardedAuth;
  models?: ModelAccess;
  remoteRules?: RemoteRules;
}

/**
 * Opens the configured store (`store:`; DuckDB in the data directory by default), turning DuckDB's lock error into
 * advice. With ClickHouse, its TTL follows `retention.max_age_days`; with DuckDB, `store.memory_limit` bounds its cache.
 */
export async function openDataDir(dataDir: string, config?: Pick<Config, 'store' | 'retention'>, env: NodeJS.ProcessEnv = process.env): Promise<EventStore> {
  mkdirSync(dataDir, { recursive: true });
  let storeConfig = storeConfigFromUrl(config?.store.url ?? 'duckdb', dataDir);
  if (config !== undefined && storeConfig.engine === 'clickhouse') {
    const password = resolveSecret(config.store, 'password', 'store', env);
    const { settings } = config.store;
    storeConfig = { ...storeConfig, settings, ttlDays: config.retention.max_age_days, ...(password !== undefined ? { password } : {}) };
  }
  try {
    return await openStore(storeConfig.engine === 'duckdb' && config?.store.memory_limit ? { ...storeConfig, memoryLimit: config.store.memory_limit } : storeConfig);
  } catch (err) {
    // ClickHouse's errors already say where and what (without credentials).
    if (storeConfig.engine !== 'duckdb' && err instanceof VigilError) throw err;
    const message = errorMessage(err);
    if (/lock/i.test(message)) {
      throw new VigilError('conflict', `the data directory ${dataDir} is in use by another Vigil process (is \`vigil start\` running?). Stop it, or send through it with --server URL`, { cause: err });
    }
    throw new VigilError('unavailable', `cannot open the event store in ${dataDir}: ${message}`, { cause: err });
  }
}

/** The syslog receiver the configuration describes (`syslog`, `limits`), on `port`, and its health section. */
export async function startConfiguredSyslog(config: Config, port: ListenPort, ingest: Ingest): Promise<{ receiver: SyslogReceiver; health: HealthSource }> {
  const receiver = await startSyslog(
    {
      host: config.syslog.host,
      port,
      maxMessageBytes: config.syslog.max_message_bytes,
      maxConnections: config.syslog.max_connections,
      idleTimeoutMs: config.syslog.idle_timeout_ms,
      ...syslogRateLimits(config.limits),
      ...(config.syslog.tls ? { tls: config.syslog.tls } : {}),
    },
    ingest,
  );
  const health: HealthSource = { name: 'syslog', status: () => ({ ok: true, udp_port: receiver.udpPort, tcp_port: receiver.tcpPort, tls_port: receiver.tlsPort ?? null, ...receiver.stats() }) };
  return { receiver, health };
}

export async function startRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const telemetry = new Telemetry({ processMetrics: true });
  const store = await openDataDir(config.data_dir, config, env);
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
      stages: options.detect === false ? [] : [enrichment.stage],
    });
    closers.push(() => pipeline.close());
    // The audit trail: records are durable in audit.jsonl at once and stored as events through the pipeline.
    const audit = new AuditTrail(config.data_dir, clock);
    const auditShipper = new AuditShipper({ dataDir: config.data_dir, ingest: pipeline });
    audit.onAppend(() => auditShipper.poke());
    auditShipper.start();
    closers.push(() => auditShipper.close()); // before the pipeline closes, so the last records are stored
    const loginGuard = new LoginGuard({ policy: lockoutPolicy(config.login), dataDir: config.data_dir, clock, audit });
    const ingest = options.ingest ?? pipeline;

    const alerts = new AlertManager({ dataDir: config.data_dir, clock, suppressionWindowMs: config.alerts.suppression_window_minutes * 60_000 });
    const incidents = new IncidentTracker({
      dataDir: config.data_dir,
      clock,
      windowMs: config.alerts.incident_window_minutes * 60_000,
      escalateAfterMs: config.alerts.escalate_after_minutes * 60_000,
    });
    // Closed after the pipeline has drained (closers run in reverse).
    closers.splice(1, 0, async () => incidents.close(), async () => alerts.close());
    alerts.onChange((alert) => incidents.observe(alert));
    const notifier = new Notifier(config.notifications, { clock, telemetry, env });
    closers.splice(1, 0, () => notifier.close()); // after the alerts it sends are final
    // New alerts are told at once; incidents when they open high, worsen, or escalate unacknowledged.
    alerts.onChange((alert, change) => {
      if (change === 'created') notifier.notifyAlert(alert);
    });
    // Escalation policy: a high incident is told when it opens, again when it worsens, and every escalation level
    // reached unacknowledged goes to the channels configured for that level (`min_escalation`).
    incidents.onEscalation((incident, level, why) => {
      if (why === 'opened' && incident.severity !== 'high' && incident.severity !== 'critical') return;
      const sent = notifier.notifyIncident(incident, level);
      if (sent.length > 0) incidents.markNotified(incident.id);
      console.log(`vigil: incident "${incident.title}" (${incident.severity}, confidence ${incident.confidence}) ${why}, level ${level}${sent.length > 0 ? `: told ${sent.join(', ')}` : ''}`);
    });
    const exporters = config.export.filter((t) => t.live).map((t) => new EsExporter(t, { dataDir: config.data_dir, store, clock, telemetry, env }));
    for (const exporter of exporters) {
      pipeline.onStored((events) => exporter.onStored(events));
      alerts.onChange((alert) => exporter.onAlert(alert));
      exporter.start();
      closers.splice(1, 0, () => exporter.close()); // after the pipeline has drained, before the store closes
    }
    const ruleOptions = ruleEngineOptions(config.rules, { clock });
    const rules = await RuleEngine.load({
      ...ruleOptions,
      onReload: (report, error) => {
        if (error) console.error(`vigil: reloading rules failed: ${error.message}`);
        for (const p of report.rejected) console.error(`vigil: rule skipped: ${p.file}:${p.line}: ${p.message}`);
        audit.record({
          action: 'rules-reloaded',
          category: 'configuration',
          type: ['change'],
          outcome: error ? 'failure' : 'success',
          ...(error ? { reason: 'reload_failed' } : {}),
          actor: { name: 'vigil', kind: 'system' },
          via: 'server',
          message: error ? `reloading the rules after a file changed failed: ${error.message.slice(0, 200)}` : `rules reloaded after a file changed: ${report.compiled} compiled, ${report.rejected.length} rejected`,
          details: { compiled: report.compiled, rejected: report.rejected.length },
        });
      },
    });
    closers.push(async () => rules.close());
    for (const p of rules.report().rejected) console.error(`vigil: rule skipped: ${p.file}:${p.line}: ${p.message}`);
    const models = new Models({ ml: config.ml, dataDir: config.data_dir, clock });
    // Events rules alerted on are not trained on.
    alerts.onChange((alert) => {
      if (alert.rule.kind !== 'model') models.excludeEvidence(alert.evidence);
    });
    models.start();
    // Closed after the pipeline has drained, like the alerts (closers run in reverse).
    closers.splice(1, 0, () => models.close());
    telemetry.watchDetectionState(() => [...rules.state(), ...models.state()]);
    const detect = new DetectStage({ detectors: [rules, models, ...(enrichment.detector ? [enrichment.detector] : [])], alerts, ingest: pipeline, telemetry, clock });
    if (options.detect !== false) pipeline.addStage(detect);

    const hosts = new HostRegistry({ clock, staleAfterIntervals: config.collect.stale_after_intervals, defaultIntervalMs: config.collect.metrics.interval_seconds * 1000 });
    pipeline.onStored((events) => hosts.observe(events));
    const seeding = hosts.seed(store);
    closers.push(() => seeding);

    const health: HealthSource[] = [{ name: 'models', status: () => models.health() }, ...enrichment.health(), notifier.health()];
    if (exporters.length > 0) {
      // Behind or failing is worth seeing, but the events are safe in the store: not a reason to answer 503.
      health.push({ name: 'export', status: () => ({ ok: true, targets: exporters.map((e) => e.status()) }) });
    }
    health.push({ name: 'audit', status: () => ({ ok: auditShipper.stats().lastError === null && audit.failures === 0, ...auditShipper.stats(), write_failures: audit.failures }) });
    health.push({ name: 'login', status: () => ({ ok: true, ...loginGuard.stats() }) });
    health.push({
      name: 'detection',
      status: () => {
        const report = rules.report();
        return { ok: true, rules: report.compiled, active_rules: report.active, rejected_rules: report.rejected.length, ...rules.stats(), suppressed: alerts.suppressed };
      },
    });
    const api = await buildApi({
      hosts,
      pipeline,
      ...(options.ingest ? { ingest: options.ingest } : {}),
      store,
      credentials,
      alerts,
      incidents,
      rules,
      ruleTestOptions: ruleOptions,
      enrichment,
      models: options.models ?? models,
      ...(options.remoteRules ? { remoteRules: options.remoteRules } : {}),
      ...(options.forwarded ? { forwarded: options.forwarded } : {}),
      telemetry,
      clock,
      version: VERSION,
      maxBodyBytes: config.ingest.max_body_bytes,
      health,
      sessions: { ...config.sessions, file: join(config.data_dir, 'sessions.json') },
      loginGuard,
      audit,
      rateLimits: httpRateLimits(config.limits),
      ...(config.tls ? { tls: config.tls } : {}),
    });
    await api.listen({ host: config.host, port: config.port });
    closers.push(() => api.close());
    const address = api.server.address() as AddressInfo;
    const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `${config.tls ? 'https' : 'http'}://${hostForUrl}:${address.port}`;
    audit.record({
      action: 'vigil-started',
      category: 'configuration',
      type: ['start'],
      outcome: 'success',
      actor: { name: 'vigil', kind: 'system' },
      via: 'server',
      message: `Vigil ${VERSION} started on ${url} (configuration ${configDigest(config).slice(0, 12)})`,
      details: { version: VERSION, url, config_sha256: configDigest(config), tls: config.tls !== undefined, rules: rules.report().compiled, disabled_rules: config.rules.disabled.length },
    });
    closers.push(async () => audit.record({ action: 'vigil-stopped', category: 'configuration', type: ['end'], outcome: 'success', actor: { name: 'vigil', kind: 'system' }, via: 'server', message: `Vigil stopped` }));

    let syslog: SyslogReceiver | undefined;
    const syslogPort = options.syslogPort ?? config.syslog.port;
    if (syslogPort !== 0) {
      const started = await startConfiguredSyslog(config, syslogPort, ingest);
      syslog = started.receiver;
      closers.push(() => started.receiver.close());
      health.push(started.health);
    }

    let host: HostCollectors | undefined;
    if (config.collect.enabled) {
      host = await startHostCollectors(config.collect, { ingest, dataDir: config.data_dir, clock, startAt: config.files.start_at, maxLineBytes: config.ingest.max_line_bytes });
      closers.push(() => host!.close());
      health.push(...host.collectors);
    }

    let files: FileTail | undefined;
    if (config.files.enabled) {
      // The auth collector follows the auth log (or journald) itself when it runs.
      const targets = config.files.targets ?? defaultTailTargets('/', { authLog: !host?.authCollected });
      if (targets.length > 0) {
        files = await startFileTail(
          { targets, statePath: join(config.data_dir, 'file-offsets.json'), pollMs: config.files.poll_ms, startAt: config.files.start_at, maxLineBytes: config.ingest.max_line_bytes },
          ingest,
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
      models,
      incidents,
      rules,
      enrichment,
      notifier,
      exporters,
      credentials,
      audit,
      auditShipper,
      loginGuard,
      telemetry,
      api,
      url,
      syslog,
      files,
      host,
      firstStart,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
