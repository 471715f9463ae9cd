// `vigil model list|train|retrain|rollback`: the anomaly detectors of a running Vigil, through its API.
import { Command } from 'commander';
import { VigilError } from '../core/errors.js';
import { callServer, DEFAULT_SERVER, type ServerOptions } from './client.js';
import { printable } from './search.js';

interface ServerFlags {
  server: string;
  token?: string;
  json?: boolean;
}

interface ModelSummary {
  id: string;
  title: string;
  kind: string;
  state: string;
  samples: number;
  min_samples: number;
  active_version: number | null;
  model: { created_at: string; reason: string; training: { samples: number; seconds: number }; thresholds: Record<string, number> } | null;
  versions: { version: number; error?: string }[];
  drift: { psi: number | null; threshold: number };
  last_error: string | null;
}

function server(opts: ServerFlags): ServerOptions {
  return { server: opts.server, token: opts.token ?? process.env.VIGIL_TOKEN };
}

function withServer(command: Command): Command {
  return command
    .option('--server <url>', 'Vigil server', DEFAULT_SERVER)
    .option('--token <token>', 'API token (default $VIGIL_TOKEN); retrain and rollback need an analyst or admin token')
    .option('--json', 'print the server answer as JSON');
}

export function renderModels(models: ModelSummary[]): string {
  const header = ['model', 'kind', 'state', 'version', 'samples', 'trained on', 'trained', 'low ≥', 'critical ≥', 'PSI'];
  const rows = models.map((m) => [
    m.id,
    m.kind,
    m.state,
    m.active_version === null ? '-' : String(m.active_version),
    m.state === 'collecting' ? `${m.samples}/${m.min_samples}` : String(m.samples),
    m.model ? String(m.model.training.samples) : '-',
    m.model ? `${m.model.created_at.slice(0, 19).replace('T', ' ')} (${m.model.reason})` : '-',
    m.model ? m.model.thresholds.low!.toFixed(3) : '-',
    m.model ? m.model.thresholds.critical!.toFixed(3) : '-',
    m.drift.psi === null ? '-' : m.drift.psi.toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const problems = models.filter((m) => m.last_error || m.versions.some((v) => v.error)).map((m) => `${m.id}: ${printable(m.last_error ?? m.versions.find((v) => v.error)!.error!)}`);
  return [line(header), ...rows.map(line), ...(problems.length > 0 ? ['', ...problems] : [])].join('\n');
}

async function post(opts: ServerFlags, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await callServer(server(opts), path, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return (await response.json()) as Record<string, unknown>;
}

export function modelCommand(): Command {
  const command = new Command('model').description('Anomaly detection models of a running Vigil: list, train, retrain, roll back');

  command.addCommand(
    withServer(new Command('list').description('Every detector: state, active version, samples, thresholds, drift')).action(async (opts: ServerFlags) => {
      const response = await callServer(server(opts), 'api/v1/models');
      const body = (await response.json()) as { models: ModelSummary[] };
      if (opts.json) console.log(JSON.stringify(body));
      else console.log(body.models.length === 0 ? 'no models (is ml disabled in the configuration?)' : renderModels(body.models));
    }),
  );

  for (const [name, description] of [
    ['train', 'Train a model now (its first, or a new version) on the samples collected'],
    ['retrain', 'Train a new version now; it replaces the active one without pausing detection'],
  ] as const) {
    command.addCommand(
      withServer(new Command(name).description(description).argument('<id>', 'model id, as `vigil model list` shows')).action(async (id: string, opts: ServerFlags) => {
        const body = await post(opts, `api/v1/models/${encodeURIComponent(id)}/retrain`);
        if (opts.json) console.log(JSON.stringify(body));
        else {
          const training = body.training as { samples: number; seconds: number; excluded: number };
          console.log(`${id}: version ${String(body.version)} trained on ${training.samples} samples (${training.excluded} excluded) in ${training.seconds.toFixed(2)} s; now active`);
        }
      }),
    );
  }

  command.addCommand(
    withServer(
      new Command('rollback')
        .description('Make an earlier version active again (by default the one before the active version)')
        .argument('<id>', 'model id')
        .option('--version <n>', 'the version to make active'),
    ).action(async (id: string, opts: ServerFlags & { version?: string }) => {
      let version: number | undefined;
      if (opts.version !== undefined) {
        version = Number(opts.version);
        if (!Number.isInteger(version) || version < 1) throw new VigilError('bad_request', '--version must be a positive integer');
      }
      const body = await post(opts, `api/v1/models/${encodeURIComponent(id)}/rollback`, version === undefined ? {} : { version });
      if (opts.json) console.log(JSON.stringify(body));
      else console.log(`${id}: version ${String(body.version)} is active`);
    }),
  );
  return command;
}
