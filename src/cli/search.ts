// `vigil search QUERY`: search a running Vigil; a table for people, NDJSON or CSV for pipes.
import { Command, Option } from 'commander';
import { getField, type EcsEvent } from '../core/event.js';
import { VigilError } from '../core/errors.js';
import { callServer, DEFAULT_SERVER } from './client.js';

const TABLE_FIELDS = ['@timestamp', 'event.dataset', 'host.name', 'source.ip', 'user.name', 'event.action'];

/** Strips control characters (ANSI escapes, CR) so that a log line cannot rewrite the operator's terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\t' ? ' ' : '\uFFFD'));
}

function cell(event: EcsEvent, field: string): string {
  const value = getField(event as unknown as Record<string, unknown>, field);
  if (value === undefined || value === null) return '-';
  return printable(typeof value === 'object' ? JSON.stringify(value) : String(value));
}

export function renderTable(events: EcsEvent[], width: number): string {
  const rows = events.map((e) => [...TABLE_FIELDS.map((f) => cell(e, f)), cell(e, 'message') === '-' ? cell(e, 'event.original') : cell(e, 'message')]);
  const header = [...TABLE_FIELDS, 'message'];
  const widths = header.map((h, i) => Math.min(i === header.length - 1 ? Infinity : 40, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const fixed = widths.slice(0, -1).reduce((a, b) => a + b + 2, 0);
  widths[widths.length - 1] = Math.max(20, width - fixed);
  const line = (cols: string[]) => cols.map((c, i) => (c.length > widths[i]! ? c.slice(0, widths[i]! - 1) + '…' : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function searchCommand(): Command {
  return new Command('search')
    .description('Search events in a running Vigil (newest first)')
    .argument('[query]', 'query: field:value, "phrase", wild*, AND/OR/NOT, field:[a TO b], field>=n, source.ip:10.0.0.0/8, free text', '')
    .option('--from <time>', 'start: ISO 8601, epoch ms, or now-15m / now-24h / now-7d')
    .option('--to <time>', 'end (exclusive): ISO 8601, epoch ms, or now')
    .option('--limit <n>', 'how many events (table: at most 10000)', '50')
    .addOption(new Option('--format <format>', 'output').choices(['table', 'ndjson', 'csv']).default('table'))
    .option('--fields <list>', 'CSV columns, comma-separated ECS fields')
    .option('--server <url>', 'Vigil server', DEFAULT_SERVER)
    .option('--token <token>', 'API token (default $VIGIL_TOKEN)')
    .addHelpText(
      'after',
      `
Examples:
  vigil search 'event.dataset:sshd AND event.outcome:failure' --from now-24h
  vigil search 'source.ip:203.0.113.0/24 AND NOT user.name:root'
  vigil search 'http.response.status_code>=500' --format csv > errors.csv
  vigil search '"POSSIBLE BREAK-IN ATTEMPT"' --format ndjson | jq .source.ip`,
    )
    .action(async (query: string, opts: { from?: string; to?: string; limit: string; format: 'table' | 'ndjson' | 'csv'; fields?: string; server: string; token?: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new VigilError('bad_request', '--limit must be a positive integer');
      const params = new URLSearchParams({ q: query, limit: String(limit) });
      if (opts.from) params.set('from', opts.from);
      if (opts.to) params.set('to', opts.to);
      const server = { server: opts.server, token: opts.token ?? process.env.VIGIL_TOKEN };
      if (opts.format !== 'table') {
        params.set('format', opts.format);
        if (opts.fields) params.set('fields', opts.fields);
        const response = await callServer(server, `api/v1/events?${params}`);
        if (!response.body) return;
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) process.stdout.write(chunk);
        return;
      }
      if (limit > 10_000) throw new VigilError('bad_request', '--limit is at most 10000 for a table; use --format ndjson or csv to export more');
      const response = await callServer(server, `api/v1/events?${params}`);
      const body = (await response.json()) as { total: number; events: EcsEvent[] };
      if (body.events.length === 0) {
        console.log(`no events match (total ${body.total})`);
        return;
      }
      console.log(renderTable(body.events, process.stdout.columns ?? 160));
      console.log(`\n${body.events.length} of ${body.total} matching events`);
    });
}
