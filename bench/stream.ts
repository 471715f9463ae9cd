// Live stream benchmark: while raw sshd and nginx lines arrive through the HTTP input at a target rate (10,000
// events/s by default), what does a dashboard receive over GET /api/v1/stream (messages and bytes per second, by
// type), and how smooth is the Overview page in Chromium (frame intervals, long tasks)? The same page is measured
// idle first, side by side in one run.
// Run: node --import tsx bench/stream.ts [--rate 10000] [--seconds 20]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/config.js';
import { startRuntime, type Runtime } from '../src/pipeline/runtime.js';
import { CHROMIUM, launchBrowser } from '../test/ui/browser.js';

export interface StreamPhase {
  phase: string;
  /** Events accepted by the HTTP input per second (0 when idle). */
  events_per_s: number;
  messages_per_s: number;
  bytes_per_s: number;
  by_type: Record<string, number>;
  frame_p50_ms: number;
  frame_p95_ms: number;
  frame_p99_ms: number;
  frame_max_ms: number;
  /** Main-thread tasks over 50 ms (the Long Tasks API). */
  long_tasks: number;
  long_task_ms: number;
  refused_batches: number;
}

const PASSWORD = 'bench-password-1';
const ATTACKERS = ['203.0.113.7', '203.0.113.66', '198.51.100.23', '198.51.100.140', '192.0.2.55'];

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Raw lines as real senders send them: sshd messages (some brute force, so alerts change) and nginx access lines. */
function lines(kind: 'sshd' | 'nginx', count: number, seq: number): string {
  const out: string[] = [];
  const now = new Date();
  const stamp = now.toUTCString().slice(5, 25); // 21 Nov 2026 14:00:00
  const [day, month, year, clock] = stamp.split(' ') as [string, string, string, string];
  for (let i = 0; i < count; i++) {
    const n = seq * count + i;
    if (kind === 'sshd') {
      const ip = n % 5 === 0 ? ATTACKERS[n % ATTACKERS.length]! : `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      out.push(n % 7 === 0 ? `Accepted publickey for deploy from ${ip} port ${1024 + (n % 60000)} ssh2` : `Failed password for ${n % 3 ? 'root' : 'admin'} from ${ip} port ${1024 + (n % 60000)} ssh2`);
    } else {
      const ip = `172.16.${(n >> 8) & 255}.${n & 255}`;
      out.push(`${ip} - - [${day}/${month}/${year}:${clock} +0000] "GET /products/${n % 500}?page=${n % 7} HTTP/1.1" ${n % 50 === 0 ? 404 : 200} ${800 + (n % 40000)} "-" "Mozilla/5.0 (X11; Linux x86_64) Chrome/129.0"`);
    }
  }
  return out.join('\n');
}

/** Reads the SSE stream like a page does, counting messages by event name and bytes. */
function listen(url: string, token: string): { stop: () => void; take: () => { bytes: number; byType: Record<string, number> } } {
  const controller = new AbortController();
  let bytes = 0;
  let byType: Record<string, number> = {};
  void (async () => {
    const res = await fetch(`${url}/api/v1/stream`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    const decoder = new TextDecoder();
    let rest = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      rest += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = rest.indexOf('\n\n')) >= 0) {
        const message = rest.slice(0, end);
        rest = rest.slice(end + 2);
        const name = /^event: (\S+)$/m.exec(message)?.[1];
        if (name) byType[name] = (byType[name] ?? 0) + 1;
      }
    }
  })().catch(() => undefined);
  return {
    stop: () => controller.abort(),
    take: () => {
      const out = { bytes, byType };
      bytes = 0;
      byType = {};
      return out;
    },
  };
}

/** Sends `rate` events per second for `seconds` through the HTTP input, in 100 ms ticks; answers events accepted. */
async function send(runtime: Runtime, token: string, rate: number, seconds: number): Promise<{ accepted: number; refused: number }> {
  const perTick = Math.round(rate / 10);
  const half = Math.floor(perTick / 2);
  let accepted = 0;
  let refused = 0;
  const post = async (format: string, body: string) => {
    const res = await fetch(`${runtime.url}/api/v1/events?format=${format}&host=web-1`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body });
    if (res.ok) accepted += ((await res.json()) as { accepted: number }).accepted;
    else {
      refused++;
      await res.text();
    }
  };
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let tick = 0; tick < seconds * 10; tick++) {
    pending.push(post('sshd', lines('sshd', half, tick)), post('nginx', lines('nginx', perTick - half, tick)));
    // Keep the schedule: each tick starts at its time, whether or not the previous answers came.
    const wait = started + (tick + 1) * 100 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(pending);
  return { accepted, refused };
}

export async function benchStream(opts: { rate: number; seconds: number }): Promise<StreamPhase[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-stream-'));
  const config = parseConfig({ port: 0, data_dir: dir, collect: false, files: { enabled: false }, syslog: { port: 0 } });
  const runtime = await startRuntime(config, { env: { VIGIL_ADMIN_PASSWORD: PASSWORD } });
  const { token } = runtime.credentials.createToken('bench', 'admin');
  const browser = await launchBrowser();
  const phases: StreamPhase[] = [];
  // The runtime logs each incident it opens; at this rate those lines would bury the table.
  const log = console.log;
  console.log = () => undefined;
  try {
    const page = await browser.newPage();
    await page.goto(`${runtime.url}/login`);
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.getByTestId('page-overview').waitFor();
    await page.goto(`${runtime.url}/overview?from=now-15m`);
    await page.getByTestId('page-overview').waitFor();
    // Frame intervals from requestAnimationFrame, and long tasks. (Functions are assigned to properties, not named:
    // tsx would wrap named ones in a helper that does not exist in the page.)
    await page.evaluate(() => {
      const w = window as unknown as { __frames: number[]; __long: number[]; __last: number; __frame: (t: number) => void };
      w.__frames = [];
      w.__long = [];
      w.__last = performance.now();
      w.__frame = function (t: number) {
        w.__frames.push(t - w.__last);
        w.__last = t;
        requestAnimationFrame(w.__frame);
      };
      requestAnimationFrame(w.__frame);
      new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__long.push(e.duration))).observe({ type: 'longtask' });
    });
    const stream = listen(runtime.url, token);
    const measure = async (phase: string, run: () => Promise<{ accepted: number; refused: number }>) => {
      await page.evaluate(() => {
        const w = window as unknown as { __frames: number[]; __long: number[] };
        w.__frames = [];
        w.__long = [];
      });
      stream.take();
      const started = performance.now();
      const { accepted, refused } = await run();
      const seconds = (performance.now() - started) / 1000;
      const got = stream.take();
      const { frames, long } = await page.evaluate(() => {
        const w = window as unknown as { __frames: number[]; __long: number[] };
        return { frames: w.__frames.slice(1), long: w.__long };
      });
      const messages = Object.values(got.byType).reduce((a, b) => a + b, 0);
      phases.push({
        phase,
        events_per_s: Math.round(accepted / seconds),
        messages_per_s: Math.round((messages / seconds) * 10) / 10,
        bytes_per_s: Math.round(got.bytes / seconds),
        by_type: Object.fromEntries(Object.entries(got.byType).map(([k, v]) => [k, Math.round((v / seconds) * 10) / 10])),
        frame_p50_ms: Math.round(quantile(frames, 0.5) * 10) / 10,
        frame_p95_ms: Math.round(quantile(frames, 0.95) * 10) / 10,
        frame_p99_ms: Math.round(quantile(frames, 0.99) * 10) / 10,
        frame_max_ms: Math.round(Math.max(0, ...frames)),
        long_tasks: long.length,
        long_task_ms: Math.round(long.reduce((a, b) => a + b, 0)),
        refused_batches: refused,
      });
    };
    await measure('idle', async () => {
      await new Promise((r) => setTimeout(r, opts.seconds * 500));
      return { accepted: 0, refused: 0 };
    });
    await measure(`ingesting ${opts.rate.toLocaleString('en-US')} ev/s`, () => send(runtime, token, opts.rate, opts.seconds));
    stream.stop();
  } finally {
    console.log = log;
    await browser.close();
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return phases;
}

export function printStream(rows: StreamPhase[]): void {
  console.table(
    rows.map((r) => ({
      phase: r.phase,
      'accepted ev/s': r.events_per_s.toLocaleString('en-US'),
      'stream msg/s': r.messages_per_s,
      'stream KiB/s': (r.bytes_per_s / 1024).toFixed(1),
      'msg/s by type': Object.entries(r.by_type)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
      'frame p50/p95/p99/max ms': `${r.frame_p50_ms} / ${r.frame_p95_ms} / ${r.frame_p99_ms} / ${r.frame_max_ms}`,
      'long tasks (ms)': `${r.long_tasks} (${r.long_task_ms})`,
      'refused batches': r.refused_batches,
    })),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!(await import('node:fs')).existsSync(CHROMIUM)) throw new Error('bench/stream needs Debian chromium (/usr/bin/chromium)');
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const rate = Number(arg('--rate') ?? 10_000);
  const seconds = Number(arg('--seconds') ?? 20);
  console.log(`\n== Live stream while ${rate.toLocaleString('en-US')} events/s arrive: what the Overview receives, and its frame times in Chromium ==`);
  printStream(await benchStream({ rate, seconds }));
}
