// Detection latency: the time from sending an event to Vigil to the alert it raises, at a steady 10,000 events/s.
// A real `vigil start` process takes real traffic through its real inputs —
// nginx access lines (the Elastic example log) as text to the HTTP API, sshd messages (loghub OpenSSH) as RFC 5424
// syslog over TCP — with attacks mixed in, each from its own address in 198.18.0.0/15 (RFC 2544's benchmarking
// range): SQL injection and XSS requests, and SSH brute-force bursts whose tenth failure completes the detection.
// Latency = the alert's `created` (server wall clock) − the moment the sender handed the attack to the socket.
// Also reported: the server's own vigil_detection_latency_seconds histogram (arrival → detection).
// Run: node --import tsx bench/latency.ts [--rate 10000] [--seconds 20] [--runs 3] [--json]; with
// BENCH_SERVER_PROF=DIR the server writes a CPU profile there (node --cpu-prof), to see where its time goes.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startVigilProcess } from '../src/testing/process.js';
import { datasetsRoot, median } from './datasets.js';

/** Share of the traffic sent as syslog (sshd); the rest is access lines over HTTP. */
const SYSLOG_SHARE = 0.2;
/** Web attacks (alternately SQL injection and XSS) and brute-force bursts per second. */
const WEB_ATTACKS_PER_SECOND = 20;
const BRUTE_FORCE_PER_SECOND = 2;
const TICK_MS = 10;
const MAX_POSTS_IN_FLIGHT = 32;
const MAX_POST_LINES = 2000;

export interface LatencyRun {
  seconds: number;
  sent: number;
  /** Events/s the sender achieved. */
  rate: number;
  /** Batches the server refused (back-pressure); their events are not counted as sent. */
  refused: number;
  attacks: number;
  detected: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** CPU the server used while the traffic was sent, in cores (1 = one core busy all the time). */
  server_cores: number;
  /** The server's histogram: detections timed, and the share within 1 s. */
  histogram: { count: number; within_1s: number; p50_s: number; p99_s: number };
}

export interface LatencyBench {
  runs: LatencyRun[];
  p50_ms: number;
  p99_ms: number;
}


/** Starts `vigil start` on free ports; resolves with its URL once it says it runs. */
async function startServer(dataDir: string, token: string): Promise<{ child: ChildProcess; url: string; syslogPort: number }> {
  const [port, syslogPort] = [await freePort(), await freePort()];
  const config = join(dataDir, 'vigil.yaml');
  writeFileSync(config, 'files:\n  enabled: false\n');
  // From the sources (as the other benchmarks run), so that a stale build is never what is measured.
  const args = ['--host', '127.0.0.1', '--port', String(port), '--syslog-port', String(syslogPort), '--data-dir', dataDir, '--config', config, '--no-collect'];
  const prof = process.env.BENCH_SERVER_PROF ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_SERVER_PROF}` } : {};
  const server = await startVigilProcess(args, { VIGIL_ADMIN_TOKEN: token, VIGIL_ADMIN_PASSWORD: token, ...prof });
  return { child: server.child, url: server.url, syslogPort };
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** nginx `$time_local` in UTC. */
function timeLocal(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Real access lines cut around their time, to be sent with the current time. */
function accessTemplates(root: string): [string, string][] {
  return readFileSync(join(root, 'web-access/elastic-examples_apache_access.log'), 'utf8')
    .split('\n')
    .map((l) => /^(.*?\[)[^\]]+(\].*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]);
}

/** Real sshd messages: [pid, message]. */
function sshdMessages(root: string): [string, string][] {
  return readFileSync(join(root, 'loghub/OpenSSH/OpenSSH_2k.log'), 'utf8')
    .split('\n')
    .map((l) => /sshd\[(\d+)\]: (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!.trimEnd()]);
}

function frame(iso: string, pid: string, message: string): string {
  const text = `<86>1 ${iso} bench-host sshd ${pid} - - ${message}`;
  return `${Buffer.byteLength(text)} ${text}`;
}

const WEB_ATTACKS = [
  (ip: string, t: string) => `${ip} - - [${t}] "GET /products?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--%20- HTTP/1.1" 200 812 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"`,
  (ip: string, t: string) => `${ip} - - [${t}] "GET /search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E HTTP/1.1" 200 1290 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"`,
];

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; NaN elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Epoch milliseconds with sub-millisecond resolution. */
const now = () => performance.timeOrigin + performance.now();

/** p-th percentile (nearest rank) of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Percentile of a Prometheus histogram by linear interpolation within its buckets. */
function histogramPercentile(buckets: [number, number][], count: number, p: number): number {
  const target = (p / 100) * count;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, c] of buckets) {
    if (c >= target) return le === Infinity ? prevLe : prevLe + ((le - prevLe) * (target - prevCount)) / Math.max(1, c - prevCount);
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}

async function readHistogram(url: string, token: string): Promise<LatencyRun['histogram']> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const buckets: [number, number][] = [];
  for (const m of text.matchAll(/^vigil_detection_latency_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  const count = Number(/^vigil_detection_latency_seconds_count (\S+)$/m.exec(text)?.[1] ?? 0);
  const within = buckets.find(([le]) => le === 1)?.[1] ?? 0;
  return { count, within_1s: count > 0 ? within / count : NaN, p50_s: histogramPercentile(buckets, count, 50), p99_s: histogramPercentile(buckets, count, 99) };
}

interface AlertRow {
  entity: { field: string; value: string } | null;
  created: string;
}

async function alertsByEntity(url: string, token: string): Promise<Map<string, number>> {
  const created = new Map<string, number>();
  for (let offset = 0; ; offset += 1000) {
    const response = await fetch(`${url}/api/v1/alerts?limit=1000&offset=${offset}`, { headers: { authorization: `Bearer ${token}` } });
    const { alerts } = (await response.json()) as { alerts: AlertRow[] };
    for (const a of alerts) {
      if (!a.entity) continue;
      const t = Date.parse(a.created);
      const known = created.get(a.entity.value);
      if (known === undefined || t < known) created.set(a.entity.value, t);
    }
    if (alerts.length < 1000) return created;
  }
}

/** One run: a fresh server, `seconds` of traffic at `rate`, then the latencies of the attacks' alerts. */
async function run(root: string, rate: number, seconds: number, index: number): Promise<LatencyRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-latency-'));
  const token = `vgl_${randomBytes(24).toString('hex')}`;
  const server = await startServer(dataDir, token);
  let socket: Socket | undefined;
  try {
    const access = accessTemplates(root);
    const sshd = sshdMessages(root);
    socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: server.syslogPort }, () => resolve(s));
      s.on('error', reject);
    });
    const sentAt = new Map<string, number>();
    const posts = new Set<Promise<void>>();
    let refused = 0;
    let sentHttp = 0;
    let sentSyslog = 0;
    let webAttacks = 0;
    let bruteForces = 0;
    const post = (lines: string[], attacks: string[]) => {
      const at = now();
      for (const ip of attacks) sentAt.set(ip, at);
      const p = fetch(`${server.url}/api/v1/events?format=nginx`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: lines.join('\n') })
        .then(async (r) => {
          const body = await r.text();
          if (r.ok) sentHttp += lines.length;
          else throw new Error(`${r.status} ${body.slice(0, 200)}`);
        })
        .catch((err: unknown) => {
          // Refused (back-pressure) or cut off: its attacks are not timed.
          if (refused++ === 0) console.error(`a batch was refused: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
          for (const ip of attacks) sentAt.delete(ip);
        })
        .finally(() => posts.delete(p));
      posts.add(p);
    };
    const ip = (n: number) => `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`;
    let attacker = index * 20_000 + 1;
    const started = now();
    const cpuStart = cpuSeconds(server.child.pid);
    const end = started + seconds * 1000;
    const httpRate = rate * (1 - SYSLOG_SHARE);
    const syslogRate = rate * SYSLOG_SHARE;
    let httpDue = 0;
    let syslogDue = 0;
    let cursor = 0;
    let sshdCursor = 0;
    for (let tick = started; ; tick += TICK_MS) {
      const wait = tick - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t = Math.min(now(), end);
      if (tick >= end) break;
      const elapsed = (t - started) / 1000;
      const stamp = timeLocal(t);
      const iso = new Date(t).toISOString();
      // Access lines due by now, with the web attacks due replacing ordinary ones.
      const lines: string[] = [];
      const attacks: string[] = [];
      for (; httpDue < Math.floor(elapsed * httpRate); httpDue++) {
        if (webAttacks < Math.floor(elapsed * WEB_ATTACKS_PER_SECOND)) {
          const who = ip(attacker++);
          lines.push(WEB_ATTACKS[webAttacks % WEB_ATTACKS.length]!(who, stamp));
          attacks.push(who);
          webAttacks++;
        } else {
          const [head, tail] = access[cursor++ % access.length]!;
          lines.push(head + stamp + tail);
        }
      }
      // A sender that fell behind catches up in requests of at most MAX_POST_LINES lines, as a shipper would.
      for (let i = 0; i < lines.length; i += MAX_POST_LINES) {
        while (posts.size >= MAX_POSTS_IN_FLIGHT) await Promise.race(posts);
        const part = lines.slice(i, i + MAX_POST_LINES);
        post(part, attacks.filter((who) => part.some((l) => l.startsWith(`${who} `))));
      }
      // sshd messages due by now, a brute-force burst of ten failures replacing ten of them when one is due.
      let frames = '';
      for (; syslogDue < Math.floor(elapsed * syslogRate); syslogDue++) {
        if (bruteForces < Math.floor(elapsed * BRUTE_FORCE_PER_SECOND) && syslogDue + 10 <= Math.floor(elapsed * syslogRate)) {
          const who = ip(attacker++);
          for (let k = 0; k < 10; k++) frames += frame(iso, String(30_000 + k), `Failed password for root from ${who} port ${40_000 + k} ssh2`);
          syslogDue += 9;
          sentSyslog += 10;
          sentAt.set(who, now());
          bruteForces++;
        } else {
          const [pid, message] = sshd[sshdCursor++ % sshd.length]!;
          frames += frame(iso, pid, message);
          sentSyslog++;
        }
      }
      if (frames.length > 0 && !socket.write(frames)) await new Promise((r) => socket!.once('drain', r));
    }
    await Promise.all(posts);
    const sendSeconds = (now() - started) / 1000;
    const serverCores = (cpuSeconds(server.child.pid) - cpuStart) / sendSeconds;
    await new Promise<void>((resolve) => socket!.end(resolve));
    // Wait for the attacks' alerts (or give up after 60 s: the rest count as missed).
    let created = new Map<string, number>();
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      created = await alertsByEntity(server.url, token);
      if ([...sentAt.keys()].every((who) => created.has(who))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const latencies: number[] = [];
    for (const [who, at] of sentAt) {
      const t = created.get(who);
      if (t !== undefined) latencies.push(Math.max(0, t - at));
    }
    latencies.sort((a, b) => a - b);
    const histogram = await readHistogram(server.url, token);
    const sent = sentHttp + sentSyslog;
    return {
      seconds: sendSeconds,
      sent,
      rate: sent / sendSeconds,
      refused,
      attacks: sentAt.size,
      detected: latencies.length,
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      max_ms: latencies[latencies.length - 1] ?? NaN,
      server_cores: serverCores,
      histogram,
    };
  } finally {
    socket?.destroy();
    await stopServer(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchLatency(options: { root: string; rate: number; seconds: number; runs: number }): Promise<LatencyBench> {
  const runs: LatencyRun[] = [];
  for (let i = 0; i < options.runs; i++) runs.push(await run(options.root, options.rate, options.seconds, i));
  return { runs, p50_ms: median(runs.map((r) => r.p50_ms)), p99_ms: median(runs.map((r) => r.p99_ms)) };
}

export function printLatency(result: LatencyBench): void {
  console.table(
    result.runs.map((r, i) => ({
      run: i + 1,
      'events sent': r.sent,
      'events/s': Math.round(r.rate),
      refused: r.refused,
      'attacks → alerts': `${r.detected}/${r.attacks}`,
      'p50 ms': Math.round(r.p50_ms),
      'p99 ms': Math.round(r.p99_ms),
      'max ms': Math.round(r.max_ms),
      'server CPU (cores)': r.server_cores.toFixed(2),
      'histogram: detections': r.histogram.count,
      'histogram: ≤ 1 s': `${(100 * r.histogram.within_1s).toFixed(1)}%`,
      'histogram p50/p99 s': `${r.histogram.p50_s.toFixed(3)} / ${r.histogram.p99_s.toFixed(3)}`,
    })),
  );
  console.log(`send → alert, median over ${result.runs.length} runs: p50 ${Math.round(result.p50_ms)} ms, p99 ${Math.round(result.p99_ms)} ms (goal: p99 < 1000 ms)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const result = await benchLatency({ root: datasetsRoot(), rate: arg('rate', 10_000), seconds: arg('seconds', 20), runs: arg('runs', 3) });
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else printLatency(result);
}
