// Processes from Linux /proc (proc(5)): /proc/<pid>/stat for parent, CPU time, start time and RSS, and for a new
// process /proc/<pid>/{cmdline,exe,status,cwd}. Kernel threads are left out (they have no executable or command line).
import { join } from 'node:path';
import type { ProcessDetails, ProcessEntry, ProcessReader } from '../types.js';
import { listPids, readLink, readText, tryReadText, tryReadUtf8, type ProcRoot } from './proc.js';
import { parseMeminfo, parseProcStat } from './stat.js';
import type { UserNames } from './users.js';

/**
 * USER_HZ, the unit of the times in /proc/<pid>/stat: 100 on every architecture Linux runs on today (the kernel
 * keeps it at 100 for user space whatever its internal HZ); Node cannot call sysconf(_SC_CLK_TCK) to ask.
 */
const CLK_TCK = 100;
/** PF_KTHREAD in include/linux/sched.h: the `flags` field marks kernel threads. */
const PF_KTHREAD = 0x00200000;
/** Longest command line kept (ECS `process.command_line`); /proc itself may return up to the whole argv. */
const MAX_COMMAND_LINE = 8192;
const MAX_ARGS = 128;

export interface ProcStat {
  pid: number;
  name: string;
  ppid: number;
  flags: number;
  utime: number;
  stime: number;
  starttime: number;
  rssPages: number;
}

/** `pid (comm) state ppid … utime stime … starttime vsize rss …`; comm may hold spaces and parentheses, so fields are counted from the last `)`. */
export function parseProcPidStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const name = text.slice(open + 1, close);
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state) of proc(5), so field k is rest[k - 3].
  const field = (k: number) => Number(rest[k - 3]);
  const stat = { pid, name, ppid: field(4), flags: field(9), utime: field(14), stime: field(15), starttime: field(22), rssPages: field(24) };
  if (!Number.isInteger(stat.pid) || !Number.isFinite(stat.starttime) || !Number.isFinite(stat.utime)) return undefined;
  return stat;
}

/** The real uid from the `Uid:` line of /proc/<pid>/status (real, effective, saved, filesystem). */
export function parseStatusUid(text: string): number | undefined {
  const at = text.indexOf('\nUid:');
  if (at < 0) return undefined;
  const uid = Number.parseInt(text.slice(at + 5).trim(), 10);
  return Number.isInteger(uid) ? uid : undefined;
}

/** argv from /proc/<pid>/cmdline (NUL-separated); empty for zombies and kernel threads. */
export function parseCmdline(text: string): string[] {
  const parts = text.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** A command line for people and searches: arguments joined by spaces, those with spaces or quotes quoted. */
export function joinArgs(args: readonly string[]): string {
  return args.map((a) => (a === '' || /[\s"'\\]/.test(a) ? `'${a.replace(/'/g, "'\\''")}'` : a)).join(' ');
}

export class LinuxProcessReader implements ProcessReader {
  readonly cores: number;
  private readonly pageSize: number;
  private bootTime: number | undefined;

  constructor(
    private readonly proc: ProcRoot,
    private readonly users: UserNames,
  ) {
    let cores = 1;
    try {
      const stat = parseProcStat(readText(join(proc, 'stat')));
      cores = Math.max(1, stat.cores.length);
      this.bootTime = stat.bootTime;
    } catch {
      // the first list() reports the problem
    }
    this.cores = cores;
    this.pageSize = pageSize(proc);
  }

  pids(): number[] {
    return listPids(this.proc);
  }

  /**
   * When the machine booted, in ms since the epoch: now less /proc/uptime. More exact than `btime` of /proc/stat
   * (whole seconds), and on the same clock as the start times of /proc/<pid>/stat (boot time, suspend included).
   */
  private bootedAt(): number | undefined {
    const text = tryReadText(join(this.proc, 'uptime'));
    const uptime = text instanceof Error ? Number.NaN : Number.parseFloat(text);
    if (Number.isFinite(uptime)) return Date.now() - uptime * 1000;
    return this.bootTime !== undefined ? this.bootTime * 1000 : undefined;
  }

  entry(pid: number, bootedAt = this.bootedAt()): ProcessEntry | undefined {
    const text = tryReadText(join(this.proc, String(pid), 'stat'));
    if (text instanceof Error) return undefined;
    const stat = parseProcPidStat(text);
    if (!stat || (stat.flags & PF_KTHREAD) !== 0) return undefined;
    return {
      pid,
      ppid: stat.ppid,
      startKey: String(stat.starttime),
      ...(bootedAt !== undefined ? { start: Math.round(bootedAt + (stat.starttime / CLK_TCK) * 1000) } : {}),
      name: stat.name,
      cpuSeconds: (stat.utime + stat.stime) / CLK_TCK,
      rssBytes: stat.rssPages * this.pageSize,
    };
  }

  async list(): Promise<ProcessEntry[]> {
    if (this.bootTime === undefined) {
      this.bootTime = parseProcStat(readText(join(this.proc, 'stat'))).bootTime;
    }
    const out: ProcessEntry[] = [];
    const bootedAt = this.bootedAt();
    for (const pid of listPids(this.proc)) {
      const entry = this.entry(pid, bootedAt);
      if (entry) out.push(entry);
    }
    return out;
  }

  async details(entry: ProcessEntry): Promise<ProcessDetails> {
    const dir = join(this.proc, String(entry.pid));
    const out: ProcessDetails = {};
    const exe = readLink(join(dir, 'exe'));
    // A deleted executable (replaced by an upgrade, or an attacker's) reads as `/path (deleted)`: kept as the kernel says.
    if (exe) out.executable = exe;
    const cmdline = tryReadUtf8(join(dir, 'cmdline'));
    if (cmdline) {
      const args = parseCmdline(cmdline.length > MAX_COMMAND_LINE * 2 ? cmdline.slice(0, MAX_COMMAND_LINE * 2) : cmdline);
      if (args.length > 0) {
        out.args = args.slice(0, MAX_ARGS);
        const line = joinArgs(args);
        out.commandLine = line.length > MAX_COMMAND_LINE ? line.slice(0, MAX_COMMAND_LINE) : line;
      }
    }
    const status = tryReadText(join(dir, 'status'));
    if (!(status instanceof Error)) {
      const uid = parseStatusUid(status);
      if (uid !== undefined) {
        out.uid = uid;
        const name = this.users.lookup(uid);
        if (name) out.userName = name;
      }
    }
    const cwd = readLink(join(dir, 'cwd'));
    if (cwd) out.workingDirectory = cwd;
    return out;
  }

  userName(uid: number): string | undefined {
    return this.users.lookup(uid);
  }

  async memoryTotal(): Promise<number> {
    return parseMeminfo(readText(join(this.proc, 'meminfo'))).total;
  }
}

/**
 * The page size, which /proc/<pid>/stat counts RSS in: our own resident pages (statm) against our own VmRSS in kB
 * (status), read back to back. Falls back to 4096, the size on x86 and most arm64 kernels.
 */
function pageSize(proc: ProcRoot): number {
  const statm = tryReadText(join(proc, 'self/statm'));
  const status = tryReadText(join(proc, 'self/status'));
  if (statm instanceof Error || status instanceof Error) return 4096;
  const pages = Number(statm.split(' ')[1]);
  const m = /\nVmRSS:\s+(\d+) kB/.exec(status);
  if (!m || !(pages > 0)) return 4096;
  const estimate = (Number(m[1]) * 1024) / pages;
  for (const size of [4096, 16384, 65536]) if (Math.abs(estimate - size) / size < 0.25) return size;
  return 4096;
}
