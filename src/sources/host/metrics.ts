// The resources collector (`host.metrics`): CPU (total and per core), load, memory and swap, and per mount the disk
// usage and I/O, every interval. Field names are Metricbeat's system module's (`system.cpu.*`, `system.memory.*` …),
// with ECS `host.cpu.usage` and `host.disk.*` beside them.
import { performance } from 'node:perf_hooks';
import { IntervalCollector, round4, type CollectorContext } from './collector.js';
import type { CpuTimes, DiskCounters, MetricsReader } from './types.js';

export interface MetricsOptions {
  intervalMs: number;
  /** One `metricset.name: core` event per core per sample; default true. */
  perCore?: boolean;
  /** Host fields of the per-sample `system` event (os, architecture). */
  hostInfo?: Record<string, unknown>;
}

const DATASET = 'host.metrics';
const CPU_STATES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

function sum(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

function delta(a: CpuTimes, b: CpuTimes): CpuTimes {
  const out = {} as CpuTimes;
  for (const k of CPU_STATES) out[k] = Math.max(0, a[k] - b[k]);
  return out;
}

/** Shares of each state over a period (0..1), and `total`: everything but idle and iowait (Metricbeat's definition). */
function shares(d: CpuTimes): Record<string, number> | undefined {
  const all = sum(d);
  if (!(all > 0)) return undefined;
  const out: Record<string, number> = {};
  for (const k of CPU_STATES) out[k] = d[k] / all;
  out.total = (all - d.idle - d.iowait) / all;
  return out;
}

function pct(value: number): number {
  return round4(value);
}

export class MetricsCollector extends IntervalCollector {
  private readonly perCore: boolean;
  private readonly hostInfo: Record<string, unknown>;
  private previousCpu: { total: CpuTimes; cores: CpuTimes[] } | undefined;
  private previousDisks = new Map<string, DiskCounters>();
  private disksAt = 0;

  constructor(
    context: CollectorContext,
    private readonly reader: MetricsReader,
    options: MetricsOptions,
  ) {
    super('host.metrics', context, options.intervalMs);
    this.perCore = options.perCore ?? true;
    this.hostInfo = options.hostInfo ?? {};
  }

  protected async collect(): Promise<Record<string, unknown>[]> {
    const timestamp = new Date(this.clock.now()).toISOString();
    const event = { kind: 'metric', dataset: DATASET, module: 'host', category: ['host'], type: ['info'] };
    const docs: Record<string, unknown>[] = [];
    const failures: string[] = [];
    const part = async <T>(name: string, read: () => Promise<T>): Promise<T | undefined> => {
      try {
        const value = await read();
        this.problems.unnote(name);
        return value;
      } catch (err) {
        failures.push(`${name}: ${(err as Error).message}`);
        return undefined;
      }
    };

    const cpu = await part('cpu', () => this.reader.cpu());
    const load = await part('load', () => this.reader.load());
    const memory = await part('memory', () => this.reader.memory());
    const disks = await part('diskio', () => this.reader.disks());
    const filesystems = await part('filesystem', () => this.reader.filesystems());
    if (!cpu && !memory) throw new Error(`cannot read CPU or memory figures (${failures.join('; ')})`);
    for (const failure of failures) this.problems.note(failure.slice(0, failure.indexOf(':')), `cannot read ${failure}`);
    for (const [key, note] of this.reader.notes ?? []) this.problems.note(`reader:${key}`, note);

    const system: Record<string, unknown> = {};
    const host: Record<string, unknown> = { ...this.hostInfo };
    const cores = cpu ? Math.max(1, cpu.cores.length) : undefined;
    if (cpu && this.previousCpu) {
      const total = shares(delta(cpu.total, this.previousCpu.total));
      if (total && cores) {
        const cpuFields: Record<string, unknown> = { cores };
        for (const [k, v] of Object.entries(total)) cpuFields[k] = { pct: pct(v * cores), norm: { pct: pct(v) } };
        system.cpu = cpuFields;
        host.cpu = { usage: pct(total.total ?? 0) };
      }
      if (this.perCore) {
        cpu.cores.forEach((times, id) => {
          const before = this.previousCpu!.cores[id];
          const s = before ? shares(delta(times, before)) : undefined;
          if (!s) return;
          const core: Record<string, unknown> = { id };
          for (const [k, v] of Object.entries(s)) core[k] = { pct: pct(v) };
          docs.push({ '@timestamp': timestamp, event, metricset: { name: 'core', period: this.intervalMs }, system: { core } });
        });
      }
    } else if (cores) {
      system.cpu = { cores };
    }
    if (cpu) this.previousCpu = cpu;

    if (load) {
      const n = cores ?? 1;
      system.load = { '1': load[0], '5': load[1], '15': load[2], norm: { '1': pct(load[0] / n), '5': pct(load[1] / n), '15': pct(load[2] / n) }, cores: n };
    }
    if (memory) {
      const used = memory.total - memory.free;
      const actualUsed = memory.total - memory.available;
      const swapUsed = memory.swapTotal - memory.swapFree;
      system.memory = {
        total: memory.total,
        free: memory.free,
        used: { bytes: used, pct: memory.total > 0 ? pct(used / memory.total) : 0 },
        actual: { free: memory.available, used: { bytes: actualUsed, pct: memory.total > 0 ? pct(actualUsed / memory.total) : 0 } },
        swap: { total: memory.swapTotal, free: memory.swapFree, used: { bytes: swapUsed, pct: memory.swapTotal > 0 ? pct(swapUsed / memory.swapTotal) : 0 } },
      };
    }

    if (disks) {
      const now = performance.now();
      const seconds = (now - this.disksAt) / 1000;
      const previous = this.previousDisks;
      this.previousDisks = new Map(disks.map((d) => [d.name, d]));
      this.disksAt = now;
      let readBytes = 0;
      let writeBytes = 0;
      let counted = false;
      for (const d of disks) {
        const before = previous.get(d.name);
        const diskio: Record<string, unknown> = {
          name: d.name,
          mount_point: d.mountPoints[0],
          read: { count: d.reads, bytes: d.readBytes, time: d.readTime },
          write: { count: d.writes, bytes: d.writeBytes, time: d.writeTime },
          io: { time: d.ioTime, ops: d.reads + d.writes },
        };
        if (before && seconds > 0) {
          const dr = d.readBytes - before.readBytes;
          const dw = d.writeBytes - before.writeBytes;
          if (dr >= 0 && dw >= 0) {
            readBytes += dr;
            writeBytes += dw;
            counted = true;
            diskio.iostat = {
              read: { per_sec: { bytes: round4(dr / seconds) }, request: { per_sec: round4(Math.max(0, d.reads - before.reads) / seconds) } },
              write: { per_sec: { bytes: round4(dw / seconds) }, request: { per_sec: round4(Math.max(0, d.writes - before.writes) / seconds) } },
              // Share of the period the device had I/O in flight (iostat's %util), 0..1.
              busy: round4(Math.min(1, Math.max(0, d.ioTime - before.ioTime) / (seconds * 1000))),
            };
          }
        }
        docs.push({ '@timestamp': timestamp, event, metricset: { name: 'diskio', period: this.intervalMs }, system: { diskio } });
      }
      if (counted) host.disk = { read: { bytes: readBytes }, write: { bytes: writeBytes } };
    }

    if (filesystems) {
      for (const f of filesystems) {
        const used = f.total - f.free;
        // As df(1): the share of the space usable by ordinary users (root's reserve excluded).
        const usable = used + f.available;
        docs.push({
          '@timestamp': timestamp,
          event,
          metricset: { name: 'filesystem', period: this.intervalMs },
          system: {
            filesystem: {
              device_name: f.device,
              mount_point: f.mountPoint,
              type: f.type,
              total: f.total,
              free: f.free,
              available: f.available,
              used: { bytes: used, pct: usable > 0 ? pct(used / usable) : 0 },
              files: f.files,
              free_files: f.freeFiles,
            },
          },
        });
      }
    }

    docs.unshift({ '@timestamp': timestamp, event, metricset: { name: 'system', period: this.intervalMs }, host, system });
    return docs;
  }
}
