// This host's collectors — network, metrics, process, auth — in one plain registry, and the one call that starts the
// enabled ones. Each picks its platform's reader (Linux /proc, macOS commands) by `process.platform`.
import { arch, hostname, platform as osPlatform, release } from 'node:os';
import type { Config } from '../../config/config.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { Ingest } from '../../core/ingest.js';
import { AuthCollector } from './auth.js';
import type { Collector, CollectorContext, CollectorStatus } from './collector.js';
import { LinuxNetworkReader } from './linux/net.js';
import { LinuxProcessReader } from './linux/processes.js';
import { LinuxMetricsReader } from './linux/stat.js';
import { UserNames } from './linux/users.js';
import { MacMetricsReader, MacNetworkReader, MacProcessReader } from './macos/readers.js';
import { MetricsCollector } from './metrics.js';
import { NetworkCollector } from './network.js';
import { ProcessCollector } from './process.js';

export type { Collector, CollectorStatus } from './collector.js';
export type CollectConfig = Config['collect'];

export interface HostDeps {
  ingest: Ingest;
  /** Where the journald cursor and auth log offsets persist. */
  dataDir: string;
  clock?: Clock;
  warn?: (message: string) => void;
  /** Where the auth log is read from the first time (the files source's `start_at`). */
  startAt?: 'beginning' | 'end';
  maxLineBytes?: number;
  /** Defaults to `process.platform`. */
  platform?: NodeJS.Platform;
  /** The passwd file for uid → user name (default /etc/passwd). */
  passwdPath?: string;
}

interface FactoryEnv {
  platform: NodeJS.Platform;
  users: UserNames;
  deps: HostDeps;
}

type Factory = (config: CollectConfig, context: CollectorContext, env: FactoryEnv) => Collector | undefined;

const seconds = (s: number) => Math.round(s * 1000);
const supported = (p: NodeJS.Platform) => p === 'linux' || p === 'darwin';

/** Reports that it cannot run here (Windows, BSD): the others go on. */
class UnsupportedCollector implements Collector {
  constructor(
    readonly name: string,
    private readonly platform: string,
  ) {}
  async start(): Promise<void> {
    console.warn(`vigil: ${this.name} collector: not supported on ${this.platform}`);
  }
  async close(): Promise<void> {}
  status(): CollectorStatus {
    return { ok: false, error: `not supported on ${this.platform}` };
  }
}

/** The collectors by name: adding one is one entry here plus its file. */
export const collectors: Record<'network' | 'metrics' | 'process' | 'auth', Factory> = {
  network: (config, context, env) => {
    if (!config.network.enabled) return undefined;
    if (!supported(env.platform)) return new UnsupportedCollector('host.network', env.platform);
    const reader = env.platform === 'darwin' ? new MacNetworkReader() : new LinuxNetworkReader(config.proc_root);
    return new NetworkCollector(
      context,
      reader,
      { intervalMs: seconds(config.network.interval_seconds), loopbackConnections: config.network.loopback_connections, maxConnectionEvents: config.network.max_connection_events },
      (uid) => env.users.lookup(uid),
    );
  },
  metrics: (config, context, env) => {
    if (!config.metrics.enabled) return undefined;
    if (!supported(env.platform)) return new UnsupportedCollector('host.metrics', env.platform);
    const reader = env.platform === 'darwin' ? new MacMetricsReader() : new LinuxMetricsReader(config.proc_root);
    return new MetricsCollector(context, reader, { intervalMs: seconds(config.metrics.interval_seconds), perCore: config.metrics.per_core, hostInfo: hostInfo(env.platform) });
  },
  process: (config, context, env) => {
    if (!config.process.enabled) return undefined;
    if (!supported(env.platform)) return new UnsupportedCollector('host.process', env.platform);
    const reader = env.platform === 'darwin' ? new MacProcessReader() : new LinuxProcessReader(config.proc_root, env.users);
    return new ProcessCollector(context, reader, { intervalMs: seconds(config.process.interval_seconds), scanIntervalMs: config.process.scan_interval_ms, top: config.process.top });
  },
  auth: (config, context, env) => {
    if (!config.auth.enabled) return undefined;
    if (!supported(env.platform)) return new UnsupportedCollector('host.auth', env.platform);
    return new AuthCollector(context, {
      source: config.auth.source,
      platform: env.platform,
      ...(config.auth.paths ? { paths: config.auth.paths } : {}),
      ...(config.auth.journal_directory ? { journalDirectory: config.auth.journal_directory } : {}),
      ...(env.deps.startAt ? { startAt: env.deps.startAt } : {}),
      ...(env.deps.maxLineBytes ? { maxLineBytes: env.deps.maxLineBytes } : {}),
    });
  },
};

/** ECS `host.os.*` and `host.architecture` of this machine, carried by each `system` metrics event. */
function hostInfo(platform: NodeJS.Platform): Record<string, unknown> {
  const architecture = ({ x64: 'x86_64', arm64: 'arm64', ia32: 'x86' } as Record<string, string>)[arch()] ?? arch();
  return { architecture, os: { type: platform === 'darwin' ? 'macos' : platform, platform: osPlatform(), kernel: release() } };
}

export interface HostCollectors {
  collectors: Collector[];
  /** True when the auth collector owns the auth log (journald or its own tail), so the file source must not tail it too. */
  authCollected: boolean;
  close(): Promise<void>;
}

/** Starts the enabled collectors. A collector that cannot collect reports it (health, one warning); the others go on. */
export async function startHostCollectors(config: CollectConfig, deps: HostDeps): Promise<HostCollectors> {
  const env: FactoryEnv = { platform: deps.platform ?? process.platform, users: new UserNames(deps.passwdPath), deps };
  const context: CollectorContext = {
    ingest: deps.ingest,
    hostName: config.host_name ?? hostname(),
    clock: deps.clock ?? systemClock,
    dataDir: deps.dataDir,
    ...(deps.warn ? { warn: deps.warn } : {}),
  };
  const started: Collector[] = [];
  if (config.enabled) {
    for (const factory of Object.values(collectors)) {
      const collector = factory(config, context, env);
      if (!collector) continue;
      try {
        await collector.start();
      } catch (err) {
        // Host problems are reported by the collector itself; this is a fault of ours, still not fatal to the others.
        console.warn(`vigil: ${collector.name} collector failed to start: ${(err as Error).message}`);
      }
      started.push(collector);
    }
  }
  return {
    collectors: started,
    authCollected: started.some((c) => c.name === 'host.auth'),
    close: async () => {
      await Promise.all(started.map((c) => c.close()));
    },
  };
}
