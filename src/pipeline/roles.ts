// Wires the roles of a bus deployment (`vigil start --role …` with `bus:` set): the same stages as runtime.ts, split
// over processes that talk through NATS JetStream (src/bus/). `ingest` takes events in (inputs, agents' endpoint)
// and publishes them; `analyze` enriches and detects (run several); `store` writes events and detections to the
// store and makes alerts and incidents from the stored detections; `api` serves the dashboard and API: events from
// the shared store (ClickHouse), alerts, incidents, rules and models from the store role over the bus
// (bus/forward.ts). With DuckDB (one process's files) the api role runs with the store role: `--role store,api`.
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import { systemClock, type Clock } from '../core/clock.js';
import { VigilError, errorMessage } from '../core/errors.js';
import { Telemetry } from '../core/telemetry.js';
import { VERSION } from '../core/version.js';
import { Credentials } from '../api/auth/credentials.js';
import { LoginGuard, lockoutPolicy } from '../api/auth/lockout.js';
import type { HealthSource } from '../api/health/routes.js';
import { buildIngestApi } from '../api/ingest.js';
import { buildApiRoleApi } from '../api/api-role.js';
import { AuditShipper } from '../audit/shipper.js';
import { AuditTrail } from '../audit/trail.js';
import { AnalyzeWorker } from '../bus/analyze.js';
import { BUCKETS, Bus } from '../bus/connection.js';
import { AnalyzeClient, AnalyzeControl } from '../bus/control.js';
import { CredentialsSync } from '../bus/credentials.js';
import { ApiService, FORWARDED_HEADER, PRINCIPAL_HEADER, forwardSecret } from '../bus/forward.js';
import { LiveFeed, LiveRelay } from '../bus/live.js';
import { Presence, type ProcessEntry } from '../bus/presence.js';
import { RuleSwitches } from '../bus/rules.js';
import { BusSink } from '../bus/sink.js';
import { StoreIntake } from '../bus/store.js';
import { chdbOpenPath } from '../store/clickhouse/connection.js';
import { Models } from '../detect/ml/models.js';
import { RuleEngine, ruleEngineOptions } from '../detect/rules/engine.js';
import { Enrichment } from '../enrich/index.js';
import { defaultTailTargets, startFileTail, type FileTail } from '../sources/file/index.js';
import { startHostCollectors, type HostCollectors } from '../sources/host/index.js';
import { httpRateLimits } from '../api/rate-limit.js';
import type { SyslogReceiver } from '../sources/syslog/index.js';
import { Pipeline } from './pipeline.js';
import { openDataDir, startConfiguredSyslog, startRuntime, type Runtime, type RuntimeOptions } from './runtime.js';

export const ROLES = ['ingest', 'analyze', 'store', 'api'] as const;
export type Role = (typeof ROLES)[number];

/** `all` (one process, no bus: today's Vigil) or a comma-separated list of roles. */
export function parseRoles(text: string): Role[] | 'all' {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 1 && names[0] === 'all') return 'all';
  const roles: Role[] = [];
  for (const name of names) {
    if (!(ROLES as readonly string[]).includes(name)) throw new VigilError('bad_request', `unknown role "${name.slice(0, 32)}": use all, or some of ${ROLES.join(', ')} separated by commas`);
    if (!roles.includes(name as Role)) roles.push(name as Role);
  }
  if (roles.length === 0) throw new VigilError('bad_request', `--role needs a role: all, or some of ${ROLES.join(', ')}`);
  return roles;
}

export interface RolesRuntime {
  roles: Role[];
  bus: Bus;
  /** The HTTP API of the ingest or api role, if this process has one. */
  url: string | undefined;
  /** The store (and api) roles: the single-process runtime without detection, fed from the bus. */
  runtime: Runtime | undefined;
  intake: StoreIntake | undefined;
  analyze: AnalyzeWorker | undefined;
  /** The pipeline the inputs hand events to (its sink is the bus). */
  ingest: Pipeline | undefined;
  syslog: SyslogReceiver | undefined;
  firstStart: { password?: string; token: string } | undefined;
  close(): Promise<void>;
}

export async function startRoles(config: Config, roles: Role[], options: RuntimeOptions & { workerId?: string } = {}): Promise<RolesRuntime> {
  if (!config.bus) throw new VigilError('bad_config', '--role needs the bus: set `bus: nats://HOST:4222` (NATS servers with JetStream) in the configuration, or pass --bus');
  const has = (role: Role) => roles.includes(role);
  if (has('api') && !has('store')) {
    const url = config.store.url;
    if (url === 'duckdb') {
      throw new VigilError('bad_config', 'the api role alone reads events from a store it shares with the store role: set `store: clickhouse://…` (a ClickHouse server) in every process, or run `--role store,api` (the embedded DuckDB store is one process’s)');
    }
    // chDB is ClickHouse inside one process: an api role can share it only with a store role of the same process.
    if (/^chdb/.test(url) && chdbOpenPath() === undefined) {
      throw new VigilError('bad_config', 'the api role alone reads events from a store it shares with the store role, and chDB lives inside one process: set `store: clickhouse://…` (a ClickHouse server), or run `--role store,api`');
    }
  }
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const bus = await Bus.connect(config.bus, `vigil ${roles.join(',')}`);
  const closers: (() => Promise<void>)[] = [() => bus.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        console.error(`vigil: error while stopping: ${errorMessage(err)}`);
      }
    }
    closers.length = 0;
  };
  try {
    await bus.setup();
    const telemetry = new Telemetry({ processMetrics: true });
    const busHealth: HealthSource = {
      name: 'bus',
      status: () => ({ ok: !bus.nc.isClosed(), servers: config.bus!.servers, server: bus.nc.getServer(), replicas: config.bus!.replicas, partitions: config.bus!.partitions }),
    };

    let ingest: Pipeline | undefined;
    if (has('ingest') || has('api')) {
      ingest = new Pipeline({
        store: new BusSink(bus),
        clock,
        telemetry,
        maxQueueEvents: config.ingest.max_queue_events,
        maxLineBytes: config.ingest.max_line_bytes,
      });
      const pipeline = ingest;
      closers.push(() => pipeline.close());
    }

    // The key-value buckets, opened together: on a cluster each waits for its replicas to elect a leader.
    await Promise.all([bus.kv(BUCKETS.auth), bus.kv(BUCKETS.rules), Presence.bucket(bus)]);
    // Users and tokens are the deployment's, kept on the bus (bus/credentials.ts), wherever there is an HTTP API.
    let firstStart: RolesRuntime['firstStart'];
    if (has('ingest') || has('store') || has('api')) {
      const synced = await CredentialsSync.start(bus, config.data_dir, env.VIGIL_ADMIN_PASSWORD || undefined);
      firstStart = synced.firstStart;
      closers.push(async () => synced.sync.close());
    }
    // Rule switches made in the API, for the analyze workers and the store role's rule list (bus/rules.ts).
    let switches: RuleSwitches | undefined;
    if (has('analyze') || has('store')) {
      const opened = await RuleSwitches.open(bus);
      switches = opened;
      closers.push(async () => opened.close());
    }

    let analyze: AnalyzeWorker | undefined;
    if (has('analyze')) {
      const enrichment = new Enrichment(config, { clock, telemetry, env });
      closers.push(() => enrichment.close());
      await Promise.race([enrichment.start(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      const models = new Models({ ml: config.ml, dataDir: config.data_dir, clock });
      models.start();
      const ruleOptions = ruleEngineOptions(config.rules, { clock });
      // Each partition has its own engine (its windows), loaded when the partition is taken. This one only watches
      // the rule folders and has every partition reload on a change, as a single process does.
      let reload: () => void = () => undefined;
      const watcher = await RuleEngine.load({
        ...ruleOptions,
        onReload: (report, error) => {
          if (error) console.error(`vigil: reloading rules failed: ${error.message}`);
          for (const p of report.rejected) console.error(`vigil: rule skipped: ${p.file}:${p.line}: ${p.message}`);
          if (!error) reload();
        },
      });
      closers.push(async () => watcher.close());
      for (const p of watcher.report().rejected) console.error(`vigil: rule skipped: ${p.file}:${p.line}: ${p.message}`);
      const worker = new AnalyzeWorker({
        bus,
        ...(options.workerId ? { id: options.workerId } : {}),
        ruleEngine: () => RuleEngine.load({ ...ruleOptions, watch: false }),
        detectors: [models, ...(enrichment.detector ? [enrichment.detector] : [])],
        stages: [enrichment.stage],
        telemetry,
        clock,
        maxLineChars: config.ingest.max_line_bytes,
        switches: switches!,
      });
      analyze = worker;
      reload = () => worker.reloadRules();
      // Stopped before the models close: the last batches finish first.
      closers.push(() => models.close(), () => worker.close());
      await worker.start();
      // The store role asks for the models, the rules' hits and model actions (bus/control.ts).
      const control = new AnalyzeControl(bus, worker, models);
      closers.push(async () => control.close());
    }

    let runtime: Runtime | undefined;
    let intake: StoreIntake | undefined;
    let url: string | undefined;
    let syslog: SyslogReceiver | undefined;
    if (has('store')) {
      // Inputs belong to the ingest role: without it, this process listens only for the API.
      const storeConfig: Config = structuredClone(config);
      if (!has('ingest')) {
        storeConfig.syslog.port = 0;
        storeConfig.files.enabled = false;
        storeConfig.collect.enabled = false;
      }
      const { syslogPort, ...rest } = options;
      // The rules run in the analyze workers: this process's models and rule engine see no events, so the API
      // shows the workers' (their models, their hits) and records rule switches for them.
      const workers = new AnalyzeClient(bus, switches!);
      const secret = forwardSecret();
      const started = await startRuntime(storeConfig, {
        ...rest,
        ...(has('ingest') && syslogPort !== undefined ? { syslogPort } : {}),
        ...(ingest ? { ingest } : {}),
        detect: false,
        forwarded: { secret, secretHeader: FORWARDED_HEADER, principalHeader: PRINCIPAL_HEADER },
        models: workers,
        remoteRules: workers,
      });
      runtime = started;
      closers.push(() => started.close());
      switches!.applyTo(started.rules);
      switches!.onChange((id, enabled) => (enabled ? started.rules.enable(id) : started.rules.disable(id)));
      const storeIntake = new StoreIntake({ bus, pipeline: started.pipeline, telemetry: started.telemetry, onDetections: (detections) => started.alerts.handle(detections) });
      intake = storeIntake;
      storeIntake.start();
      // Stopped before the runtime closes its store (closers run in reverse).
      closers.push(() => storeIntake.close());
      // An api role elsewhere: its requests about alerts, incidents, rules and models, and its live stream.
      const service = new ApiService(bus, started.api, secret);
      const relay = new LiveRelay(bus, started.alerts, started.pipeline);
      closers.push(async () => service.close(), async () => relay.close());
      url = started.url;
      syslog = started.syslog;
      firstStart ??= started.firstStart;
    } else if (has('api')) {
      url = await startApiRole(config, { bus, ingest: ingest!, telemetry, clock, env, busHealth, closers });
    }
    if (!has('store') && has('ingest')) {
      const pipeline = ingest!;
      const health: HealthSource[] = [busHealth];
      // With the api role in this process, its server takes the port and serves the ingest routes too.
      if (!has('api')) {
        const credentials = new Credentials(config.data_dir, env.VIGIL_ADMIN_TOKEN ? { envAdminToken: env.VIGIL_ADMIN_TOKEN } : {});
        firstStart ??= credentials.bootstrap(env.VIGIL_ADMIN_PASSWORD || undefined);
        const api: FastifyInstance = await buildIngestApi({
          pipeline,
          credentials,
          telemetry,
          version: VERSION,
          maxBodyBytes: config.ingest.max_body_bytes,
          health,
          rateLimits: httpRateLimits(config.limits),
          ...(config.tls ? { tls: config.tls } : {}),
        });
        await api.listen({ host: config.host, port: config.port });
        closers.push(() => api.close());
        url = listenUrl(api, config);
      }
      const syslogPort = options.syslogPort ?? config.syslog.port;
      if (syslogPort !== 0) {
        const started = await startConfiguredSyslog(config, syslogPort, pipeline);
        syslog = started.receiver;
        closers.push(() => started.receiver.close());
        health.push(started.health);
      }
      let host: HostCollectors | undefined;
      if (config.collect.enabled) {
        const collectors = await startHostCollectors(config.collect, { ingest: pipeline, dataDir: config.data_dir, clock, startAt: config.files.start_at, maxLineBytes: config.ingest.max_line_bytes });
        host = collectors;
        closers.push(() => collectors.close());
        health.push(...collectors.collectors);
      }
      if (config.files.enabled) {
        const targets = config.files.targets ?? defaultTailTargets('/', { authLog: !host?.authCollected });
        if (targets.length > 0) {
          const files: FileTail = await startFileTail(
            { targets, statePath: join(config.data_dir, 'file-offsets.json'), pollMs: config.files.poll_ms, startAt: config.files.start_at, maxLineBytes: config.ingest.max_line_bytes },
            pipeline,
          );
          closers.push(() => files.close());
        }
      }
    }

    // Every process says it is there, for the api role's health (bus/presence.ts).
    const presence = await Presence.start(bus, () => ({
      roles,
      url: url ?? null,
      details: {
        ...(analyze ? { worker: analyze.id, partitions: analyze.owned(), analyzed: analyze.stats.events, invalid_messages: analyze.stats.invalid } : {}),
        ...(intake ? { stored: intake.stats.events, detections: intake.stats.detections, invalid_messages: intake.stats.invalid } : {}),
      },
    }));
    closers.push(() => presence.close());

    return { roles, bus, url, runtime, intake, analyze, ingest, syslog, firstStart, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function listenUrl(app: FastifyInstance, config: Config): string {
  const address = app.server.address() as AddressInfo;
  return `${config.tls ? 'https' : 'http'}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

/**
 * The api role on its own: reads events from the shared ClickHouse store, signs users in, serves the dashboard and
 * the live stream, and forwards the rest of the API to the store role. Answers its URL.
 */
async function startApiRole(
  config: Config,
  deps: { bus: Bus; ingest: Pipeline; telemetry: Telemetry; clock: Clock; env: NodeJS.ProcessEnv; busHealth: HealthSource; closers: (() => Promise<void>)[] },
): Promise<string> {
  const { bus, ingest, telemetry, clock, env, closers } = deps;
  const store = await openDataDir(config.data_dir, config, env);
  closers.push(async () => store.close());
  const credentials = new Credentials(config.data_dir, env.VIGIL_ADMIN_TOKEN ? { envAdminToken: env.VIGIL_ADMIN_TOKEN } : {});
  // Sign-ins, triage and changes are recorded here and stored, through the bus, by the store role.
  const audit = new AuditTrail(config.data_dir, clock);
  const auditShipper = new AuditShipper({ dataDir: config.data_dir, ingest });
  audit.onAppend(() => auditShipper.poke());
  auditShipper.start();
  closers.push(() => auditShipper.close());
  const loginGuard = new LoginGuard({ policy: lockoutPolicy(config.login), dataDir: config.data_dir, clock, audit });
  const live = new LiveFeed(bus);
  closers.push(async () => live.close());
  // The other processes, as they announce themselves (read every few seconds: health answers at once).
  let processes: ProcessEntry[] = [];
  let processError: string | null = null;
  const refresh = async () => {
    try {
      processes = await Presence.list(bus);
      processError = null;
    } catch (err) {
      processError = errorMessage(err);
    }
  };
  await refresh();
  const timer = setInterval(() => void refresh(), 3000);
  timer.unref();
  closers.push(async () => clearInterval(timer));
  const roleHealth: HealthSource = {
    name: 'roles',
    status: () => {
      const count = (role: string) => processes.filter((p) => p.roles.includes(role)).length;
      // Without a store role, alerts, incidents, rules and models cannot be answered.
      return {
        ok: count('store') > 0 && processError === null,
        store: count('store'),
        analyze: count('analyze'),
        ingest: count('ingest'),
        api: count('api'),
        relayed: { ...live.received },
        processes,
        ...(processError ? { error: processError } : {}),
      };
    },
  };
  const app = await buildApiRoleApi({
    bus,
    pipeline: ingest,
    store,
    live,
    credentials,
    telemetry,
    clock,
    version: VERSION,
    maxBodyBytes: config.ingest.max_body_bytes,
    health: [deps.busHealth, roleHealth],
    sessions: { ...config.sessions, file: join(config.data_dir, 'sessions.json') },
    loginGuard,
    audit,
    ...(config.tls ? { tls: config.tls } : {}),
  });
  await app.listen({ host: config.host, port: config.port });
  closers.push(() => app.close());
  const url = listenUrl(app, config);
  audit.record({ action: 'vigil-started', category: 'configuration', type: ['start'], outcome: 'success', actor: { name: 'vigil', kind: 'system' }, via: 'server', message: `Vigil ${VERSION} api role started on ${url}`, details: { version: VERSION, url, roles: ['api'] } });
  return url;
}
