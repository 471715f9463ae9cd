// `vigil start`: the server — API (and later the dashboard), syslog, file tails, host collectors, retention.
import { Command } from 'commander';
import { loadConfig, type ConfigOverrides } from '../config/config.js';
import { VigilError } from '../core/errors.js';
import { startRuntime } from '../pipeline/runtime.js';
import { parseRoles, startRoles } from '../pipeline/roles.js';
import { busSchema } from '../config/bus.js';

function port(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new VigilError('bad_request', `${name} must be a port number (0-65535)`);
    return n;
  };
}

export function startCommand(): Command {
  return new Command('start')
    .description('Run Vigil: API and dashboard, syslog receiver, file tails and host collectors')
    .option('--host <address>', 'address for the API and dashboard (default 127.0.0.1)')
    .option('--port <port>', 'port for the API and dashboard (default 3000, or $VIGIL_PORT)', port('--port'))
    .option('--data-dir <dir>', 'where data lives (default ./data, or $VIGIL_DATA_DIR)')
    .option('--config <file>', 'configuration file (YAML)')
    .option('--syslog-port <port>', 'UDP and TCP syslog port (default 5514; 0 turns syslog off)', port('--syslog-port'))
    .option('--no-collect', 'do not collect from this host')
    .option('--role <roles>', 'all (one process), or some of ingest, analyze, store, api separated by commas, talking over `bus`', 'all')
    .option('--bus <urls>', 'NATS servers with JetStream for the roles, e.g. nats://10.0.0.5:4222 (overrides `bus.servers`)')
    .addHelpText(
      'after',
      `
Environment:
  VIGIL_ADMIN_TOKEN     an admin API token accepted as "Authorization: Bearer …" (automation)
  VIGIL_ADMIN_PASSWORD  password of the first admin user, "admin", instead of a generated one
  VIGIL_DATA_DIR, VIGIL_PORT

On first start Vigil creates the user "admin" and an admin API token and prints them once.

Beyond one machine (docs/scaling.md), the same stages run as separate processes over NATS JetStream:
  vigil start --role ingest  --bus nats://nats1:4222   inputs and the agents' endpoint; publishes events
  vigil start --role analyze --bus nats://nats1:4222   enrichment and detection (run several; they share the work)
  vigil start --role store   --bus nats://nats1:4222   the store, alerts and incidents (one process)
  vigil start --role api     --bus nats://nats1:4222   the dashboard and API (needs \`store: clickhouse://…\`)
  vigil start --role store,api --bus nats://nats1:4222 both in one process (the way with the embedded DuckDB)
Every process of a deployment needs the same \`bus\` settings (partitions, replicas) and \`store\`.`,
    )
    .action(async (opts: { host?: string; port?: number; dataDir?: string; config?: string; syslogPort?: number; collect: boolean; role: string; bus?: string }) => {
      const overrides: ConfigOverrides = { collect: opts.collect };
      if (opts.host !== undefined) overrides.host = opts.host;
      if (opts.port !== undefined) overrides.port = opts.port;
      if (opts.dataDir !== undefined) overrides.dataDir = opts.dataDir;
      if (opts.syslogPort !== undefined) overrides.syslogPort = opts.syslogPort;
      const config = loadConfig(opts.config, overrides);
      const roles = parseRoles(opts.role);
      if (opts.bus !== undefined) config.bus = busSchema.parse({ ...config.bus, servers: opts.bus.split(',').map((s) => s.trim()) });
      if (roles !== 'all') {
        const started = await startRoles(config, roles);
        if (started.firstStart) printFirstStart(started.firstStart, started.url ?? '');
        const where = started.url ?? config.bus!.servers.join(',');
        console.log(`Vigil is running on ${where} (roles ${roles.join(', ')}${started.analyze ? `; analyze worker ${started.analyze.id}` : ''}; bus ${config.bus!.servers.join(',')})`);
        if (started.syslog) console.log(`syslog on ${config.syslog.host}:${started.syslog.udpPort} (UDP) and :${started.syslog.tcpPort} (TCP)`);
        stopOnSignals(() => started.close());
        return;
      }
      const runtime = await startRuntime(config);
      if (runtime.firstStart) printFirstStart(runtime.firstStart, runtime.url);
      console.log(`Vigil is running on ${runtime.url} (data in ${config.data_dir})`);
      if (runtime.syslog) console.log(`syslog on ${config.syslog.host}:${runtime.syslog.udpPort} (UDP) and :${runtime.syslog.tcpPort} (TCP)${runtime.syslog.tlsPort ? `, TLS on :${runtime.syslog.tlsPort}` : ''}`);
      stopOnSignals(() => runtime.close());
    });
}

function printFirstStart(firstStart: { password?: string; token: string }, url: string): void {
  const lines = ['First start: Vigil created its admin credentials. They are shown only now; keep them safe.'];
  if (firstStart.password) lines.push(`  user:      admin`, `  password:  ${firstStart.password}`);
  else lines.push('  user:      admin (password from VIGIL_ADMIN_PASSWORD)');
  lines.push(`  API token: ${firstStart.token}`, `  try:       curl -H "Authorization: Bearer ${firstStart.token}" ${url}/api/v1/events`);
  console.log(lines.join('\n'));
}

function stopOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping…`);
    await close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
