// Sockets and interface counters from Linux /proc (proc_net_tcp.txt in the kernel's Documentation/networking,
// proc(5) for /proc/net/dev), and socket owners from /proc/<pid>/fd links (`socket:[inode]`). No `ss`, no `netstat`.
import { endianness } from 'node:os';
import { join } from 'node:path';
import { formatIp } from '../../../core/ip.js';
import type { InterfaceCounters, NetworkReader, SocketEntry, Transport } from '../types.js';
import { errnoCode } from '../collector.js';
import { listPids, readDirNames, readLink, readText, tryReadText, type ProcRoot } from './proc.js';

/** TCP states as numbered in include/net/tcp_states.h. */
const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV'];
const TCP_LISTEN = 10;
const TCP_ESTABLISHED = 1;
const UDP_CLOSE = 7;

const LITTLE_ENDIAN = endianness() === 'LE';

/** One 32-bit word of a /proc/net address, printed in hex as the host stores it, to its 4 bytes in network order. */
function wordBytes(hex: string, out: number[]): boolean {
  const word = Number.parseInt(hex, 16);
  if (!Number.isFinite(word) || hex.length !== 8) return false;
  if (LITTLE_ENDIAN) out.push(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24);
  else out.push(word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff);
  return true;
}

/** `0100007F:0016` (little-endian host) → 127.0.0.1 and 22; IPv6 addresses are four such words. IPv4-mapped IPv6 becomes IPv4. */
export function parseProcAddress(text: string): { ip: string; port: number } | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const hex = text.slice(0, colon);
  const port = Number.parseInt(text.slice(colon + 1), 16);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  const bytes: number[] = [];
  if (hex.length === 8) {
    if (!wordBytes(hex, bytes)) return undefined;
    return { ip: bytes.join('.'), port };
  }
  if (hex.length !== 32) return undefined;
  for (let i = 0; i < 32; i += 8) if (!wordBytes(hex.slice(i, i + 8), bytes)) return undefined;
  return { ip: ipv6Text(bytes), port };
}

/** RFC 5952 text of a 16-byte IPv6 address (`::ffff:a.b.c.d` as IPv4), by the one formatter Vigil has. */
export function ipv6Text(bytes: readonly number[]): string {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return formatIp(value);
}

/** Parses the text of /proc/net/{tcp,tcp6,udp,udp6}. */
export function parseSocketTable(text: string, transport: Transport, family: 'ipv4' | 'ipv6'): SocketEntry[] {
  const out: SocketEntry[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = parseProcAddress(f[1]!);
    const remote = parseProcAddress(f[2]!);
    const st = Number.parseInt(f[3]!, 16);
    if (!local || !remote || !Number.isInteger(st)) continue;
    const uid = Number(f[7]);
    const inode = Number(f[9]);
    let state: string;
    let listening: boolean;
    if (transport === 'tcp') {
      state = TCP_STATES[st] ?? `STATE_${st}`;
      listening = st === TCP_LISTEN;
    } else {
      // UDP has no states: an unconnected bound socket shows TCP_CLOSE (7), a connect()ed one TCP_ESTABLISHED (1).
      listening = st === UDP_CLOSE && remote.port === 0;
      state = listening ? 'LISTEN' : st === TCP_ESTABLISHED ? 'ESTABLISHED' : TCP_STATES[st] ?? `STATE_${st}`;
    }
    out.push({
      transport,
      family,
      localIp: local.ip,
      localPort: local.port,
      remoteIp: remote.ip,
      remotePort: remote.port,
      state,
      listening,
      ...(Number.isInteger(uid) ? { uid } : {}),
      ...(Number.isInteger(inode) ? { inode } : {}),
    });
  }
  return out;
}

/** Parses /proc/net/dev: two header lines, then `name: rx(8 fields) tx(8 fields)`. */
export function parseNetDev(text: string): InterfaceCounters[] {
  const out: InterfaceCounters[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (f.length < 16 || f.some((x) => !Number.isFinite(x))) continue;
    out.push({
      name,
      rxBytes: f[0]!,
      rxPackets: f[1]!,
      rxErrors: f[2]!,
      rxDropped: f[3]!,
      txBytes: f[8]!,
      txPackets: f[9]!,
      txErrors: f[10]!,
      txDropped: f[11]!,
    });
  }
  return out;
}

const TABLES: readonly { file: string; transport: Transport; family: 'ipv4' | 'ipv6' }[] = [
  { file: 'net/tcp', transport: 'tcp', family: 'ipv4' },
  { file: 'net/tcp6', transport: 'tcp', family: 'ipv6' },
  { file: 'net/udp', transport: 'udp', family: 'ipv4' },
  { file: 'net/udp6', transport: 'udp', family: 'ipv6' },
];

interface Owner {
  pid: number;
  name: string;
  executable?: string;
}

/**
 * Reads sockets from `<proc>/net/*`, interface counters from `<proc>/net/dev`, and owners from `<proc>/<pid>/fd`.
 * The inode → process map is rebuilt only when a socket it does not know needs an owner, at most once per call.
 */
export class LinuxNetworkReader implements NetworkReader {
  readonly notes = new Map<string, string>();
  private ownerByInode = new Map<number, Owner>();

  constructor(private readonly proc: ProcRoot) {}

  async sockets(): Promise<SocketEntry[]> {
    const out: SocketEntry[] = [];
    let readable = 0;
    let firstError: unknown;
    for (const table of TABLES) {
      const text = tryReadText(join(this.proc, table.file));
      if (text instanceof Error) {
        // No tcp6/udp6 when IPv6 is disabled: that is not a fault.
        if (errnoCode(text) !== 'ENOENT') this.notes.set(table.file, `cannot read ${join(this.proc, table.file)}: ${text.message}`);
        firstError ??= text;
        continue;
      }
      this.notes.delete(table.file);
      readable++;
      for (const entry of parseSocketTable(text, table.transport, table.family)) out.push(entry);
    }
    if (readable === 0) throw new Error(`cannot read the socket tables under ${join(this.proc, 'net')}: ${(firstError as Error | undefined)?.message ?? 'no table'}`);
    return out;
  }

  async interfaces(): Promise<InterfaceCounters[]> {
    return parseNetDev(readText(join(this.proc, 'net/dev')));
  }

  async owners(entries: SocketEntry[]): Promise<void> {
    let rebuilt = false;
    for (const entry of entries) {
      if (!entry.inode) continue;
      let owner = this.ownerByInode.get(entry.inode);
      if (owner === undefined && !rebuilt) {
        this.rebuild();
        rebuilt = true;
        owner = this.ownerByInode.get(entry.inode);
      }
      if (owner) {
        entry.pid = owner.pid;
        entry.processName = owner.name;
        if (owner.executable) entry.executable = owner.executable;
      }
    }
  }

  /** Walks every process's fd table once: `readlink(/proc/<pid>/fd/<n>)` is `socket:[<inode>]` for a socket. */
  private rebuild(): void {
    const map = new Map<number, Owner>();
    let denied = 0;
    for (const pid of listPids(this.proc)) {
      const fdDir = join(this.proc, String(pid), 'fd');
      let fds: string[];
      try {
        fds = readDirNames(fdDir);
      } catch (err) {
        if (errnoCode(err) === 'EACCES') denied++;
        continue;
      }
      let owner: Owner | undefined;
      for (const fd of fds) {
        const target = readLink(join(fdDir, fd));
        if (target === undefined || !target.startsWith('socket:[')) continue;
        const inode = Number(target.slice(8, -1));
        if (!owner) {
          const comm = tryReadText(join(this.proc, String(pid), 'comm'));
          const exe = readLink(join(this.proc, String(pid), 'exe'));
          owner = { pid, name: comm instanceof Error ? '' : comm.trim(), ...(exe ? { executable: exe } : {}) };
        }
        // A socket shared by a parent and its children (a pre-forked server) is attributed to the lowest pid seen.
        if (!map.has(inode)) map.set(inode, owner);
      }
    }
    if (denied > 0) this.notes.set('owners', `cannot see the sockets of ${denied} processes (run as root to attribute every connection)`);
    else this.notes.delete('owners');
    this.ownerByInode = map;
  }
}
