// `vigil ingest FILE…`: batch import through the full pipeline (locally, or through a running server), with a
// progress bar and a summary: lines, events per dataset, lines no parser understood, events/s.
import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { loadConfig } from '../config/config.js';
import { systemClock } from '../core/clock.js';
import { VigilError } from '../core/errors.js';
import type { IngestResult } from '../core/ingest.js';
import { Telemetry } from '../core/telemetry.js';
import { isFormat } from '../parsers/index.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { openDataDir } from '../pipeline/runtime.js';
import { callServer, DEFAULT_SERVER } from './client.js';

const BATCH_LINES = 2000;
const IN_FLIGHT = 16;

export interface IngestSummary {
  files: number;
  lines: number;
  events: number;
  unparsed: number;
  datasets: Record<string, number>;
  seconds: number;
  events_per_second: number;
}

/** Reads a file (gzip when it ends in .gz) and calls `onBatch` with batches of lines, CR stripped, empty lines skipped. */
export async function readLineBatches(path: string, batchSize: number, onBatch: (lines: string[], bytesRead: number) => Promise<void>): Promise<void> {
  const raw = createReadStream(path);
  let bytesRead = 0;
  raw.on('data', (chunk) => {
    bytesRead += chunk.length;
  });
  const stream: Readable = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  stream.setEncoding('utf8');
  let carry = '';
  let batch: string[] = [];
  for await (const chunk of stream as AsyncIterable<string>) {
    const text = carry + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      let line = text.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.length > 0) batch.push(line);
      start = nl + 1;
      if (batch.length >= batchSize) {
        await onBatch(batch, bytesRead);
        batch = [];
      }
    }
    carry = text.slice(start);
  }
  if (carry.endsWith('\r')) carry = carry.slice(0, -1);
  if (carry.length > 0) batch.push(carry);
  if (batch.length > 0) await onBatch(batch, bytesRead);
}

type Sender = (lines: string[]) => Promise<IngestResult>;

/** Runs batches with a few in flight, so the store's group commit sees several at once; retries when told to back off. */
async function ingestFiles(files: string[], send: Sender, showProgress: boolean): Promise<IngestSummary> {
  const totalBytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
  const bar = new cliProgress.SingleBar(
    { format: 'ingest [{bar}] {percentage}% | {lines} lines | {rate} events/s | ETA {eta_formatted}', hideCursor: true, noTTYOutput: false, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  const summary: IngestSummary = { files: files.length, lines: 0, events: 0, unparsed: 0, datasets: {}, seconds: 0, events_per_second: 0 };
  if (showProgress) bar.start(totalBytes, 0, { lines: 0, rate: 0 });
  let doneBytes = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const sendWithRetry = async (lines: string[]): Promise<void> => {
    for (;;) {
      try {
        const result = await send(lines);
        summary.events += result.accepted;
        summary.unparsed += result.unparsed ?? 0;
        for (const [dataset, count] of Object.entries(result.datasets ?? {})) summary.datasets[dataset] = (summary.datasets[dataset] ?? 0) + count;
        return;
      } catch (err) {
        if (err instanceof VigilError && err.id === 'busy') {
          await new Promise((r) => setTimeout(r, (err.retryAfter ?? 1) * 100));
          continue;
        }
        // Over this token's rate limit: the server will not take more before Retry-After.
        if (err instanceof VigilError && err.id === 'rate_limited') {
          await new Promise((r) => setTimeout(r, (err.retryAfter ?? 1) * 1000));
          continue;
        }
        throw err;
      }
    }
  };

  for (const file of files) {
    await readLineBatches(file, BATCH_LINES, async (lines, bytesRead) => {
      if (failure) throw failure;
      summary.lines += lines.length;
      const p = sendWithRetry(lines).catch((err: unknown) => {
        failure ??= err;
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      const elapsed = (performance.now() - started) / 1000;
      if (showProgress) bar.update(doneBytes + bytesRead, { lines: summary.lines, rate: Math.round(summary.events / Math.max(elapsed, 0.001)) });
    });
    doneBytes += statSync(file).size;
    await Promise.all(inFlight);
    if (failure) break;
  }
  await Promise.all(inFlight);
  if (showProgress) {
    bar.update(totalBytes, { lines: summary.lines, rate: Math.round(summary.events / Math.max((performance.now() - started) / 1000, 0.001)) });
    bar.stop();
  }
  if (failure) throw failure;
  summary.seconds = (performance.now() - started) / 1000;
  summary.events_per_second = Math.round(summary.events / Math.max(summary.seconds, 0.001));
  return summary;
}

function printSummary(summary: IngestSummary): void {
  const rows: [string, string][] = [
    ['files', String(summary.files)],
    ['lines', String(summary.lines)],
    ['events stored', String(summary.events)],
    ['not parsed (kept, tagged _parse_failure)', String(summary.unparsed)],
  ];
  for (const [dataset, count] of Object.entries(summary.datasets).sort((a, b) => b[1] - a[1])) {
    rows.push([`  ${dataset}`, `${count} (${((100 * count) / Math.max(summary.events, 1)).toFixed(1)}%)`]);
  }
  rows.push(['seconds', summary.seconds.toFixed(2)], ['events/s', String(summary.events_per_second)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

export function ingestCommand(): Command {
  return new Command('ingest')
    .description('Import log files through the full pipeline (parse, normalize, store), with progress and a summary')
    .argument('<files...>', 'log files (plain or .gz)')
    .addOption(new Option('--format <name>', 'parser: auto, syslog, sshd, nginx, apache, json').default('auto'))
    .option('--year <year>', 'year of timestamps that have none (old syslog files)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1970 || n > 9999) throw new VigilError('bad_request', '--year must be a year such as 2017');
      return n;
    })
    .option('--host-name <name>', 'host.name for events whose line names no host')
    .option('--data-dir <dir>', 'data directory (local import; default ./data or $VIGIL_DATA_DIR)')
    .option('--config <file>', 'configuration file (YAML)')
    .option('--server <url>', `send through a running Vigil instead of opening the data directory (e.g. ${DEFAULT_SERVER})`)
    .option('--token <token>', 'API token for --server (default $VIGIL_TOKEN)')
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      `
Examples:
  vigil ingest /var/log/auth.log
  vigil ingest --format nginx access.log access.log.1.gz
  vigil ingest --year 2017 old-auth.log
  vigil ingest --server ${DEFAULT_SERVER} --token $VIGIL_TOKEN app.log`,
    )
    .action(async (files: string[], opts: { format: string; year?: number; hostName?: string; dataDir?: string; config?: string; server?: string; token?: string; json?: boolean; progress: boolean }) => {
      if (!isFormat(opts.format)) throw new VigilError('bad_request', `unknown format "${opts.format}": use auto, syslog, sshd, nginx, apache or json`);
      for (const file of files) {
        try {
          if (!statSync(file).isFile()) throw new Error('not a file');
        } catch (err) {
          throw new VigilError('not_found', `cannot read ${file}: ${(err as Error).message}`);
        }
      }
      const showProgress = opts.progress && !opts.json && process.stderr.isTTY === true;
      let summary: IngestSummary;
      if (opts.server) {
        const server = { server: opts.server, token: opts.token ?? process.env.VIGIL_TOKEN };
        const params = new URLSearchParams({ format: opts.format });
        if (opts.hostName) params.set('host', opts.hostName);
        summary = await ingestFiles(
          files,
          async (lines) => {
            const response = await callServer(server, `api/v1/events?${params}`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: lines.join('\n') });
            return (await response.json()) as IngestResult;
          },
          showProgress,
        );
      } else {
        const config = loadConfig(opts.config, opts.dataDir ? { dataDir: opts.dataDir } : {});
        const store = await openDataDir(config.data_dir, config);
        const pipeline = new Pipeline({ store, clock: systemClock, telemetry: new Telemetry(), maxQueueEvents: config.ingest.max_queue_events, maxLineBytes: config.ingest.max_line_bytes });
        const lineOptions = { format: opts.format, input: 'file', ...(opts.year ? { year: opts.year } : {}), ...(opts.hostName ? { hostName: opts.hostName } : {}) };
        try {
          summary = await ingestFiles(files, (lines) => pipeline.ingestLines(lines, lineOptions), showProgress);
        } finally {
          await pipeline.close();
          await store.close();
        }
      }
      if (opts.json) console.log(JSON.stringify(summary));
      else printSummary(summary);
    });
}
