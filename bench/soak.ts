// `npm run soak`: a real Vigil process fed 5,000 events/s for 10 minutes with detection on — sshd messages as RFC 5424
// syslog over TCP and nginx access lines to the HTTP API, with brute force, SQL injection, XSS and scanners mixed into
// normal traffic — while its memory and detection latency are sampled from /metrics. At the end it counts what was
// stored against what was sent (by a run label), and prints the three figures against their goals: memory growth
// within 10% (median RSS of the two minutes after a warm-up against the last two: the warm-up lets the store's buffer
// pool and the detection windows fill to their caps, and two minutes span several of the JS heap's collection cycles),
// no event dropped, detection latency p99 under 1 s.
//   npm run soak -- [--minutes 10] [--rate 5000] [--warmup-minutes 2] [--sample-seconds 5] [--memory-limit 1GB] [--json]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startVigilProcess, type ServerProcess } from '../src/testing/process.js';
import { Random, accessLine } from '../src/simulate/scenarios.js';
import { syslogFrame } from '../src/simulate/send.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '5000' },
    /** Minutes before the memory baseline is taken. */
    'warmup-minutes': { type: 'string', default: '2' },
    'sample-seconds': { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    /** `store.memory_limit` of the server (DuckDB's cache); default: unset, as in a default configuration (512MB). */
    'memory-limit': { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const sampleSeconds = Number(values['sample-seconds']);
const warmupMinutes = Number(values['warmup-minutes']);
if (!(minutes > 0) || !(rate > 0) || !(sampleSeconds > 0)) throw new Error('--minutes, --rate and --sample-seconds must be positive numbers');
/** Minutes of RSS samples whose median is compared: after the warm-up, and at the end. */
const WINDOW_MINUTES = 2;
if (!(warmupMinutes >= 0) || warmupMinutes + 2 * WINDOW_MINUTES > minutes) throw new Error(`--minutes must leave ${2 * WINDOW_MINUTES} minutes after --warmup-minutes: ${WINDOW_MINUTES} for the baseline, ${WINDOW_MINUTES} at the end to compare with it`);

const TOKEN = 'vgl_soak-admin-token-000000000000000000000000';
const TICK_MS = 100;
/** Share of events sent as syslog over TCP; the rest go to the HTTP API. */
const SYSLOG_SHARE = 0.4;
const RUN = `soak-${Date.now().toString(36)}`;


// --- traffic ------------------------------------------------------------------------------------------------

const random = new Random(7);
const CUSTOMERS = Array.from({ length: 400 }, (_, i) => `198.51.${100 + (i >> 8)}.${i & 255}`);
const STAFF = [
  ['alice', '10.0.0.21'],
  ['deploy', '10.0.0.22'],
  ['backup', '10.0.0.35'],
] as const;
const PAGES = ['/', '/products', '/products/1042', '/products/2211?color=blue&size=m', '/cart', '/search?q=walking+shoes', '/static/app.3f9c2.js', '/images/hero.webp', '/api/cart?items=3'];
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0';
const ATTACKS = ["/products?id=1'%20OR%20'1'='1", '/products?id=1%20UNION%20SELECT%20username,password%20FROM%20users--', '/search?q=%3Cscript%3Ealert(1)%3C/script%3E', '/../../etc/passwd'];
let pid = 3000;

/** One second's worth of sshd messages: staff logins, and every second a few failures from this period's attacker. */
function sshdLines(count: number, second: number): string[] {
  const now = Date.now();
  const attacker = `203.0.113.${(Math.floor(second / 20) % 250) + 1}`;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let message: string;
    if (i < 3) message = `Failed password for root from ${attacker} port ${40_000 + random.int(0, 20_000)} ssh2`;
    else if (random.next() < 0.5) {
      const [user, ip] = random.pick(STAFF);
      message = `Accepted publickey for ${user} from ${ip} port ${random.int(40_000, 60_000)} ssh2: ED25519 SHA256:q8H1wY0aZr6J1l8sZ4x0B3d7m2pTfVnC9eKgUoRiLhw`;
    } else {
      const [user, ip] = random.pick(STAFF);
      message = `Disconnected from user ${user} ${ip} port ${random.int(40_000, 60_000)}`;
    }
    out.push(syslogFrame({ at: now, program: 'sshd', pid: pid++ % 30_000, message }, RUN));
  }
  return out;
}

/** One tick's nginx lines: shoppers, and now and then an injection, a traversal or a scanner. */
function accessLines(count: number): string[] {
  const now = Date.now();
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = random.next();
    if (r < 0.005) out.push(accessLine(now, '45.155.205.233', 'GET', random.pick(ATTACKS), 500, random.int(200, 5000), BROWSER).line);
    else if (r < 0.007) out.push(accessLine(now, '185.220.101.34', 'GET', `/wp-login.php?x=${i}`, 404, 150, 'sqlmap/1.8.4#stable (https://sqlmap.org)').line);
    else out.push(accessLine(now, random.pick(CUSTOMERS), 'GET', random.pick(PAGES), 200, random.int(800, 48_000), BROWSER, 'https://shop.example.com/').line);
  }
  return out;
}

// --- metrics --------------------------------------------------------------------------------------------------

interface Sample {
  t: number;
  rss: number;
  heap: number;
  /** DuckDB's buffer pool. */
  storeMemory: number;
  /** Cumulative detection latency histogram: upper bound (s) → count. */
  latency: Map<number, number>;
  droppedUnintended: number;
  stored: number;
  queue: number;
}

function parseMetrics(text: string, t: number): Sample {
  const value = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : 0;
  };
  const latency = new Map<number, number>();
  for (const m of text.matchAll(/^vigil_detection_latency_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)) latency.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  let droppedUnintended = 0;
  for (const m of text.matchAll(/^vigil_events_dropped_total\{[^}]*intentional="false"[^}]*\} (\d+)$/gm)) droppedUnintended += Number(m[1]);
  return {
    t,
    rss: value(/^vigil_process_resident_memory_bytes (\d+)$/m),
    heap: value(/^vigil_nodejs_heap_size_used_bytes (\d+)$/m),
    storeMemory: value(/^vigil_store_memory_bytes (\d+)$/m),
    latency,
    droppedUnintended,
    stored: value(/^vigil_events_stored_total (\d+)$/m),
    queue: value(/^vigil_queue_depth\{stage="store"\} (\d+)$/m),
  };
}

/** A quantile of a Prometheus histogram (cumulative buckets), interpolated within its bucket as histogram_quantile does. */
function quantile(buckets: Map<number, number>, q: number): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bound of bounds) {
    const count = buckets.get(bound)!;
    if (count >= rank) {
      if (bound === Infinity) return lower;
      return lower + ((bound - lower) * (rank - below)) / Math.max(1, count - below);
    }
    lower = bound;
    below = count;
  }
  return lower;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

// --- the run ----------------------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'vigil-soak-'));
const config = join(dir, 'vigil.yaml');
writeFileSync(config, `files:\n  enabled: false\nretention:\n  max_age_days: 0\n${values['memory-limit'] ? `store:\n  memory_limit: ${values['memory-limit']}\n` : ''}`);
const syslogPort = await freePort();
let server: ServerProcess | undefined;
let syslog: Socket | undefined;
const log = (line: string) => process.stderr.write(`${line}\n`);
try {
  server = await startVigilProcess(['--port', '0', '--syslog-port', String(syslogPort), '--no-collect', '--data-dir', join(dir, 'data'), '--config', config], { VIGIL_ADMIN_TOKEN: TOKEN });
  const url = server.url;
  const scrape = async (): Promise<Sample> => parseMetrics(await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text(), Date.now());
  syslog = connect({ host: '127.0.0.1', port: syslogPort });
  await new Promise<void>((resolve, reject) => syslog!.once('connect', resolve).once('error', reject));

  let sentSyslog = 0;
  let sentHttp = 0;
  let acceptedHttp = 0;
  let retried = 0;
  let httpFailed = 0;
  // The HTTP side behaves like a shipper: batches wait in a queue and go out on at most HTTP_CONCURRENCY connections,
  // each retried as told (Retry-After) when Vigil pushes back, so a slow server makes the queue grow, not the load.
  const HTTP_CONCURRENCY = 8;
  const httpQueue: string[][] = [];
  let httpActive = 0;
  let queueWaiters: (() => void)[] = [];
  const postLines = async (lines: string[]): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(`${url}/api/v1/events?format=nginx&host=${RUN}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body: lines.join('\n') });
        if (response.ok) {
          acceptedHttp += ((await response.json()) as { accepted: number }).accepted;
          return;
        }
        const wait = Number(response.headers.get('retry-after') ?? '1');
        await response.body?.cancel();
        retried++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5, wait) * 1000));
      } catch {
        if (attempt >= 5) {
          httpFailed += lines.length;
          return;
        }
        retried++;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };
  const pumpHttp = (): void => {
    while (httpActive < HTTP_CONCURRENCY && httpQueue.length > 0) {
      const lines = httpQueue.shift()!;
      httpActive++;
      void postLines(lines).finally(() => {
        httpActive--;
        pumpHttp();
        if (httpActive === 0 && httpQueue.length === 0) {
          const waiters = queueWaiters;
          queueWaiters = [];
          for (const w of waiters) w();
        }
      });
    }
  };

  // Metrics are read on their own schedule, so a slow answer never holds up the sending.
  const samples: Sample[] = [await scrape()];
  const started = Date.now();
  const end = started + minutes * 60_000;
  let sampling = true;
  const sampler = (async () => {
    for (let next = started + sampleSeconds * 1000; sampling; next += sampleSeconds * 1000) {
      const wait = next - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (!sampling) break;
      try {
        const s = await scrape();
        samples.push(s);
        log(`${((s.t - started) / 1000).toFixed(0).padStart(5)} s  sent ${(sentSyslog + sentHttp).toLocaleString('en-US')}  stored ${s.stored.toLocaleString('en-US')}  queue ${s.queue}  rss ${(s.rss / 1e6).toFixed(0)} MB  heap ${(s.heap / 1e6).toFixed(0)} MB  store ${(s.storeMemory / 1e6).toFixed(0)} MB  tcp waiting ${(syslog!.writableLength / 1e6).toFixed(1)} MB  http batches waiting ${httpQueue.length}`);
      } catch (err) {
        log(`metrics: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  let tick = 0;
  let carrySyslog = 0;
  let carryHttp = 0;
  log(`soak ${RUN}: ${rate} events/s for ${minutes} min to ${url} (syslog TCP :${syslogPort}), data in ${dir}`);
  while (Date.now() < end) {
    // Paced by the clock: tick k is due at k * 100 ms, so a slow tick is made up by the next ones.
    const due = started + tick * TICK_MS;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    tick++;
    carrySyslog += (rate * SYSLOG_SHARE * TICK_MS) / 1000;
    carryHttp += (rate * (1 - SYSLOG_SHARE) * TICK_MS) / 1000;
    const syslogCount = Math.floor(carrySyslog);
    const httpCount = Math.floor(carryHttp);
    carrySyslog -= syslogCount;
    carryHttp -= httpCount;
    if (syslogCount > 0) {
      syslog.write(sshdLines(syslogCount, Math.floor((Date.now() - started) / 1000)).join(''));
      sentSyslog += syslogCount;
    }
    if (httpCount > 0) {
      sentHttp += httpCount;
      httpQueue.push(accessLines(httpCount));
      pumpHttp();
    }
  }
  const sendSeconds = (Date.now() - started) / 1000;
  const backlog = { tcp_bytes: syslog.writableLength, http_batches: httpQueue.length };
  // Drain: the HTTP batches waiting, the syslog bytes still in our socket, then the server's queue.
  if (httpActive > 0 || httpQueue.length > 0) await new Promise<void>((resolve) => queueWaiters.push(resolve));
  await new Promise<void>((resolve) => (syslog!.writableLength === 0 ? resolve() : syslog!.once('drain', () => resolve())));
  syslog.end();
  sampling = false;
  await sampler;
  const sent = sentSyslog + sentHttp;
  let stored = 0;
  const drainDeadline = Date.now() + 120_000;
  for (;;) {
    const response = await fetch(`${url}/api/v1/events?q=${encodeURIComponent(`host.name:${RUN}`)}&from=now-1d&limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    stored = ((await response.json()) as { total: number }).total;
    const last = await scrape();
    if ((stored >= sent && last.queue === 0) || Date.now() > drainDeadline) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const final = await scrape();

  // Figures: memory of the minute after the warm-up against the last; drops; detection latency over the whole run.
  const running = samples.filter((s) => s.t > started);
  const warm = started + warmupMinutes * 60_000;
  const afterWarmup = running.filter((s) => s.t > warm && s.t <= warm + WINDOW_MINUTES * 60_000);
  const atEnd = running.filter((s) => s.t > started + (sendSeconds - WINDOW_MINUTES * 60) * 1000);
  const rssFirst = median(afterWarmup.map((s) => s.rss));
  const rssLast = median(atEnd.map((s) => s.rss));
  const heapFirst = median(afterWarmup.map((s) => s.heap));
  const heapLast = median(atEnd.map((s) => s.heap));
  const growth = (rssLast - rssFirst) / rssFirst;
  const heapGrowth = (heapLast - heapFirst) / heapFirst;
  const storeFirst = median(afterWarmup.map((s) => s.storeMemory));
  const storeLast = median(atEnd.map((s) => s.storeMemory));
  // RSS every half minute, for the eye: a climb during the warm-up, then flat.
  const halves = Array.from({ length: Math.ceil(sendSeconds / 30) }, (_, k) => median(running.filter((s) => s.t > started + k * 30_000 && s.t <= started + (k + 1) * 30_000).map((s) => s.rss)));
  const top = Math.max(...halves.filter(Number.isFinite));
  const sparkline = halves.map((v) => (Number.isFinite(v) ? '▁▂▃▄▅▆▇█'[Math.min(7, Math.floor((v / top) * 8))] : ' ')).join('');
  const lost = Math.max(0, sent - stored);
  const drops = lost + final.droppedUnintended + httpFailed;
  const p50 = quantile(final.latency, 0.5);
  const p99 = quantile(final.latency, 0.99);
  const detections = final.latency.get(Infinity) ?? 0;
  const ok = { memory: growth <= 0.1, drops: drops === 0, latency: p99 !== null && p99 < 1 };
  const result = {
    run: RUN,
    minutes,
    rate,
    achieved_rate: Math.round(sent / sendSeconds),
    backlog_at_end_of_sending: backlog,
    sent,
    sent_syslog_tcp: sentSyslog,
    sent_http: sentHttp,
    accepted_http: acceptedHttp,
    stored,
    retried_http_batches: retried,
    memory: {
      warmup_minutes: warmupMinutes,
      rss_after_warmup_mb: rssFirst / 1e6,
      rss_last_minute_mb: rssLast / 1e6,
      growth_pct: 100 * growth,
      heap_after_warmup_mb: heapFirst / 1e6,
      heap_last_minute_mb: heapLast / 1e6,
      heap_growth_pct: 100 * heapGrowth,
      store_after_warmup_mb: storeFirst / 1e6,
      store_last_minute_mb: storeLast / 1e6,
      rss_every_30s_mb: halves.map((v) => Math.round(v / 1e6)),
    },
    drops: { total: drops, not_stored: lost, dropped_counters: final.droppedUnintended, http_gave_up: httpFailed },
    detection_latency: { p50_s: p50, p99_s: p99, observations: detections },
    pass: ok,
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    const f = (x: number | null, digits = 3) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits));
    const lat = (x: number | null) => (x !== null && x >= 10 ? '> 10' : f(x));
    console.log(`\n== Soak ${RUN}: ${minutes} min at ${rate} events/s (40% syslog TCP, 60% HTTP), detection on ==`);
    console.log(`RSS every 30 s (warm-up: the first ${warmupMinutes} min): ${sparkline}  ${f(Math.min(...halves.filter(Number.isFinite)) / 1e6, 0)}–${f(top / 1e6, 0)} MB`);
    console.log(`sent ${sent.toLocaleString('en-US')} events in ${sendSeconds.toFixed(0)} s; when sending stopped, ${(backlog.tcp_bytes / 1e6).toFixed(1)} MB of syslog and ${backlog.http_batches} HTTP batches still waited on the sender's side (Vigil holding it back)`);
    console.table([
      { figure: `memory growth (RSS, median of minutes ${warmupMinutes + 1}-${warmupMinutes + WINDOW_MINUTES} vs the last ${WINDOW_MINUTES})`, value: `${f(rssFirst / 1e6, 0)} → ${f(rssLast / 1e6, 0)} MB (${f(100 * growth, 1)}%)`, goal: '≤ 10%', result: ok.memory ? 'PASS' : 'FAIL' },
      { figure: '  JS heap used, same minutes', value: `${f(heapFirst / 1e6, 0)} → ${f(heapLast / 1e6, 0)} MB (${f(100 * heapGrowth, 1)}%)`, goal: '', result: '' },
      { figure: "  DuckDB's buffer pool, same minutes", value: `${f(storeFirst / 1e6, 0)} → ${f(storeLast / 1e6, 0)} MB`, goal: '', result: '' },
      { figure: 'events dropped (sent − stored, dropped counters)', value: `${drops} (sent ${sent.toLocaleString('en-US')}, stored ${stored.toLocaleString('en-US')}, counters ${final.droppedUnintended})`, goal: '0', result: ok.drops ? 'PASS' : 'FAIL' },
      { figure: 'detection latency, arrival → detection', value: `p50 ${lat(p50)} s, p99 ${lat(p99)} s (${detections} batches with detections)`, goal: 'p99 < 1 s', result: ok.latency ? 'PASS' : 'FAIL' },
    ]);
  }
  process.exitCode = ok.memory && ok.drops && ok.latency ? 0 : 1;
} finally {
  syslog?.destroy();
  if (server && server.child.exitCode === null) {
    const exited = new Promise((resolve) => server!.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}
