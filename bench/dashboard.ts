// Dashboard benchmark: how long the Overview takes to load in Chromium over a store of N synthetic events (the
// search benchmark's sshd and web events over 30 days): from navigation until every panel shows its figures, and how
// long each API call of the page took as the browser saw it.
// Run: node --import tsx bench/dashboard.ts --events 10000000 [--runs 5] [--dir DIR (kept) [--reuse]]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/config.js';
import { startRuntime } from '../src/pipeline/runtime.js';
import { openStore } from '../src/store/index.js';
import { CHROMIUM, launchBrowser } from '../test/ui/browser.js';
import { ingest } from './search.js';

export interface DashboardRow {
  view: string;
  events_in_range: number;
  median_ms: number;
  runs: number[];
  /** Median ms of each API call of the page (by path and field), over the measured loads. */
  calls: Record<string, number>;
}

/**
 * The ranges end 7 min 13.5 s before the synthetic data does (bench/search.ts), as a range ending "now" falls between
 * minutes, hours and days: its edges are read from the events, not from rollups.
 */
const END = new Date(Date.parse('2024-06-01T00:00:00.000Z') - 433_500).toISOString();

/**
 * True once every Overview panel shows its figures — the events chart, the counts, the three top lists, the severity
 * bars and the anomaly scores — and none is still loading. (No named inner functions: tsx would wrap them in a helper
 * that does not exist in the page.)
 */
function overviewLoaded(): boolean {
  const panels: [string, string][] = [
    ['events-over-time', 'canvas'],
    ['top-source.ip', '.barlist li'],
    ['top-user.name', '.barlist li'],
    ['top-host.name', '.barlist li'],
    ['anomaly-scores', 'canvas'],
  ];
  for (const [testid, content] of panels) {
    const panel = document.querySelector(`[data-testid="${testid}"]`);
    if (panel === null || panel.querySelector('.state-loading') !== null || panel.querySelector(`${content}, .state-empty`) === null) return false;
  }
  for (const testid of ['stat-events', 'stat-alerts', 'stat-incidents']) {
    if (!/\d/.test(document.querySelector(`[data-testid="${testid}"] .stat-value`)?.textContent ?? '')) return false;
  }
  return document.querySelectorAll('.sevbars li').length === 5;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function benchDashboard(opts: { events: number; dir: string; runs: number; reuse?: boolean }): Promise<DashboardRow[]> {
  if (!existsSync(CHROMIUM)) throw new Error('bench/dashboard needs Debian chromium (/usr/bin/chromium)');
  if (opts.reuse !== true) {
    const store = await openStore({ engine: 'duckdb', dir: opts.dir });
    try {
      await ingest(store, opts.events);
    } finally {
      await store.close();
    }
  }
  const password = 'bench-password-1';
  const config = parseConfig({ port: 0, data_dir: opts.dir, collect: false, files: { enabled: false }, syslog: { port: 0 }, retention: { max_age_days: 0 } });
  const runtime = await startRuntime(config, { env: { VIGIL_ADMIN_PASSWORD: password } });
  // The store's work on opening comes first (building rollups for a store written without them): stats waits for it.
  const opened = performance.now();
  await runtime.store.stats();
  const openMs = performance.now() - opened;
  if (openMs > 1000) console.error(`dashboard: the store finished opening ${Math.round(openMs)} ms after the server started`);
  const browser = await launchBrowser();
  const rows: DashboardRow[] = [];
  try {
    const page = await browser.newPage();
    // Each API call's duration from request to the response's end, by what it asks (path and field).
    let calls: Record<string, number[]> = {};
    page.on('requestfinished', (request) => {
      const url = new URL(request.url());
      if (!url.pathname.startsWith('/api/v1/') || url.pathname === '/api/v1/stream') return;
      const p = url.searchParams;
      const what = [url.pathname.slice('/api/v1/'.length), p.get('field'), p.get('by') && `by ${p.get('by')}`, p.get('q') && `q=${p.get('q')}`]
        .filter(Boolean)
        .join(' ');
      const timing = request.timing();
      if (timing.responseEnd > 0) (calls[what] ??= []).push(timing.responseEnd);
    });
    await page.goto(`${runtime.url}/login`);
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
    await page.getByTestId('page-overview').waitFor();
    const views = [
      { view: 'Overview, last 24 h', from: new Date(Date.parse(END) - 86_400_000).toISOString() },
      { view: 'Overview, last 7 days', from: new Date(Date.parse(END) - 7 * 86_400_000).toISOString() },
      { view: 'Overview, all 30 days', from: new Date(Date.parse(END) - 30 * 86_400_000).toISOString() },
    ];
    for (const v of views) {
      const runs: number[] = [];
      const perCall: Record<string, number[]> = {};
      let total = 0;
      for (let i = 0; i < opts.runs + 1; i++) {
        await page.goto('about:blank');
        calls = {};
        const started = performance.now();
        await page.goto(`${runtime.url}/overview?from=${encodeURIComponent(v.from)}&to=${encodeURIComponent(END)}`);
        // Loaded: every panel shows its figures — the events chart, the counts, the three top lists, the severity
        // bars and the anomaly scores — and none is still loading.
        await page.waitForFunction(overviewLoaded, undefined, { timeout: 120_000, polling: 'raf' });
        const elapsed = performance.now() - started;
        if (i > 0) {
          // The first load warms DuckDB's caches and the browser's.
          runs.push(elapsed);
          for (const [what, times] of Object.entries(calls)) (perCall[what] ??= []).push(...times);
        }
        total = Number((await page.getByTestId('stat-events').locator('.stat-value').textContent())?.replace(/[^\d.]/g, '') ?? 0);
      }
      const medians = Object.entries(perCall).map(([what, times]) => [what, Math.round(median(times))] as const);
      rows.push({ view: v.view, events_in_range: total, median_ms: Math.round(median(runs)), runs: runs.map(Math.round), calls: Object.fromEntries(medians) });
    }
  } finally {
    await browser.close();
    await runtime.close();
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const events = Number(arg('--events') ?? 1_000_000);
  const runs = Number(arg('--runs') ?? 5);
  const kept = arg('--dir');
  const dir = kept ?? mkdtempSync(join(tmpdir(), 'vigil-bench-dashboard-'));
  try {
    const rows = await benchDashboard({ events, dir, runs, reuse: process.argv.includes('--reuse') });
    console.log(`\n== Dashboard over ${events.toLocaleString('en-US')} stored events: Overview load in Chromium (median of ${runs}) ==`);
    console.table(rows.map((r) => ({ view: r.view, 'events in range': r.events_in_range, 'median ms': r.median_ms, runs: r.runs.join(' ') })));
    console.log('\nEach API call of the Overview, median ms from request to the end of its response:');
    const names = [...new Set(rows.flatMap((r) => Object.keys(r.calls)))].sort();
    console.table(names.map((name) => ({ call: name, ...Object.fromEntries(rows.map((r) => [r.view.replace('Overview, ', ''), r.calls[name] ?? ''])) })));
  } finally {
    if (!kept) rmSync(dir, { recursive: true, force: true });
  }
}
