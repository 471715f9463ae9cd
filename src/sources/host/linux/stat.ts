// Machine metrics from Linux /proc (proc(5)): /proc/stat (CPU), /proc/loadavg, /proc/meminfo, /proc/diskstats
// (Documentation/admin-guide/iostats.rst), and mounts from /proc/self/mounts with statfs(2) for their usage.
import { realpathSync, statSync, statfsSync, type StatsFs } from 'node:fs';
import { basename, join } from 'node:path';
import type { CpuTimes, DiskCounters, FilesystemUsage, MemoryInfo, MetricsReader } from '../types.js';
import { readText, tryReadText, type ProcRoot } from './proc.js';

/** Sectors in /proc/diskstats are always 512 bytes, whatever the device's own sector size. */
const DISKSTATS_SECTOR = 512;
/** Filesystems that hold nothing worth a disk-usage metric even though they have a device (read-only images). */
const SKIPPED_TYPES = new Set(['squashfs', 'iso9660', 'udf']);

function cpuTimes(f: readonly string[]): CpuTimes {
  const n = (i: number) => Number(f[i] ?? 0) || 0;
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already counted in user.
  return { user: n(1), nice: n(2), system: n(3), idle: n(4), iowait: n(5), irq: n(6), softirq: n(7), steal: n(8) };
}

/** The `cpu` and `cpuN` lines of /proc/stat, and `btime` (boot time, s since the epoch). */
export function parseProcStat(text: string): { total: CpuTimes; cores: CpuTimes[]; bootTime: number | undefined } {
  let total: CpuTimes | undefined;
  const cores: CpuTimes[] = [];
  let bootTime: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu')) {
      const f = line.split(/\s+/);
      if (f[0] === 'cpu') total = cpuTimes(f);
      else cores.push(cpuTimes(f));
    } else if (line.startsWith('btime ')) {
      bootTime = Number(line.slice(6));
    }
  }
  if (!total) throw new Error('no cpu line in /proc/stat');
  return { total, cores, bootTime };
}

export function parseLoadavg(text: string): [number, number, number] {
  const f = text.trim().split(/\s+/).map(Number);
  if (f.length < 3 || f.slice(0, 3).some((x) => !Number.isFinite(x))) throw new Error('unreadable /proc/loadavg');
  return [f[0]!, f[1]!, f[2]!];
}

/** /proc/meminfo values are kB (KiB). MemAvailable exists since Linux 3.14; older kernels get free + cached estimate. */
export function parseMeminfo(text: string): MemoryInfo {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const value = Number.parseInt(line.slice(colon + 1).trim(), 10);
    if (Number.isFinite(value)) values.set(line.slice(0, colon), value * 1024);
  }
  const total = values.get('MemTotal');
  const free = values.get('MemFree');
  if (total === undefined || free === undefined) throw new Error('no MemTotal/MemFree in /proc/meminfo');
  const available = values.get('MemAvailable') ?? free + (values.get('Buffers') ?? 0) + (values.get('Cached') ?? 0);
  return { total, free, available, swapTotal: values.get('SwapTotal') ?? 0, swapFree: values.get('SwapFree') ?? 0 };
}

export interface DiskStat {
  major: number;
  minor: number;
  name: string;
  reads: number;
  readSectors: number;
  readTime: number;
  writes: number;
  writeSectors: number;
  writeTime: number;
  ioTime: number;
}

export function parseDiskstats(text: string): DiskStat[] {
  const out: DiskStat[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const n = f.map(Number);
    out.push({ major: n[0]!, minor: n[1]!, name: f[2]!, reads: n[3]!, readSectors: n[5]!, readTime: n[6]!, writes: n[7]!, writeSectors: n[9]!, writeTime: n[10]!, ioTime: n[12]! });
  }
  return out;
}

/** Octal escapes of /proc/mounts fields (`\040` for a space, fstab(5)). */
function unescapeMountField(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

export interface MountEntry {
  device: string;
  mountPoint: string;
  type: string;
}

export function parseMounts(text: string): MountEntry[] {
  const byPoint = new Map<string, MountEntry>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 3) continue;
    const entry = { device: unescapeMountField(f[0]!), mountPoint: unescapeMountField(f[1]!), type: f[2]! };
    // A later mount on the same point hides the earlier one.
    byPoint.delete(entry.mountPoint);
    byPoint.set(entry.mountPoint, entry);
  }
  return [...byPoint.values()];
}

/** The filesystem types /proc/filesystems marks `nodev` (proc, tmpfs, cgroup, overlay …): no disk behind them. */
export function parseNodevTypes(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('nodev')) out.add(line.slice(5).trim());
  }
  return out;
}

/** Linux dev_t split as the kernel's MAJOR/MINOR macros for the 64-bit user-space encoding (glibc sysmacros.h). */
function devNumbers(dev: number): { major: number; minor: number } {
  const big = BigInt(dev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return { major, minor };
}

export class LinuxMetricsReader implements MetricsReader {
  readonly notes = new Map<string, string>();
  private nodevTypes: Set<string> | undefined;
  /** Mounts and the block device behind each, resolved when /proc/self/mounts changes. */
  private mountsText = '';
  private mounts: (MountEntry & { disk?: string; major?: number; minor?: number })[] = [];

  constructor(private readonly proc: ProcRoot) {}

  async cpu(): Promise<{ total: CpuTimes; cores: CpuTimes[] }> {
    return parseProcStat(readText(join(this.proc, 'stat')));
  }

  async load(): Promise<[number, number, number]> {
    return parseLoadavg(readText(join(this.proc, 'loadavg')));
  }

  async memory(): Promise<MemoryInfo> {
    return parseMeminfo(readText(join(this.proc, 'meminfo')));
  }

  private refreshMounts(): void {
    const text = readText(join(this.proc, 'self/mounts'));
    if (text === this.mountsText) return;
    this.mountsText = text;
    if (!this.nodevTypes) {
      const types = tryReadText(join(this.proc, 'filesystems'));
      this.nodevTypes = types instanceof Error ? new Set(['proc', 'sysfs', 'tmpfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'overlay']) : parseNodevTypes(types);
    }
    const nodev = this.nodevTypes;
    this.mounts = parseMounts(text)
      .filter((m) => !nodev.has(m.type) && !nodev.has(m.type.split('.')[0]!) && !SKIPPED_TYPES.has(m.type) && m.device.startsWith('/'))
      .map((m) => {
        let disk: string | undefined;
        try {
          disk = basename(realpathSync(m.device));
        } catch {
          // /dev/root and the like: matched by device numbers below.
        }
        let numbers: { major: number; minor: number } | undefined;
        try {
          numbers = devNumbers(statSync(m.mountPoint).dev);
        } catch {
          // unreadable mount point: usage will say so
        }
        return { ...m, ...(disk ? { disk } : {}), ...(numbers ?? {}) };
      });
  }

  async filesystems(): Promise<FilesystemUsage[]> {
    this.refreshMounts();
    const out: FilesystemUsage[] = [];
    for (const m of this.mounts) {
      let s: StatsFs;
      try {
        // Synchronous: only filesystems on a local block device are left (network and FUSE types are `nodev`), and
        // statfs(2) on them answers from memory. The thread pool an asynchronous call needs costs more than it saves.
        s = statfsSync(m.mountPoint);
      } catch (err) {
        this.notes.set(`mount:${m.mountPoint}`, `cannot read the usage of ${m.mountPoint}: ${(err as Error).message}`);
        continue;
      }
      this.notes.delete(`mount:${m.mountPoint}`);
      out.push({
        device: m.device,
        mountPoint: m.mountPoint,
        type: m.type,
        total: s.blocks * s.bsize,
        free: s.bfree * s.bsize,
        available: s.bavail * s.bsize,
        files: s.files,
        freeFiles: s.ffree,
      });
    }
    return out;
  }

  async disks(): Promise<DiskCounters[]> {
    this.refreshMounts();
    const stats = parseDiskstats(readText(join(this.proc, 'diskstats')));
    const out: DiskCounters[] = [];
    for (const d of stats) {
      const mountPoints = this.mounts.filter((m) => m.disk === d.name || (m.major === d.major && m.minor === d.minor)).map((m) => m.mountPoint);
      if (mountPoints.length === 0) continue;
      out.push({
        name: d.name,
        reads: d.reads,
        readBytes: d.readSectors * DISKSTATS_SECTOR,
        readTime: d.readTime,
        writes: d.writes,
        writeBytes: d.writeSectors * DISKSTATS_SECTOR,
        writeTime: d.writeTime,
        ioTime: d.ioTime,
        mountPoints,
      });
    }
    return out;
  }
}
