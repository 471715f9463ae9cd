// The network collector (`host.network`): new connections and listeners as events, with the owning process, and
// per-interface traffic as metrics. It compares each sample's socket list with the previous one, so a connection
// opened and closed between two samples is seen only if it lingers (TIME_WAIT) — the price of not hooking the kernel.
import { performance } from 'node:perf_hooks';
import { IntervalCollector, round4, type CollectorContext } from './collector.js';
import type { InterfaceCounters, NetworkReader, SocketEntry } from './types.js';

export interface NetworkOptions {
  intervalMs: number;
  /** Report connections whose both ends are on this host (127.0.0.0/8, ::1); default false: they are mostly local plumbing. */
  loopbackConnections?: boolean;
  /** At most this many connection events per sample; the rest are counted in health. */
  maxConnectionEvents?: number;
}

const DATASET = 'host.network';

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

function isLoopbackInterface(name: string): boolean {
  return /^lo\d*$/.test(name);
}

function endpoint(ip: string, port: number): { ip: string; port: number } {
  return { ip, port };
}

function listenerKey(e: SocketEntry): string {
  return `${e.transport}|${e.localIp}|${e.localPort}|${e.inode ?? e.pid ?? ''}`;
}

function connectionKey(e: SocketEntry): string {
  return `${e.transport}|${e.localIp}|${e.localPort}|${e.remoteIp}|${e.remotePort}`;
}

/** `ip:port`, with IPv6 in brackets. */
function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export class NetworkCollector extends IntervalCollector {
  private readonly loopbackConnections: boolean;
  private readonly maxConnectionEvents: number;
  private listeners = new Map<string, SocketEntry>();
  private connections = new Set<string>();
  private counters = new Map<string, InterfaceCounters>();
  private countersAt = 0;
  private baseline = false;
  private unreported = 0;
  private lastCounts = { sockets: 0, listeners: 0, interfaces: 0 };

  constructor(
    context: CollectorContext,
    private readonly reader: NetworkReader,
    options: NetworkOptions,
    private readonly userName: (uid: number) => string | undefined = () => undefined,
  ) {
    super('host.network', context, options.intervalMs);
    this.loopbackConnections = options.loopbackConnections ?? false;
    this.maxConnectionEvents = options.maxConnectionEvents ?? 1000;
  }

  protected override details(): Record<string, unknown> {
    return { ...this.lastCounts, ...(this.unreported > 0 ? { connections_not_reported: this.unreported } : {}) };
  }

  protected async collect(): Promise<Record<string, unknown>[]> {
    const timestamp = new Date(this.clock.now()).toISOString();
    const sockets = await this.reader.sockets();
    const docs: Record<string, unknown>[] = [];

    const listeners = new Map<string, SocketEntry>();
    const listeningPorts = new Set<string>();
    const connections = new Set<string>();
    const fresh: SocketEntry[] = [];
    const opened: SocketEntry[] = [];
    for (const s of sockets) {
      if (s.listening) {
        const key = listenerKey(s);
        listeners.set(key, s);
        listeningPorts.add(`${s.transport}|${s.localPort}`);
        if (this.baseline && !this.listeners.has(key)) fresh.push(s);
        continue;
      }
      if (s.state === 'CLOSE') continue;
      const key = connectionKey(s);
      connections.add(key);
      if (!this.baseline || this.connections.has(key)) continue;
      if (!this.loopbackConnections && isLoopback(s.localIp) && isLoopback(s.remoteIp)) continue;
      opened.push(s);
    }
    let reported = opened;
    if (opened.length > this.maxConnectionEvents) {
      this.unreported += opened.length - this.maxConnectionEvents;
      reported = opened.slice(0, this.maxConnectionEvents);
    }
    await this.reader.owners([...fresh, ...reported]);

    for (const s of fresh) docs.push(this.listenerEvent(s, 'listening_started', timestamp));
    if (this.baseline) {
      for (const [key, s] of this.listeners) if (!listeners.has(key)) docs.push(this.listenerEvent(s, 'listening_stopped', timestamp));
    }
    for (const s of reported) docs.push(this.connectionEvent(s, listeningPorts.has(`${s.transport}|${s.localPort}`), timestamp));
    // Owners resolved once are kept for the stop event of a listener.
    for (const [key, s] of listeners) {
      const known = this.listeners.get(key);
      if (known?.pid !== undefined && s.pid === undefined) listeners.set(key, known);
    }
    this.listeners = listeners;
    this.connections = connections;
    this.baseline = true;

    let interfaces = 0;
    try {
      const counters = await this.reader.interfaces();
      interfaces = counters.length;
      for (const doc of this.trafficEvents(counters, timestamp)) docs.push(doc);
      this.problems.unnote('interfaces');
    } catch (err) {
      this.problems.note('interfaces', `cannot read interface counters: ${(err as Error).message}`);
    }
    for (const [key, note] of this.reader.notes ?? []) this.problems.note(`reader:${key}`, note);
    this.lastCounts = { sockets: sockets.length, listeners: listeners.size, interfaces };
    return docs;
  }

  private owner(s: SocketEntry): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (s.pid !== undefined) {
      out.process = { pid: s.pid, ...(s.processName ? { name: s.processName } : {}), ...(s.executable ? { executable: s.executable } : {}) };
    }
    const name = s.userName ?? (s.uid !== undefined ? this.userName(s.uid) : undefined);
    if (s.uid !== undefined || name !== undefined) out.user = { ...(s.uid !== undefined ? { id: String(s.uid) } : {}), ...(name ? { name } : {}) };
    return out;
  }

  private by(s: SocketEntry): string {
    return s.pid !== undefined ? ` by ${s.processName || 'pid'}[${s.pid}]` : '';
  }

  private listenerEvent(s: SocketEntry, action: 'listening_started' | 'listening_stopped', timestamp: string): Record<string, unknown> {
    const local = endpoint(s.localIp, s.localPort);
    const started = action === 'listening_started';
    return {
      '@timestamp': timestamp,
      event: { kind: 'event', dataset: DATASET, module: 'host', category: ['network'], type: [started ? 'start' : 'end'], action },
      message: `${s.transport} ${started ? 'listening on' : 'no longer listening on'} ${hostPort(s.localIp, s.localPort)}${this.by(s)}`,
      network: { transport: s.transport, type: s.family },
      destination: local,
      system: { socket: { state: s.state, local, ...(s.inode ? { inode: s.inode } : {}) } },
      ...this.owner(s),
    };
  }

  private connectionEvent(s: SocketEntry, inbound: boolean, timestamp: string): Record<string, unknown> {
    const local = endpoint(s.localIp, s.localPort);
    const remote = endpoint(s.remoteIp, s.remotePort);
    // ECS: source is the side that initiated; a host-based view says ingress/egress.
    const [source, destination] = inbound ? [remote, local] : [local, remote];
    return {
      '@timestamp': timestamp,
      event: { kind: 'event', dataset: DATASET, module: 'host', category: ['network'], type: ['connection', 'start'], action: 'connection_opened' },
      message: `${s.transport} connection ${inbound ? 'from' : 'to'} ${hostPort(s.remoteIp, s.remotePort)} ${inbound ? 'to' : 'from'} ${hostPort(s.localIp, s.localPort)} (${s.state})${this.by(s)}`,
      network: { transport: s.transport, type: s.family, direction: inbound ? 'ingress' : 'egress' },
      source,
      destination,
      system: { socket: { state: s.state, local, remote, ...(s.inode ? { inode: s.inode } : {}) } },
      ...this.owner(s),
    };
  }

  /** One event per interface (Metricbeat's `system.network` counters plus per-second rates) and one host total (ECS `host.network.*`). */
  private trafficEvents(counters: InterfaceCounters[], timestamp: string): Record<string, unknown>[] {
    const now = performance.now();
    const seconds = (now - this.countersAt) / 1000;
    const previous = this.counters;
    this.counters = new Map(counters.map((c) => [c.name, c]));
    this.countersAt = now;
    if (previous.size === 0 || !(seconds > 0)) return [];
    const docs: Record<string, unknown>[] = [];
    const total = { rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0 };
    const metricset = { name: 'interface', period: this.intervalMs };
    for (const c of counters) {
      const before = previous.get(c.name);
      if (!before) continue;
      const d = {
        rxBytes: c.rxBytes - before.rxBytes,
        rxPackets: c.rxPackets - before.rxPackets,
        txBytes: c.txBytes - before.txBytes,
        txPackets: c.txPackets - before.txPackets,
      };
      // A counter that went down was reset (interface re-created, 32-bit wrap): no rate this time.
      if (d.rxBytes < 0 || d.rxPackets < 0 || d.txBytes < 0 || d.txPackets < 0) continue;
      if (!isLoopbackInterface(c.name)) {
        total.rxBytes += d.rxBytes;
        total.rxPackets += d.rxPackets;
        total.txBytes += d.txBytes;
        total.txPackets += d.txPackets;
      }
      docs.push({
        '@timestamp': timestamp,
        event: { kind: 'metric', dataset: DATASET, module: 'host', category: ['host'], type: ['info'] },
        metricset,
        system: {
          network: {
            name: c.name,
            in: { bytes: c.rxBytes, packets: c.rxPackets, errors: c.rxErrors, dropped: c.rxDropped, bytes_per_sec: round4(d.rxBytes / seconds), packets_per_sec: round4(d.rxPackets / seconds) },
            out: { bytes: c.txBytes, packets: c.txPackets, errors: c.txErrors, dropped: c.txDropped, bytes_per_sec: round4(d.txBytes / seconds), packets_per_sec: round4(d.txPackets / seconds) },
          },
        },
      });
    }
    docs.push({
      '@timestamp': timestamp,
      event: { kind: 'metric', dataset: DATASET, module: 'host', category: ['host'], type: ['info'] },
      metricset: { name: 'network', period: this.intervalMs },
      host: {
        network: {
          ingress: { bytes: total.rxBytes, packets: total.rxPackets },
          egress: { bytes: total.txBytes, packets: total.txPackets },
        },
      },
      system: {
        network: {
          in: { bytes_per_sec: round4(total.rxBytes / seconds), packets_per_sec: round4(total.rxPackets / seconds) },
          out: { bytes_per_sec: round4(total.txBytes / seconds), packets_per_sec: round4(total.txPackets / seconds) },
        },
      },
    });
    return docs;
  }
}
