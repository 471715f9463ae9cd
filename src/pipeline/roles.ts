// Wires the roles of a bus deployment (`vigil start --role …` with `bus:` set): the same stages as runtime.ts, split
// over processes that talk through NATS JetStream (src/bus/). `ingest` takes events in (inputs, agents' endpoint)
// and publishes them; `analyze` enriches and detects (run several); `store` writes events and detections to the
// store and makes alerts and incidents from the stored detections; `api` serves the dashboard and API from it.
// With DuckDB (one process's files) the api role runs with the store role: `--role store,api`.
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import { systemClock } from '../core/clock.js';
import { VigilError, errorMessage } from '../core/errors.js';
import { Telemetry } from '../core/telemetry.js';
import { VERSION } from '../core/version.js';
import { Credentials } from '../api/auth/credentials.js';
import type { HealthSource } from '../api/health/routes.js';
import { buildIngestApi } from '../api/ingest.js';
import { AnalyzeWorker } from '../bus/analyze.js';
import { Bus } from '../bus/connection.js';
import { BusSink } from '../bus/sink.js';
import { StoreIntake } from '../bus/store.js';
import { Models } from '../detect/ml/models.js';
import { RuleEngine, ruleEngineOptions } from '../detect/rules/engine.js';
import { Enrichment } from '../enrich/index.js';
import { defaultTailTargets, startFileTail, type FileTail } from '../sources/file/index.js';
import { startHostCollectors, type HostCollectors } from '../sources/host/index.js';
import { startSyslog, type SyslogReceiver } from '../sources/syslog/index.js';
import { Pipeline } from './pipeline.js';
import { startRuntime, type Runtime, type RuntimeOptions } from './runtime.js';

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
    throw new VigilError('bad_config', 'the api role reads the store and the alerts, which live with the store role: run `--role store,api` (the embedded DuckDB store is one process’s)');
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
      });
      analyze = worker;
      reload = () => worker.reloadRules();
      // Stopped before the models close: the last batches finish first.
      closers.push(() => models.close(), () => worker.close());
      await worker.start();
    }

    let runtime: Runtime | undefined;
    let intake: StoreIntake | undefined;
    let url: string | undefined;
    let syslog: SyslogReceiver | undefined;
    let firstStart: RolesRuntime['firstStart'];
    if (has('store')) {
      // Inputs belong to the ingest role: without it, this process listens only for the API.
      const storeConfig: Config = structuredClone(config);
      if (!has('ingest')) {
        storeConfig.syslog.port = 0;
        storeConfig.files.enabled = false;
        storeConfig.collect.enabled = false;
      }
      const { syslogPort, ...rest } = options;
      const started = await startRuntime(storeConfig, { ...rest, ...(has('ingest') && syslogPort !== undefined ? { syslogPort } : {}), ...(ingest ? { ingest } : {}), detect: false });
      runtime = started;
      closers.push(() => started.close());
      const storeIntake = new StoreIntake({ bus, pipeline: started.pipeline, onDetections: (detections) => started.alerts.handle(detections) });
      intake = storeIntake;
      storeIntake.start();
      // Stopped before the runtime closes its store (closers run in reverse).
      closers.push(() => storeIntake.close());
      url = started.url;
      syslog = started.syslog;
      firstStart = started.firstStart;
    } else if (has('ingest')) {
      const pipeline = ingest!;
      const credentials = new Credentials(config.data_dir, env.VIGIL_ADMIN_TOKEN ? { envAdminToken: env.VIGIL_ADMIN_TOKEN } : {});
      firstStart = credentials.bootstrap(env.VIGIL_ADMIN_PASSWORD || undefined);
      const health: HealthSource[] = [busHealth];
      const api: FastifyInstance = await buildIngestApi({
        pipeline,
        credentials,
        telemetry,
        version: VERSION,
        maxBodyBytes: config.ingest.max_body_bytes,
        health,
        ...(config.tls ? { tls: config.tls } : {}),
      });
      await api.listen({ host: config.host, port: config.port });
      closers.push(() => api.close());
      const address = api.server.address() as AddressInfo;
      url = `${config.tls ? 'https' : 'http'}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      const syslogPort = options.syslogPort ?? config.syslog.port;
      if (syslogPort !== 0) {
        const receiver = await startSyslog(
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
        syslog = receiver;
        closers.push(() => receiver.close());
        health.push({ name: 'syslog', status: () => ({ ok: true, udp_port: receiver.udpPort, tcp_port: receiver.tcpPort, tls_port: receiver.tlsPort ?? null, ...receiver.stats() }) });
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

    return { roles, bus, url, runtime, intake, analyze, ingest, syslog, firstStart, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
