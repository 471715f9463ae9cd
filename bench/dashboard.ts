// Dashboard benchmark: how long the Overview takes to load in Chromium over a store of N synthetic events (the
// search benchmark's sshd and web events over 30 days): from navigation until every panel shows its figures.
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
}

/** The synthetic data ends here (bench/search.ts). */
const END = '2024-06-01T00:00:00.000Z';

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
  const browser = await launchBrowser();
  const rows: DashboardRow[] = [];
  try {
    const page = await browser.newPage();
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
      let total = 0;
      for (let i = 0; i < opts.runs + 1; i++) {
        await page.goto('about:blank');
        const started = performance.now();
        await page.goto(`${runtime.url}/overview?from=${encodeURIComponent(v.from)}&to=${encodeURIComponent(END)}`);
        // Loaded: every panel shows its figures — the events chart, the counts, the three top lists, the severity
        // bars and the anomaly scores — and none is still loading.
        await page.waitForFunction(overviewLoaded, undefined, { timeout: 120_000, polling: 'raf' });
        const elapsed = performance.now() - started;
        if (i > 0) runs.push(elapsed); // the first load warms DuckDB's caches and the browser's
        total = Number((await page.getByTestId('stat-events').locator('.stat-value').textContent())?.replace(/[^\d.]/g, '') ?? 0);
      }
      rows.push({ view: v.view, events_in_range: total, median_ms: Math.round(median(runs)), runs: runs.map(Math.round) });
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
  } finally {
    if (!kept) rmSync(dir, { recursive: true, force: true });
  }
}
