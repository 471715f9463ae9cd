// `vigil agent`: runs this host's collectors and file tails on another machine and ships their events to a Vigil
// server, buffering on disk while the server is unreachable.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { VigilError } from '../core/errors.js';
import { isFormat } from '../parsers/index.js';
import { startAgent } from '../pipeline/agent.js';
import type { TailTarget } from '../sources/file/index.js';

interface AgentFlags {
  server?: string;
  token?: string;
  dataDir?: string;
  bufferDir?: string;
  maxBufferMb?: number;
  config?: string;
  collect: boolean;
  tail: string[];
  ca?: string;
  hostName?: string;
  printSystemdUnit?: boolean;
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new VigilError('bad_request', `${name} must be a positive number`);
    return n;
  };
}

function collectTail(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `PATH` or `PATH=FORMAT` → a tail target (format `auto` by default). */
export function parseTail(value: string): TailTarget {
  const eq = value.lastIndexOf('=');
  const format = eq > 0 ? value.slice(eq + 1) : 'auto';
  const path = resolve(eq > 0 ? value.slice(0, eq) : value);
  if (!isFormat(format)) throw new VigilError('bad_request', `--tail ${value}: unknown format "${format}" (auto, syslog, sshd, nginx, apache, json)`);
  return { path, format };
}

/** A systemd unit that runs this agent as it is installed here, with the token in an EnvironmentFile. */
export function systemdUnit(flags: { server: string; dataDir?: string; maxBufferMb?: number; ca?: string; tails?: string[]; collect?: boolean; config?: string }): string {
  const bin = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
  const dataDir = flags.dataDir ? resolve(flags.dataDir) : '/var/lib/vigil-agent';
  const args = ['agent', '--server', flags.server, '--data-dir', dataDir];
  if (flags.maxBufferMb !== undefined) args.push('--max-buffer-mb', String(flags.maxBufferMb));
  if (flags.ca) args.push('--ca', resolve(flags.ca));
  if (flags.config) args.push('--config', resolve(flags.config));
  if (flags.collect === false) args.push('--no-collect');
  for (const tail of flags.tails ?? []) args.push('--tail', tail.includes('=') ? `${resolve(tail.slice(0, tail.lastIndexOf('=')))}=${tail.slice(tail.lastIndexOf('=') + 1)}` : resolve(tail));
  const quote = (a: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `"${a.replace(/(["\\$`])/g, '\\$1')}"`);
  return `# /etc/systemd/system/vigil-agent.service — written by \`vigil agent --print-systemd-unit\`
[Unit]
Description=Vigil agent: ships this host's logs and metrics to a Vigil server
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
# VIGIL_TOKEN=vgl_… (an ingest token), readable by root only
EnvironmentFile=/etc/vigil-agent.env
ExecStart=${quote(process.execPath)} ${quote(bin)} ${args.map(quote).join(' ')}
Restart=always
RestartSec=5
# Root sees every process's sockets (/proc/<pid>/fd) and the whole journal; the agent writes only its data directory.
User=root
StateDirectory=vigil-agent
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=${dataDir}
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
`;
}

export function agentCommand(): Command {
  return new Command('agent')
    .description('Run the host collectors and file tails here and ship the events to a Vigil server (buffered on disk while it is unreachable)')
    .option('--server <url>', 'the Vigil server, e.g. https://vigil.example.com:3000')
    .option('--token <token>', 'an ingest token (default $VIGIL_TOKEN; create one with `vigil token create --role ingest`)')
    .option('--data-dir <dir>', 'agent state: buffer, file offsets, journald cursor (default ./vigil-agent)')
    .option('--buffer-dir <dir>', 'where undelivered events wait (default DATA_DIR/buffer)')
    .option('--max-buffer-mb <n>', 'bound of the buffer; when full the oldest events are dropped and counted (default 256)', positiveNumber('--max-buffer-mb'))
    .option('--config <file>', 'configuration file (YAML): the `collect`, `files` and `agent` blocks')
    .option('--no-collect', 'do not run the host collectors (file tails only)')
    .option('--tail <path[=format]>', 'also follow this file (repeatable); format auto, syslog, sshd, nginx, apache or json', collectTail, [])
    .option('--ca <file>', 'PEM certificate of a private CA that signed the server certificate')
    .option('--host-name <name>', 'host.name of the collected events (default this machine\'s hostname)')
    .option('--print-systemd-unit', 'print a systemd unit for this agent and exit')
    .addHelpText(
      'after',
      `
Every event gets a unique, time-ordered event.id (UUIDv7) here and is written to the buffer (fsync) before its
source moves on. The sender POSTs NDJSON batches to SERVER/api/v1/events and deletes them only after a 2xx answer,
retrying with back-off (Retry-After honoured). A batch sent twice (an answer lost) carries the same event.ids.

Install as a systemd service:
  vigil agent --server https://vigil.example.com:3000 --print-systemd-unit | sudo tee /etc/systemd/system/vigil-agent.service
  echo 'VIGIL_TOKEN=vgl_…' | sudo tee /etc/vigil-agent.env >/dev/null && sudo chmod 600 /etc/vigil-agent.env
  sudo systemctl daemon-reload && sudo systemctl enable --now vigil-agent
  journalctl -u vigil-agent -f          # its warnings: unreachable server, collectors that cannot collect

Environment:
  VIGIL_TOKEN   the ingest token, when --token is not given`,
    )
    .action(async (flags: AgentFlags) => {
      const config = loadConfig(flags.config, flags.collect === false ? { collect: false } : {});
      if (flags.hostName) config.collect.host_name = flags.hostName;
      const server = flags.server ?? config.agent.server;
      if (!server) throw new VigilError('bad_request', 'give the server to ship to: --server https://HOST:3000');
      if (!/^https?:\/\//.test(server)) throw new VigilError('bad_request', `--server must be an http:// or https:// URL, got ${server}`);
      if (flags.printSystemdUnit) {
        process.stdout.write(
          systemdUnit({
            server,
            ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
            ...(flags.maxBufferMb !== undefined ? { maxBufferMb: flags.maxBufferMb } : {}),
            ...(flags.ca ? { ca: flags.ca } : {}),
            ...(flags.config ? { config: flags.config } : {}),
            tails: flags.tail,
            collect: flags.collect,
          }),
        );
        return;
      }
      const token = flags.token ?? process.env.VIGIL_TOKEN ?? config.agent.token;
      if (!token) throw new VigilError('unauthorized', 'no token: pass --token or set VIGIL_TOKEN (create one on the server with `vigil token create --role ingest`)');
      const ca = flags.ca ?? config.agent.ca;
      if (ca && !existsSync(ca)) throw new VigilError('bad_config', `--ca ${ca}: no such file`);
      const dataDir = resolve(flags.dataDir ?? config.agent.data_dir);
      const bufferDir = flags.bufferDir ?? config.agent.buffer_dir;
      const tails = flags.tail.map(parseTail);
      for (const t of tails) if (!isAbsolute(t.path)) throw new VigilError('bad_request', `--tail ${t.path} must be a path`);
      const agent = await startAgent({
        server,
        token,
        dataDir,
        ...(bufferDir ? { bufferDir: resolve(bufferDir) } : {}),
        maxBufferBytes: Math.round((flags.maxBufferMb ?? config.agent.max_buffer_mb) * 1024 * 1024),
        ...(ca ? { caFile: ca } : {}),
        tails,
        config,
      });
      const collectors = agent.host?.collectors.map((c) => c.name).join(', ') || 'none';
      console.log(`Vigil agent is running: shipping to ${server} (collectors: ${collectors}; tails: ${tails.length}; state in ${dataDir})`);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        console.log(`${signal}: stopping (undelivered events stay in the buffer)…`);
        await agent.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
