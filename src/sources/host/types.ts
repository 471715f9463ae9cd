// What the platform readers (Linux /proc, macOS commands) hand to the collectors: plain snapshots, no ECS yet.

export type Transport = 'tcp' | 'udp';

/** One socket, as the kernel lists it. */
export interface SocketEntry {
  transport: Transport;
  family: 'ipv4' | 'ipv6';
  localIp: string;
  localPort: number;
  /** `0.0.0.0` / `::` and port 0 when unconnected. */
  remoteIp: string;
  remotePort: number;
  /** TCP state name (`ESTABLISHED`, `LISTEN`, `TIME_WAIT` …); UDP: `LISTEN` when bound and unconnected, else `ESTABLISHED`. */
  state: string;
  /** A TCP listener, or a bound unconnected UDP socket. */
  listening: boolean;
  /** Owner uid (Linux lists it per socket). */
  uid?: number;
  /** Socket inode (Linux), which the owning process's fd table points to; 0 when no process holds it (TIME_WAIT). */
  inode?: number;
  /** Owning process, when known. */
  pid?: number;
  processName?: string;
  executable?: string;
  userName?: string;
}

/** Cumulative counters of one network interface. */
export interface InterfaceCounters {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

export interface NetworkReader {
  sockets(): Promise<SocketEntry[]>;
  interfaces(): Promise<InterfaceCounters[]>;
  /** Fills the owning process of these sockets where it can (Linux: /proc/<pid>/fd; macOS: lsof already did). */
  owners(entries: SocketEntry[]): Promise<void>;
  /** Partial problems of the last read (an unreadable table), by key, for health. */
  readonly notes?: Map<string, string>;
}

/** Cumulative CPU time of the whole machine or one core, in clock ticks (or ms: only ratios are used). */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface MemoryInfo {
  total: number;
  free: number;
  /** What can be given to new work without swapping (Linux MemAvailable). */
  available: number;
  swapTotal: number;
  swapFree: number;
}

export interface FilesystemUsage {
  device: string;
  mountPoint: string;
  type: string;
  total: number;
  free: number;
  available: number;
  files: number;
  freeFiles: number;
}

/** Cumulative I/O counters of one block device. */
export interface DiskCounters {
  name: string;
  reads: number;
  readBytes: number;
  /** ms spent reading. */
  readTime: number;
  writes: number;
  writeBytes: number;
  writeTime: number;
  /** ms the device was busy. */
  ioTime: number;
  /** Where it is mounted, if anywhere. */
  mountPoints: string[];
}

export interface MetricsReader {
  /** Whole machine first, then each core in order. */
  cpu(): Promise<{ total: CpuTimes; cores: CpuTimes[] }>;
  load(): Promise<[number, number, number]>;
  memory(): Promise<MemoryInfo>;
  filesystems(): Promise<FilesystemUsage[]>;
  disks(): Promise<DiskCounters[]>;
  readonly notes?: Map<string, string>;
}

/** One process, as a scan sees it. */
export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** Identifies this process among all that ever had its pid (start time in ticks since boot, or a start string). */
  startKey: string;
  /** Start time, ms since the epoch, when known. */
  start?: number;
  name: string;
  /** Cumulative CPU time in seconds (Linux), when known. */
  cpuSeconds?: number;
  /** CPU share of one core as the OS computes it (macOS ps %cpu / 100), when cumulative time is not known. */
  cpuPct?: number;
  rssBytes: number;
  uid?: number;
}

/** What is read once for a process that is new to the collector. */
export interface ProcessDetails {
  executable?: string;
  args?: string[];
  commandLine?: string;
  uid?: number;
  userName?: string;
  workingDirectory?: string;
}

export interface ProcessReader {
  /** Every process (Linux: without kernel threads). */
  list(): Promise<ProcessEntry[]>;
  /** The pids alone, cheap (Linux: one readdir of /proc), for frequent start/stop checks; undefined when it is not cheaper. */
  pids?(): number[];
  details(entry: ProcessEntry): Promise<ProcessDetails>;
  /** A single process by pid (Linux), for a frequent scan that found a new pid. */
  entry?(pid: number): ProcessEntry | undefined;
  userName(uid: number): string | undefined;
  memoryTotal(): Promise<number>;
  cores: number;
}
