// `vigil export TARGET --from TIME --to TIME`: sends stored history to a configured Elasticsearch or OpenSearch
// cluster (the `export` block), from the local data directory or through a running Vigil's search API, with a
// progress bar and a summary. Sending again is safe: documents keep their event.id as `_id`.
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadConfig } from '../config/config.js';
import { VigilError } from '../core/errors.js';
import type { EcsEvent } from '../core/event.js';
import { parseTime } from '../core/time.js';
import { openDataDir } from '../pipeline/runtime.js';
import { EsExporter } from '../sinks/elasticsearch/exporter.js';
import { parseQuery } from '../store/query/parse.js';
import type { SearchResult } from '../store/types.js';
import { callServer, DEFAULT_SERVER } from './client.js';

const PAGE = 1000;

type PageSource = (cursor: string | undefined) => Promise<SearchResult>;

export interface ExportSummary {
  target: string;
  events: number;
  sent: number;
  already_there: number;
  dead_lettered: number;
  dead_letter_path: string | null;
  seconds: number;
}

async function run(exporter: EsExporter, pages: PageSource, showProgress: boolean): Promise<ExportSummary> {
  const started = performance.now();
  const bar = new cliProgress.SingleBar({ format: 'export [{bar}] {percentage}% | {value}/{total} events | ETA {eta_formatted}', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  let cursor: string | undefined;
  let done = 0;
  let first = true;
  for (;;) {
    const page = await pages(cursor);
    if (first) {
      if (showProgress) bar.start(page.total, 0);
      first = false;
    }
    await exporter.exportEvents(page.events as EcsEvent[]);
    done += page.events.length;
    if (showProgress) bar.update(done);
    if (!page.next || page.events.length === 0) break;
    cursor = page.next;
  }
  if (showProgress) bar.stop();
  const s = exporter.status();
  return { target: exporter.name, events: done, sent: s.sent, already_there: s.duplicates, dead_lettered: s.dead_lettered, dead_letter_path: s.dead_lettered > 0 ? s.dead_letter_path : null, seconds: (performance.now() - started) / 1000 };
}

export function exportCommand(): Command {
  return new Command('export')
    .description('Send stored events to an Elasticsearch or OpenSearch cluster named in the configuration (backfill)')
    .argument('<target>', 'the name of an entry of the `export` configuration block')
    .option('--from <time>', 'first event time: ISO 8601, epoch ms, or now-7d', 'now-1d')
    .option('--to <time>', 'end (exclusive): ISO 8601, epoch ms, or now', 'now')
    .option('--query <query>', 'only events matching this query (vigil search syntax)', '')
    .option('--config <file>', 'configuration file (YAML) with the `export` block')
    .option('--data-dir <dir>', 'data directory to read (default from the configuration, ./data or $VIGIL_DATA_DIR)')
    .option('--server <url>', `read through a running Vigil's search API instead of the data directory, e.g. ${DEFAULT_SERVER}`)
    .option('--token <token>', 'API token for --server (default $VIGIL_TOKEN)')
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      `
Examples:
  vigil export es --config vigil.yaml --from 2024-05-01 --to 2024-06-01
  vigil export opensearch --config vigil.yaml --from now-7d --query 'event.dataset:sshd'
  vigil export es --config vigil.yaml --server ${DEFAULT_SERVER} --token $VIGIL_TOKEN --from now-30d

Documents the cluster rejects are appended to the target's dead-letter file with the reason.`,
    )
    .action(async (name: string, opts: { from: string; to: string; query: string; config?: string; dataDir?: string; server?: string; token?: string; json?: boolean; progress: boolean }) => {
      const config = loadConfig(opts.config, opts.dataDir ? { dataDir: opts.dataDir } : {});
      const target = config.export.find((t) => t.name === name);
      if (!target) {
        const known = config.export.map((t) => t.name);
        throw new VigilError('not_found', `no export target named ${name}${known.length > 0 ? `: configured are ${known.join(', ')}` : ': the configuration has no `export` block (see README, "Export to Elasticsearch/OpenSearch")'}`);
      }
      const now = Date.now();
      const from = parseTime(opts.from, now, '--from');
      const to = parseTime(opts.to, now, '--to');
      const query = parseQuery(opts.query);
      const showProgress = opts.progress && !opts.json && process.stderr.isTTY === true;
      const exporter = new EsExporter(target, { dataDir: config.data_dir, persistState: false });
      let summary: ExportSummary;
      try {
        if (opts.server) {
          const server = { server: opts.server, token: opts.token ?? process.env.VIGIL_TOKEN };
          summary = await run(
            exporter,
            async (cursor) => {
              const params = new URLSearchParams({ q: opts.query, from: new Date(from).toISOString(), to: new Date(to).toISOString(), limit: String(PAGE) });
              if (cursor) params.set('cursor', cursor);
              return (await (await callServer(server, `api/v1/events?${params}`)).json()) as SearchResult;
            },
            showProgress,
          );
        } else {
          const store = await openDataDir(config.data_dir, config);
          try {
            summary = await run(exporter, (cursor) => store.search({ query, from, to, limit: PAGE, ...(cursor ? { cursor } : {}) }), showProgress);
          } finally {
            await store.close();
          }
        }
      } finally {
        await exporter.close();
      }
      if (opts.json) console.log(JSON.stringify(summary));
      else {
        console.log(`exported ${summary.events} events to ${summary.target} in ${summary.seconds.toFixed(1)} s: ${summary.sent} written, ${summary.already_there} already there, ${summary.dead_lettered} rejected`);
        if (summary.dead_letter_path) console.log(`rejected documents and the reasons: ${summary.dead_letter_path}`);
      }
    });
}
