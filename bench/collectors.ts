// CPU and memory of the host collectors at their default intervals: a child process runs them all for a while
// (60 s; 20 s with --quick) side by side with an idle child that loaded the same code and a bare Node; the parent
// reads them from /proc: CPU as a share of one core (utime + stime over wall time, median of windows) and RSS
// (median of samples). The children run compiled JavaScript, as `vigil` does (a TypeScript loader would add its own).
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './datasets.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Inside node_modules, so that the compiled code resolves its dependencies from the project's node_modules. */
const BUILD = join(REPO, 'node_modules/.cache/vigil-bench');
const CHILD = join(BUILD, 'bench/collectors-child.js');
/** A Node process that loads nothing and waits. */
const BARE = join(BUILD, 'bare-child.mjs');
/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat (see src/sources/host/linux/processes.ts). */
const CLK_TCK = 100;

export interface CollectorsRow {
  process: string;
  cpu_pct_of_core: number;
  rss_mb: number;
  events: number;
}

function cpuTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

function rssBytes(pid: number): number {
  const m = /\nVmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) * 1024 : 0;
}

function start(mode: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // No execArgv: the parent's --import tsx would load the TypeScript loader into the children too.
    const child = fork(mode === 'bare' ? BARE : CHILD, [mode], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', () => resolve(child));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the ${mode} child exited with ${code}`)));
  });
}

function ask(child: ChildProcess): Promise<{ events: number; bytes: number; collectors: { name: string; ok: boolean }[] }> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as never));
    child.send('report');
  });
}

export async function benchCollectors(options: { seconds: number; warmupSeconds: number; windowSeconds: number }): Promise<{ rows: CollectorsRow[]; collectors: { name: string; ok: boolean }[] }> {
  if (process.platform !== 'linux') throw new Error('the collectors bench reads /proc: Linux only');
  execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.json'), '--outDir', BUILD], { stdio: 'inherit' });
  writeFileSync(BARE, "process.on('message', () => process.send({ events: 0, bytes: 0, collectors: [] }));\nsetInterval(() => undefined, 1 << 30);\nprocess.send({ ready: true });\n");
  const children = { bare: await start('bare'), idle: await start('idle'), collect: await start('collect') };
  type Name = keyof typeof children;
  const names = Object.keys(children) as Name[];
  try {
    await new Promise((resolve) => setTimeout(resolve, options.warmupSeconds * 1000));
    const cpu: Record<Name, number[]> = { bare: [], idle: [], collect: [] };
    const rss: Record<Name, number[]> = { bare: [], idle: [], collect: [] };
    const windows = Math.max(1, Math.round(options.seconds / options.windowSeconds));
    for (let w = 0; w < windows; w++) {
      const t0 = performance.now();
      const ticks0 = Object.fromEntries(names.map((n) => [n, cpuTicks(children[n].pid!)])) as Record<Name, number>;
      for (let s = 0; s < options.windowSeconds; s++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        for (const n of names) rss[n].push(rssBytes(children[n].pid!));
      }
      const seconds = (performance.now() - t0) / 1000;
      for (const n of names) cpu[n].push((cpuTicks(children[n].pid!) - ticks0[n]) / CLK_TCK / seconds);
    }
    const report = await ask(children.collect);
    const row = (process: string, n: Name, events: number): CollectorsRow => ({ process, cpu_pct_of_core: 100 * median(cpu[n]), rss_mb: median(rss[n]) / 1048576, events });
    const rows = [row('bare Node, idle', 'bare', 0), row('idle Node with the collectors code loaded', 'idle', 0), row('all collectors at default intervals', 'collect', report.events)];
    rows.push({ process: 'the collectors\' own cost (difference)', cpu_pct_of_core: rows[2]!.cpu_pct_of_core - rows[1]!.cpu_pct_of_core, rss_mb: rows[2]!.rss_mb - rows[1]!.rss_mb, events: report.events });
    return { rows, collectors: report.collectors };
  } finally {
    for (const n of names) children[n].kill();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const { rows, collectors } = await benchCollectors(quick ? { seconds: 20, warmupSeconds: 3, windowSeconds: 5 } : { seconds: 60, warmupSeconds: 5, windowSeconds: 10 });
  console.table(rows.map((r) => ({ process: r.process, 'CPU % of one core': r.cpu_pct_of_core.toFixed(2), 'RSS MB': r.rss_mb.toFixed(1), events: r.events })));
  console.log(`collectors: ${collectors.map((c) => `${c.name} ${c.ok ? 'ok' : 'failing'}`).join(', ')}`);
}
