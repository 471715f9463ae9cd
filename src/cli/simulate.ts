// `vigil simulate`: realistic normal traffic with attacks mixed in, sent through the real inputs of a running Vigil,
// then the alerts they raised — so a new user sees detections within a minute of starting.
import { Command, Option } from 'commander';
import { VigilError } from '../core/errors.js';
import { parseDuration } from '../core/time.js';
import { Random, SCENARIOS, buildTraffic, scenarioNames } from '../simulate/scenarios.js';
import { sendTraffic, syslogFrame } from '../simulate/send.js';
import { callServer, DEFAULT_SERVER } from './client.js';
import { printable } from './search.js';

interface SimulateOptions {
  scenario: string[];
  server: string;
  token?: string;
  syslog: string;
  host: string;
  span: string;
  seed: string;
  wait: string;
  dryRun?: boolean;
}

function parseAddress(text: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(text);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) throw new VigilError('bad_request', `--syslog must be HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

interface AlertSummary {
  rule: { id: string; title: string };
  severity: string;
  confidence: number;
  entity: { field: string; value: string } | null;
  count: number;
  first_seen: string;
}

async function waitForAlerts(options: SimulateOptions & { token: string }, expected: string[], since: string, waitMs: number): Promise<AlertSummary[]> {
  const deadline = Date.now() + waitMs;
  let seen: AlertSummary[] = [];
  while (Date.now() < deadline) {
    const response = await callServer(options, '/api/v1/alerts?limit=1000');
    const body = (await response.json()) as { alerts: AlertSummary[] };
    seen = body.alerts.filter((a) => a.first_seen >= since);
    if (expected.every((id) => seen.some((a) => a.rule.id === id))) return seen;
    await new Promise((r) => setTimeout(r, 500));
  }
  return seen;
}

export function simulateCommand(): Command {
  return new Command('simulate')
    .description('Send realistic traffic with attacks mixed in to a running Vigil, through syslog and the HTTP API, and show the alerts raised')
    .addOption(
      new Option('--scenario <name...>', 'attacks to mix in (repeatable)')
        .choices([...scenarioNames(), 'all', 'none'])
        .default(['all']),
    )
    .option('--server <url>', 'Vigil server', DEFAULT_SERVER)
    .option('--token <token>', 'a token with the ingest role (analyst to see the alerts); default $VIGIL_TOKEN')
    .option('--syslog <host:port>', 'Vigil syslog TCP input', '127.0.0.1:5514')
    .option('--host <name>', 'host.name of the simulated machine', 'shop-web-1')
    .option('--span <duration>', 'spread events over this much time before now', '5m')
    .option('--seed <n>', 'random seed: the same seed sends the same traffic', '1')
    .option('--wait <duration>', 'how long to wait for the expected alerts (0: do not wait)', '30s')
    .option('--dry-run', 'print what would be sent and send nothing')
    .addHelpText(
      'after',
      `\nScenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(12)} ${s.description}`).join('\n')}\n\nExample:\n  vigil simulate --scenario brute-force --token $VIGIL_TOKEN`,
    )
    .action(async (options: SimulateOptions) => {
      const names = options.scenario.includes('all') ? scenarioNames() : options.scenario.filter((s) => s !== 'none');
      const seed = Number(options.seed);
      if (!Number.isSafeInteger(seed)) throw new VigilError('bad_request', '--seed must be an integer');
      const spanMs = parseDuration(options.span, '--span');
      const waitMs = parseDuration(options.wait, '--wait');
      const now = Date.now();
      const traffic = buildTraffic(names, { now, spanMs, random: new Random(seed), host: options.host });
      if (options.dryRun) {
        for (const item of traffic.syslog) process.stdout.write(`syslog  ${printable(syslogFrame(item, options.host))}\n`);
        for (const item of traffic.access) process.stdout.write(`access  ${printable(item.line)}\n`);
        for (const item of traffic.documents) process.stdout.write(`event   ${printable(JSON.stringify(item.doc))}\n`);
        return;
      }
      const token = options.token ?? process.env.VIGIL_TOKEN;
      if (!token) throw new VigilError('unauthorized', 'no token: pass --token or set VIGIL_TOKEN (create one with `vigil token create --role analyst`)');
      const syslog = parseAddress(options.syslog);
      await sendTraffic(traffic, { server: options.server, token, syslogHost: syslog.host, syslogPort: syslog.port, host: options.host });
      const total = traffic.syslog.length + traffic.access.length + traffic.documents.length;
      process.stderr.write(
        `sent ${total} events (${traffic.syslog.length} syslog, ${traffic.access.length} access lines, ${traffic.documents.length} host events) over the last ${options.span}; scenarios: ${names.join(', ') || 'none'}\n`,
      );
      const expected = [...new Set(SCENARIOS.filter((s) => names.includes(s.name)).flatMap((s) => s.expect))];
      if (waitMs === 0 || expected.length === 0) return;
      const since = new Date(now - spanMs - 60_000).toISOString();
      const alerts = await waitForAlerts({ ...options, token }, expected, since, waitMs);
      for (const a of alerts) {
        process.stdout.write(`${a.severity.padEnd(8)} ${printable(a.rule.title)}  ${a.entity ? printable(`${a.entity.field}=${a.entity.value}`) : ''}  ×${a.count}  confidence ${a.confidence}\n`);
      }
      const missing = expected.filter((id) => !alerts.some((a) => a.rule.id === id));
      if (missing.length > 0) {
        process.stderr.write(`not raised within ${options.wait}: ${missing.join(', ')}\n`);
        process.exitCode = 1;
      }
    });
}
