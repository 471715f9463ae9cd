// The process collector (`host.process`): process starts and stops as events (pid, parent, executable, command
// line, user), and every interval the top consumers of CPU and memory as metrics. Starts and stops come from a
// cheap frequent check of the pid list (Linux: one readdir of /proc per second), so that short jobs are seen;
// a process that lives less than one check is still missed (only kernel auditing sees every exec).
import { performance } from 'node:perf_hooks';
import { IntervalCollector, round4, type CollectorContext } from './collector.js';
import type { ProcessDetails, ProcessEntry, ProcessReader } from './types.js';

export interface ProcessOptions {
  /** How often the top consumers are reported. */
  intervalMs: number;
  /** How often the process list is checked for starts and stops (where that is cheap; else every interval). */
  scanIntervalMs?: number;
  /** How many top consumers of CPU and of memory are reported each interval; 0 turns them off. */
  top?: number;
}

const DATASET = 'host.process';

interface Known {
  entry: ProcessEntry;
  details: ProcessDetails;
}

export class ProcessCollector extends IntervalCollector {
  private readonly topN: number;
  private readonly topEveryMs: number;
  private known = new Map<number, Known>();
  private baseline = false;
  private lastTopAt = -Infinity;
  /** CPU seconds of each process (by pid and start) at the last top sample, and when. */
  private lastCpu = new Map<string, number>();
  private lastCpuAt = 0;
  private memoryTotal = 0;

  constructor(
    context: CollectorContext,
    private readonly reader: ProcessReader,
    options: ProcessOptions,
  ) {
    // Where the pid list is cheap to read the collector ticks at the scan interval and reports the top every interval.
    super('host.process', context, reader.pids ? Math.min(options.scanIntervalMs ?? 1000, options.intervalMs) : options.intervalMs);
    this.topN = options.top ?? 5;
    this.topEveryMs = options.intervalMs;
  }

  protected override details(): Record<string, unknown> {
    return { processes: this.known.size, top_interval_seconds: this.topEveryMs / 1000 };
  }

  protected async collect(): Promise<Record<string, unknown>[]> {
    const now = performance.now();
    const dueTop = !this.baseline || now - this.lastTopAt >= this.topEveryMs - this.intervalMs / 2;
    if (!dueTop && this.reader.pids && this.reader.entry) return this.quickScan();
    const entries = await this.reader.list();
    const docs = await this.diff(entries);
    if (this.topN > 0) {
      if (this.memoryTotal === 0) this.memoryTotal = await this.reader.memoryTotal().catch(() => 0);
      for (const doc of this.top(entries, now)) docs.push(doc);
    }
    this.lastTopAt = now;
    return docs;
  }

  /** The frequent check: only new pids are read; pids that vanished stopped. */
  private async quickScan(): Promise<Record<string, unknown>[]> {
    const pids = this.reader.pids!();
    const seen = new Set(pids);
    const timestamp = new Date(this.clock.now()).toISOString();
    const docs: Record<string, unknown>[] = [];
    for (const [pid, known] of this.known) {
      if (!seen.has(pid)) {
        this.known.delete(pid);
        docs.push(this.stopEvent(known, timestamp));
      }
    }
    const fresh: ProcessEntry[] = [];
    for (const pid of pids) {
      if (this.known.has(pid)) continue;
      const entry = this.reader.entry!(pid);
      if (entry) fresh.push(entry);
    }
    // Parents first, so a child started in the same check can name its parent.
    fresh.sort((a, b) => a.pid - b.pid);
    for (const entry of fresh) docs.push(await this.started(entry, timestamp));
    return docs;
  }

  private async started(entry: ProcessEntry, timestamp: string): Promise<Record<string, unknown>> {
    const details = await this.reader.details(entry);
    const known = { entry, details };
    this.known.set(entry.pid, known);
    return this.startEvent(known, timestamp);
  }

  /** Compares a full listing with what is known: starts, stops, and pids reused by a new process. */
  private async diff(entries: ProcessEntry[]): Promise<Record<string, unknown>[]> {
    const timestamp = new Date(this.clock.now()).toISOString();
    const docs: Record<string, unknown>[] = [];
    const current = new Map(entries.map((e) => [e.pid, e]));
    const firstTime = !this.baseline;
    for (const [pid, known] of this.known) {
      const now = current.get(pid);
      if (!now || now.startKey !== known.entry.startKey) {
        this.known.delete(pid);
        docs.push(this.stopEvent(known, timestamp));
      }
    }
    // Parents first, so a child started since the last look can name its parent.
    for (const entry of [...entries].sort((a, b) => a.pid - b.pid)) {
      const known = this.known.get(entry.pid);
      if (known) {
        known.entry = entry;
        continue;
      }
      // The first listing is the baseline: what already runs is learned (details included, for its stop event) but not reported.
      const k = { entry, details: await this.reader.details(entry) };
      this.known.set(entry.pid, k);
      if (!firstTime) docs.push(this.startEvent(k, timestamp));
    }
    this.baseline = true;
    return docs;
  }

  private processFields(known: Known): Record<string, unknown> {
    const { entry, details } = known;
    const parent = this.known.get(entry.ppid);
    const process: Record<string, unknown> = {
      pid: entry.pid,
      name: entry.name,
      parent: { pid: entry.ppid, ...(parent ? { name: parent.entry.name, ...(parent.details.executable ? { executable: parent.details.executable } : {}) } : {}) },
    };
    if (details.executable) process.executable = details.executable;
    if (details.commandLine) process.command_line = details.commandLine;
    if (details.args) {
      process.args = details.args;
      process.args_count = details.args.length;
    }
    if (details.workingDirectory) process.working_directory = details.workingDirectory;
    if (entry.start !== undefined) process.start = new Date(entry.start).toISOString();
    return process;
  }

  private userFields(known: Known): Record<string, unknown> {
    const uid = known.details.uid ?? known.entry.uid;
    const name = known.details.userName ?? (uid !== undefined ? this.reader.userName(uid) : undefined);
    if (uid === undefined && !name) return {};
    return { user: { ...(uid !== undefined ? { id: String(uid) } : {}), ...(name ? { name } : {}) } };
  }

  private describe(known: Known): string {
    const user = known.details.userName ?? (known.details.uid !== undefined ? `uid ${known.details.uid}` : 'unknown user');
    return `${known.entry.name} (pid ${known.entry.pid}, parent ${known.entry.ppid}, ${user})${known.details.commandLine ? `: ${known.details.commandLine}` : ''}`;
  }

  private startEvent(known: Known, timestamp: string): Record<string, unknown> {
    return {
      '@timestamp': timestamp,
      event: { kind: 'event', dataset: DATASET, module: 'host', category: ['process'], type: ['start'], action: 'process_started' },
      message: `process started: ${this.describe(known)}`,
      process: this.processFields(known),
      ...this.userFields(known),
    };
  }

  private stopEvent(known: Known, timestamp: string): Record<string, unknown> {
    const process = this.processFields(known);
    process.end = timestamp;
    if (known.entry.start !== undefined) process.uptime = Math.max(0, Math.round((Date.parse(timestamp) - known.entry.start) / 1000));
    return {
      '@timestamp': timestamp,
      event: { kind: 'event', dataset: DATASET, module: 'host', category: ['process'], type: ['end'], action: 'process_stopped' },
      message: `process stopped: ${this.describe(known)}`,
      process,
      ...this.userFields(known),
    };
  }

  /** The top consumers of CPU (since the last top sample) and of resident memory, one metric event each. */
  private top(entries: ProcessEntry[], now: number): Record<string, unknown>[] {
    const seconds = (now - this.lastCpuAt) / 1000;
    const wall = this.clock.now();
    const cpuShare = new Map<number, number>();
    const nextCpu = new Map<string, number>();
    for (const e of entries) {
      const key = `${e.pid}|${e.startKey}`;
      if (e.cpuSeconds !== undefined) {
        nextCpu.set(key, e.cpuSeconds);
        const before = this.lastCpu.get(key);
        if (before !== undefined && seconds > 0) cpuShare.set(e.pid, Math.max(0, e.cpuSeconds - before) / seconds);
        else if (before === undefined && e.start !== undefined && wall > e.start && this.lastCpuAt > 0) {
          // Started since the last sample: its average over its life.
          cpuShare.set(e.pid, e.cpuSeconds / Math.max(seconds, (wall - e.start) / 1000));
        }
      } else if (e.cpuPct !== undefined) {
        cpuShare.set(e.pid, e.cpuPct);
      }
    }
    this.lastCpu = nextCpu;
    this.lastCpuAt = now;
    if (cpuShare.size === 0 && entries.every((e) => e.cpuPct === undefined) && seconds <= 0) return [];

    const byCpu = [...entries].filter((e) => cpuShare.has(e.pid)).sort((a, b) => cpuShare.get(b.pid)! - cpuShare.get(a.pid)!).slice(0, this.topN);
    const byMemory = [...entries].sort((a, b) => b.rssBytes - a.rssBytes).slice(0, this.topN);
    const chosen = new Map<number, { entry: ProcessEntry; top: string[] }>();
    for (const e of byCpu) chosen.set(e.pid, { entry: e, top: ['cpu'] });
    for (const e of byMemory) {
      const c = chosen.get(e.pid);
      if (c) c.top.push('memory');
      else chosen.set(e.pid, { entry: e, top: ['memory'] });
    }
    const timestamp = new Date(wall).toISOString();
    const docs: Record<string, unknown>[] = [];
    for (const { entry, top } of chosen.values()) {
      const known = this.known.get(entry.pid) ?? { entry, details: {} };
      const share = cpuShare.get(entry.pid);
      docs.push({
        '@timestamp': timestamp,
        event: { kind: 'metric', dataset: DATASET, module: 'host', category: ['process'], type: ['info'] },
        metricset: { name: 'process', period: this.topEveryMs },
        process: this.processFields(known),
        ...this.userFields(known),
        system: {
          process: {
            ...(share !== undefined ? { cpu: { total: { pct: round4(share), norm: { pct: round4(share / this.reader.cores) } } } } : {}),
            memory: { rss: { bytes: entry.rssBytes, ...(this.memoryTotal > 0 ? { pct: round4(entry.rssBytes / this.memoryTotal) } : {}) } },
            top,
          },
        },
      });
    }
    return docs;
  }
}
