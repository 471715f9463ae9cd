// Parsers of macOS system command output: processes (`ps`), memory (`vm_stat`, `sysctl vm.swapusage`), mounts
// (`mount`) and disk I/O counters (`ioreg -r -c IOBlockStorageDriver`). Written from the man pages (ps(1),
// vm_stat(1), sysctl(8), mount(8), ioreg(8)) and IOKit's documented statistics keys; tested on sample output in testdata/.

/** The columns asked of ps: fixed-width fields first, the 5-token `lstart`, then `args`, which may hold spaces. */
export const PS_ARGS = ['-axww', '-o', 'pid=,ppid=,uid=,user=,%cpu=,rss=,lstart=,args='];
/** `comm` is the executable's path on macOS; alone after the pid so that spaces in it are safe. */
export const PS_COMM_ARGS = ['-axww', '-o', 'pid=,comm='];

export interface PsRow {
  pid: number;
  ppid: number;
  uid: number;
  user: string;
  /** ps's %cpu (a decaying average, share of one core in percent). */
  cpuPercent: number;
  rssBytes: number;
  /** `Tue Mar  5 10:15:30 2024` as printed (local time), and its value when it parses. */
  lstart: string;
  start: number | undefined;
  args: string;
}

export function parsePs(text: string): PsRow[] {
  const out: PsRow[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 11) continue;
    const [pid, ppid, uid, cpu, rss] = [Number(f[0]), Number(f[1]), Number(f[2]), Number(f[4]), Number(f[5])];
    if (![pid, ppid, uid, rss].every(Number.isInteger) || !Number.isFinite(cpu)) continue;
    const lstart = f.slice(6, 11).join(' ');
    const start = Date.parse(lstart);
    // args is everything after the 11th field, with its own spacing kept.
    const argsAt = nthFieldEnd(line, 11);
    out.push({ pid, ppid, uid, user: f[3]!, cpuPercent: cpu, rssBytes: rss * 1024, lstart, start: Number.isFinite(start) ? start : undefined, args: line.slice(argsAt).trim() });
  }
  return out;
}

/** Index just past the n-th blank-separated field of `line`. */
function nthFieldEnd(line: string, n: number): number {
  let i = 0;
  for (let field = 0; field < n; field++) {
    while (i < line.length && line[i] === ' ') i++;
    while (i < line.length && line[i] !== ' ') i++;
  }
  return i;
}

/** `ps -o pid=,comm=`: pid, then the executable path to the end of the line. */
export function parsePsComm(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(.+?)\s*$/.exec(line);
    if (m) out.set(Number(m[1]), m[2]!);
  }
  return out;
}

export interface VmStat {
  pageSize: number;
  pages: Map<string, number>;
}

/** `Mach Virtual Memory Statistics: (page size of 16384 bytes)`, then `Pages free:   12345.` lines. */
export function parseVmStat(text: string): VmStat {
  const size = /page size of (\d+) bytes/.exec(text);
  const pages = new Map<string, number>();
  for (const line of text.split('\n').slice(1)) {
    const m = /^"?([^":]+)"?:\s+(\d+)\.?\s*$/.exec(line);
    if (m) pages.set(m[1]!.trim(), Number(m[2]));
  }
  return { pageSize: size ? Number(size[1]) : 4096, pages };
}

/**
 * Memory in use the way Activity Monitor counts it: wired, active and compressor-held pages are used; free,
 * inactive, speculative and purgeable pages can be handed out without swapping ("available").
 */
export function vmAvailableBytes(vm: VmStat): { free: number; available: number } {
  const p = (name: string) => vm.pages.get(name) ?? 0;
  const free = (p('Pages free') + p('Pages speculative')) * vm.pageSize;
  const available = (p('Pages free') + p('Pages speculative') + p('Pages inactive') + p('Pages purgeable')) * vm.pageSize;
  return { free, available };
}

const UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `vm.swapusage: total = 2048.00M  used = 1024.50M  free = 1023.50M  (encrypted)` → bytes. */
export function parseSwapUsage(text: string): { total: number; used: number; free: number } | undefined {
  const value = (name: string) => {
    const m = new RegExp(`${name} = ([\\d.]+)([KMGT])`).exec(text);
    return m ? Math.round(Number(m[1]) * UNITS[m[2]!]!) : undefined;
  };
  const total = value('total');
  const used = value('used');
  const free = value('free');
  if (total === undefined || used === undefined || free === undefined) return undefined;
  return { total, used, free };
}

export interface MacMount {
  device: string;
  mountPoint: string;
  type: string;
  options: string[];
}

/** `/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)`; mount points may hold spaces. */
export function parseMount(text: string): MacMount[] {
  const out: MacMount[] = [];
  for (const line of text.split('\n')) {
    const m = /^(.+?) on (.+) \(([^,()]+)((?:, [^()]*)?)\)$/.exec(line.trim());
    if (!m) continue;
    out.push({ device: m[1]!, mountPoint: m[2]!, type: m[3]!, options: m[4] ? m[4].slice(2).split(', ') : [] });
  }
  return out;
}

export interface IoregDisk {
  name: string;
  reads: number;
  readBytes: number;
  /** ns */
  readTime: number;
  writes: number;
  writeBytes: number;
  writeTime: number;
}

/**
 * `ioreg -r -c IOBlockStorageDriver -w 0 -d 2`: each driver's `"Statistics" = {…}` (IOBlockStorageDriver.h keys:
 * "Bytes (Read)", "Operations (Write)", "Total Time (Read)" in ns …), then its child IOMedia's `"BSD Name" = "disk0"`.
 */
export function parseIoreg(text: string): IoregDisk[] {
  const out: IoregDisk[] = [];
  let pending: Omit<IoregDisk, 'name'> | undefined;
  for (const line of text.split('\n')) {
    const stats = /"Statistics" = \{(.*)\}/.exec(line);
    if (stats) {
      const values = new Map<string, number>();
      for (const m of stats[1]!.matchAll(/"([^"]+)"=(\d+)/g)) values.set(m[1]!, Number(m[2]));
      const v = (k: string) => values.get(k) ?? 0;
      pending = {
        reads: v('Operations (Read)'),
        readBytes: v('Bytes (Read)'),
        readTime: v('Total Time (Read)'),
        writes: v('Operations (Write)'),
        writeBytes: v('Bytes (Write)'),
        writeTime: v('Total Time (Write)'),
      };
      continue;
    }
    const bsd = /"BSD Name" = "([^"]+)"/.exec(line);
    if (bsd && pending) {
      out.push({ name: bsd[1]!, ...pending });
      pending = undefined;
    }
  }
  return out;
}
