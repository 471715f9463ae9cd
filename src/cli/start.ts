// `vigil start`: the server — API (and later the dashboard), syslog, file tails, host collectors, retention.
import { Command } from 'commander';
import { loadConfig, type ConfigOverrides } from '../config/config.js';
import { VigilError } from '../core/errors.js';
import { startRuntime } from '../pipeline/runtime.js';

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
    .addHelpText(
      'after',
      `
Environment:
  VIGIL_ADMIN_TOKEN     an admin API token accepted as "Authorization: Bearer …" (automation)
  VIGIL_ADMIN_PASSWORD  password of the first admin user, "admin", instead of a generated one
  VIGIL_DATA_DIR, VIGIL_PORT

On first start Vigil creates the user "admin" and an admin API token and prints them once.`,
    )
    .action(async (opts: { host?: string; port?: number; dataDir?: string; config?: string; syslogPort?: number; collect: boolean }) => {
      const overrides: ConfigOverrides = { collect: opts.collect };
      if (opts.host !== undefined) overrides.host = opts.host;
      if (opts.port !== undefined) overrides.port = opts.port;
      if (opts.dataDir !== undefined) overrides.dataDir = opts.dataDir;
      if (opts.syslogPort !== undefined) overrides.syslogPort = opts.syslogPort;
      const config = loadConfig(opts.config, overrides);
      const runtime = await startRuntime(config);
      if (runtime.firstStart) {
        const lines = ['First start: Vigil created its admin credentials. They are shown only now; keep them safe.'];
        if (runtime.firstStart.password) lines.push(`  user:      admin`, `  password:  ${runtime.firstStart.password}`);
        else lines.push('  user:      admin (password from VIGIL_ADMIN_PASSWORD)');
        lines.push(`  API token: ${runtime.firstStart.token}`, `  try:       curl -H "Authorization: Bearer ${runtime.firstStart.token}" ${runtime.url}/api/v1/events`);
        console.log(lines.join('\n'));
      }
      console.log(`Vigil is running on ${runtime.url} (data in ${config.data_dir})`);
      if (runtime.syslog) console.log(`syslog on ${config.syslog.host}:${runtime.syslog.udpPort} (UDP) and :${runtime.syslog.tcpPort} (TCP)${runtime.syslog.tlsPort ? `, TLS on :${runtime.syslog.tlsPort}` : ''}`);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        console.log(`${signal}: stopping…`);
        await runtime.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
