// The macOS readers behind the network, metrics and process collectors: macOS has no /proc, so they run the system's
// own commands each sample (lsof, netstat, ps, vm_stat, sysctl, mount, ioreg) and read CPU and load from Node's os module.
import { execFile } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import { basename } from 'node:path';
import { cpus, loadavg, totalmem } from 'node:os';
import type { CpuTimes, DiskCounters, FilesystemUsage, MemoryInfo, MetricsReader, NetworkReader, ProcessDetails, ProcessEntry, ProcessReader, SocketEntry } from '../types.js';
import { parseLsof, parseNetstatInterfaces, parseNetstatSockets } from './network.js';
import { PS_ARGS, PS_COMM_ARGS, parseIoreg, parseMount, parsePs, parsePsComm, parseSwapUsage, parseVmStat, vmAvailableBytes } from './system.js';

const COMMAND_TIMEOUT_MS = 5000;
const MAX_OUTPUT = 32 * 1024 * 1024;

/** Runs a command and resolves with its output; rejects with a sentence naming the command. */
export function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: COMMAND_TIMEOUT_MS, maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (err, stdout) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // lsof exits 1 when nothing matched, which is not a failure.
        if (command === 'lsof' && (err as { code?: unknown }).code === 1) return resolve(stdout);
        reject(new Error(code === 'ENOENT' ? `${command} is not installed (or not in PATH)` : `${command} ${args.join(' ')} failed: ${err.message}`));
        return;
      }
      resolve(stdout);
    });
  });
}

export class MacNetworkReader implements NetworkReader {
  readonly notes = new Map<string, string>();

  async sockets(): Promise<SocketEntry[]> {
    try {
      const entries = parseLsof(await run('lsof', ['-nP', '-iTCP', '-iUDP']));
      this.notes.delete('lsof');
      return entries;
    } catch (err) {
      // Without lsof, netstat still lists TCP sockets (with pids on recent releases).
      this.notes.set('lsof', `${(err as Error).message}; using netstat`);
      return parseNetstatSockets(await run('netstat', ['-anv', '-p', 'tcp']));
    }
  }

  async interfaces() {
    return parseNetstatInterfaces(await run('netstat', ['-ibn']));
  }

  async owners(): Promise<void> {
    // lsof (or netstat -v) already said who owns each socket.
  }
}

function macCpuTimes(t: { user: number; nice: number; sys: number; idle: number; irq: number }): CpuTimes {
  return { user: t.user, nice: t.nice, system: t.sys, idle: t.idle, iowait: 0, irq: t.irq, softirq: 0, steal: 0 };
}

export class MacMetricsReader implements MetricsReader {
  readonly notes = new Map<string, string>();

  async cpu(): Promise<{ total: CpuTimes; cores: CpuTimes[] }> {
    const cores = cpus().map((c) => macCpuTimes(c.times));
    if (cores.length === 0) throw new Error('os.cpus() listed no CPU');
    const total = { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0 };
    for (const c of cores) for (const k of Object.keys(total) as (keyof CpuTimes)[]) total[k] += c[k];
    return { total, cores };
  }

  async load(): Promise<[number, number, number]> {
    const [a, b, c] = loadavg();
    return [a ?? 0, b ?? 0, c ?? 0];
  }

  async memory(): Promise<MemoryInfo> {
    const total = totalmem();
    const vm = vmAvailableBytes(parseVmStat(await run('vm_stat', [])));
    const swap = parseSwapUsage(await run('sysctl', ['vm.swapusage']));
    return { total, free: vm.free, available: Math.min(total, vm.available), swapTotal: swap?.total ?? 0, swapFree: swap?.free ?? 0 };
  }

  async filesystems(): Promise<FilesystemUsage[]> {
    const mounts = parseMount(await run('mount', [])).filter((m) => m.device.startsWith('/dev/') && m.options.includes('local') && !m.options.includes('nobrowse'));
    const out: FilesystemUsage[] = [];
    for (const m of mounts) {
      try {
        const s = await statfs(m.mountPoint);
        out.push({ device: m.device, mountPoint: m.mountPoint, type: m.type, total: s.blocks * s.bsize, free: s.bfree * s.bsize, available: s.bavail * s.bsize, files: s.files, freeFiles: s.ffree });
        this.notes.delete(m.mountPoint);
      } catch (err) {
        this.notes.set(m.mountPoint, `cannot read the usage of ${m.mountPoint}: ${(err as Error).message}`);
      }
    }
    return out;
  }

  async disks(): Promise<DiskCounters[]> {
    const mounts = parseMount(await run('mount', []));
    return parseIoreg(await run('ioreg', ['-r', '-c', 'IOBlockStorageDriver', '-w', '0', '-d', '2'])).map((d) => ({
      name: d.name,
      reads: d.reads,
      readBytes: d.readBytes,
      readTime: Math.round(d.readTime / 1e6),
      writes: d.writes,
      writeBytes: d.writeBytes,
      writeTime: Math.round(d.writeTime / 1e6),
      // IOKit keeps no busy time; time spent reading and writing is the closest figure.
      ioTime: Math.round((d.readTime + d.writeTime) / 1e6),
      // APFS volumes live on synthesized disks (disk3s1 on disk3): a mount belongs to the disk its device starts with.
      mountPoints: mounts.filter((m) => m.device === `/dev/${d.name}` || m.device.startsWith(`/dev/${d.name}s`)).map((m) => m.mountPoint),
    }));
  }
}

export class MacProcessReader implements ProcessReader {
  readonly cores = Math.max(1, cpus().length);
  private executables = new Map<number, string>();
  private users = new Map<number, string>();
  private args = new Map<number, string>();

  async list(): Promise<ProcessEntry[]> {
    const [rows, comm] = await Promise.all([run('ps', PS_ARGS).then(parsePs), run('ps', PS_COMM_ARGS).then(parsePsComm)]);
    this.executables = comm;
    this.args = new Map(rows.map((r) => [r.pid, r.args]));
    return rows.map((r) => {
      this.users.set(r.uid, r.user);
      const exe = comm.get(r.pid);
      return {
        pid: r.pid,
        ppid: r.ppid,
        startKey: r.lstart,
        ...(r.start !== undefined ? { start: r.start } : {}),
        name: exe ? basename(exe) : (r.args.split(' ')[0] ?? ''),
        cpuPct: r.cpuPercent / 100,
        rssBytes: r.rssBytes,
        uid: r.uid,
      };
    });
  }

  async details(entry: ProcessEntry): Promise<ProcessDetails> {
    const exe = this.executables.get(entry.pid);
    const commandLine = this.args.get(entry.pid);
    const userName = entry.uid !== undefined ? this.users.get(entry.uid) : undefined;
    return {
      ...(exe ? { executable: exe } : {}),
      ...(commandLine ? { commandLine } : {}),
      ...(entry.uid !== undefined ? { uid: entry.uid } : {}),
      ...(userName ? { userName } : {}),
    };
  }

  userName(uid: number): string | undefined {
    return this.users.get(uid);
  }

  async memoryTotal(): Promise<number> {
    return totalmem();
  }
}
