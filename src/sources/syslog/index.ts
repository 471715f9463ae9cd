// The syslog receiver: UDP (RFC 5426), TCP (RFC 6587) and TLS (RFC 5425) listeners that frame whole messages,
// PRI included, and hand them in batches to the pipeline; parsing them is the syslog parser's job.
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { VigilError, errorMessage } from '../../core/errors.js';
import type { Ingest } from '../../core/ingest.js';
import { addressKey } from '../../core/ip.js';
import { TokenBuckets, type RateLimit } from '../../core/token-bucket.js';
import { Delivery } from './delivery.js';
import { splitDatagram } from './framing.js';
import { StreamSession, formatPeer, type SessionSettings, type StreamInput } from './stream-session.js';

/**
 * A port to listen on: a number from 1 to 65535, 0 for "this listener is off" (as `--syslog-port 0` means), or
 * `'ephemeral'` for a free port the OS chooses (tests). `0` cannot mean both, hence the separate word.
 */
export type ListenPort = number | 'ephemeral';

export interface SyslogTlsOptions {
  /** Port of syslog over TLS (RFC 5425; 6514 is its registered port). 0 turns TLS off. */
  port: ListenPort;
  /** PEM certificate chain file. */
  cert: string;
  /** PEM private key file. */
  key: string;
  /** PEM CA file. When given, senders must present a certificate it signed (mutual TLS, RFC 5425 section 5.1). */
  ca?: string;
}

export interface SyslogOptions {
  /** Address to listen on: `127.0.0.1` (loopback), `0.0.0.0` (all IPv4), `::` (all IPv6 and IPv4). */
  host: string;
  /**
   * UDP and TCP listen on this one port. A fixed port must be free for both; with `'ephemeral'` the OS picks a TCP
   * port and UDP binds the same number (retried with another port if UDP has it taken), so both always match.
   */
  port: ListenPort;
  tls?: SyslogTlsOptions;
  /**
   * Longest message kept, in bytes (default 64 KiB): longer ones are cut there, the rest of the frame discarded,
   * and each cut counted as `countDropped(input, 'truncated')`. Holds for TCP lines without a newline too.
   */
  maxMessageBytes?: number;
  /** Open connections allowed per listener (TCP, TLS) (default 1000); more are closed at once and counted. */
  maxConnections?: number;
  /**
   * A connection that sends nothing for this long is closed (default 10 minutes; 0 never closes). Not shorter:
   * a sender such as rsyslog loses the message it writes into a connection the receiver has closed.
   */
  idleTimeoutMs?: number;
  /** Longest time a message waits to be batched, in ms (default 20). */
  batchMs?: number;
  /** Most messages in one `ingestLines` call (default 500). */
  batchSize?: number;
  /** Messages per second per TCP or TLS connection; over it the connection is read more slowly (none when absent). */
  tcpRateLimit?: RateLimit;
  /**
   * Messages per second per UDP sender address (an IPv6 /64); over it datagrams are dropped and counted as
   * `countDropped('syslog_udp', 'rate_limited', n, intentional)`, since UDP cannot slow a sender down.
   */
  udpRateLimit?: RateLimit;
}

export const SYSLOG_DEFAULTS = {
  maxMessageBytes: 64 * 1024,
  maxConnections: 1000,
  idleTimeoutMs: 10 * 60 * 1000,
  batchMs: 20,
  batchSize: 500,
} as const;

/** The syslog limits from the `limits` block of the configuration. */
export function syslogRateLimits(limits: { syslog_tcp: { messages_per_second: number; burst: number }; syslog_udp: { messages_per_second: number; burst: number } }): Pick<SyslogOptions, 'tcpRateLimit' | 'udpRateLimit'> {
  return {
    tcpRateLimit: { rate: limits.syslog_tcp.messages_per_second, burst: limits.syslog_tcp.burst },
    udpRateLimit: { rate: limits.syslog_udp.messages_per_second, burst: limits.syslog_udp.burst },
  };
}

export interface SyslogStats {
  /** Open TCP and TLS connections. */
  connections: number;
  /** Of those, connections not being read because the pipeline is behind or they are over their message rate. */
  pausedConnections: number;
  /** Of those, connections held back by their message rate. */
  rateLimitedConnections: number;
  /** Messages framed since the start, all inputs. */
  messages: number;
}

export interface SyslogReceiver {
  /** The bound UDP port (equal to `tcpPort`), 0 when off. */
  readonly udpPort: number;
  readonly tcpPort: number;
  readonly tlsPort: number | undefined;
  stats(): SyslogStats;
  /** Stops listening, closes connections, delivers every message already read, and resolves once they are taken. */
  close(): Promise<void>;
}

/** libuv reads a datagram into a 64 KiB buffer: one that fills it was cut by the OS (UV_UDP_PARTIAL, unseen by Node). */
const UDP_READ_BUFFER_BYTES = 64 * 1024;
/** Datagram lines held (batching or in flight) before new datagrams are dropped, in batches: UDP cannot push back. */
const UDP_BACKLOG_BATCHES = 20;
/** Tries at finding an ephemeral port free for both TCP and UDP. */
const EPHEMERAL_ATTEMPTS = 20;
/** A TLS handshake must finish in this time, so half-open handshakes do not hold connection slots for long. */
const TLS_HANDSHAKE_TIMEOUT_MS = 30_000;
/** The least `maxMessageBytes` accepted; RFC 5424 section 6.1 has receivers take at least 480 octets, and ask 2048. */
const MIN_MESSAGE_BYTES = 64;

export async function startSyslog(options: SyslogOptions, ingest: Ingest): Promise<SyslogReceiver> {
  const settings = validate(options);
  const sessions = new Set<StreamSession>();
  let messages = 0;
  let closing: Promise<void> | undefined;
  const countMessages = (count: number): void => {
    messages += count;
  };
  const delivery = new Delivery(ingest, () => {
    for (const session of sessions) session.updateFlow();
  });

  const accept = (socket: net.Socket, input: StreamInput): void => {
    if (closing !== undefined) {
      socket.destroy();
      return;
    }
    const session = new StreamSession(socket, input, settings, delivery, countMessages);
    sessions.add(session);
    void session.done.then(() => sessions.delete(session));
  };
  const dropConnection = (input: StreamInput) => () => delivery.countDropped(input, 'connection_limit');

  const datagrams = new DatagramBatcher(delivery, settings);
  const udpLimit = options.udpRateLimit !== undefined && options.udpRateLimit.rate > 0 ? new TokenBuckets(options.udpRateLimit) : undefined;
  const onDatagram = (datagram: Buffer, rinfo: dgram.RemoteInfo): void => {
    const lines: string[] = [];
    let cut = 0;
    splitDatagram(datagram, settings.maxMessageBytes, (text, truncated) => {
      if (truncated) cut++;
      if (text !== '') lines.push(text);
    });
    // Cut by the OS as well: counted once, unless our own limit already counted it.
    if (datagram.length >= UDP_READ_BUFFER_BYTES && cut === 0) cut = 1;
    delivery.countDropped('syslog_udp', 'truncated', cut);
    if (lines.length === 0) return;
    countMessages(lines.length);
    if (udpLimit !== undefined) {
      const now = performance.now();
      if (!udpLimit.get(addressKey(rinfo.address), now).tryTake(lines.length, now)) {
        delivery.countDropped('syslog_udp', 'rate_limited', lines.length, true);
        return;
      }
    }
    datagrams.add(formatPeer(rinfo.address, rinfo.port), lines);
  };

  const opened: { tcp?: net.Server; udp?: dgram.Socket; tls?: tls.Server } = {};
  const handshaking = new Set<net.Socket>();
  try {
    if (options.port !== 0) {
      const plain = await listenPlain(
        options.host,
        options.port,
        () => {
          const server = net.createServer((socket) => accept(socket, 'syslog_tcp'));
          server.maxConnections = settings.maxConnections;
          server.on('drop', dropConnection('syslog_tcp'));
          return server;
        },
        onDatagram,
      );
      opened.tcp = plain.tcp;
      opened.udp = plain.udp;
    }
    if (options.tls !== undefined && options.tls.port !== 0) {
      const server = await createTlsServer(options.tls);
      server.maxConnections = settings.maxConnections;
      server.on('drop', dropConnection('syslog_tls'));
      server.on('secureConnection', (socket: tls.TLSSocket) => accept(socket, 'syslog_tls'));
      // Connections still in their handshake are no session yet; `close` must end them too.
      server.on('connection', (socket: net.Socket) => {
        handshaking.add(socket);
        socket.once('close', () => handshaking.delete(socket));
      });
      // A failed handshake (a scanner, a wrong certificate) loses whatever that sender meant to send.
      server.on('tlsClientError', (_err, socket) => {
        delivery.countDropped('syslog_tls', 'tls_error');
        socket.destroy();
      });
      opened.tls = server;
      await listenTcp(server, options.tls.port === 'ephemeral' ? 0 : options.tls.port, options.host, 'tls');
    }
  } catch (err) {
    await Promise.all([closeServer(opened.tcp), closeServer(opened.tls), closeUdp(opened.udp)]);
    throw err;
  }

  const udpPort = opened.udp === undefined ? 0 : opened.udp.address().port;
  const tcpPort = opened.tcp === undefined ? 0 : serverPort(opened.tcp);
  const tlsPort = opened.tls === undefined ? undefined : serverPort(opened.tls);

  return {
    udpPort,
    tcpPort,
    tlsPort,
    stats: () => {
      let open = 0;
      let paused = 0;
      let throttled = 0;
      for (const session of sessions) {
        if (session.open) open++;
        if (session.paused) paused++;
        if (session.throttled) throttled++;
      }
      return { connections: open, pausedConnections: paused, rateLimitedConnections: throttled, messages };
    },
    close: () => {
      closing ??= (async () => {
        const listeners = Promise.all([closeServer(opened.tcp), closeServer(opened.tls), closeUdp(opened.udp)]);
        for (const socket of handshaking) socket.destroy();
        for (const session of sessions) session.stop();
        // What was read is still delivered, but not for ever if the store cannot take it.
        delivery.stopping(STOP_GRACE_MS);
        await Promise.all([...sessions].map((session) => session.done));
        await datagrams.close();
        await listeners;
        delivery.dispose();
      })();
      return closing;
    },
  };
}

type Settings = SessionSettings & { maxConnections: number };

/** How long a stop waits for batches the store keeps refusing. */
const STOP_GRACE_MS = 10_000;

function validate(options: SyslogOptions): Settings {
  const port = (value: ListenPort, field: string): void => {
    if (value === 'ephemeral') return;
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      throw new VigilError('bad_config', `${field} must be a port from 0 to 65535 or 'ephemeral'`, { location: field });
    }
  };
  const count = (value: number | undefined, fallback: number, field: string, min: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min) {
      throw new VigilError('bad_config', `${field} must be an integer of at least ${min}`, { location: field });
    }
    return value;
  };
  port(options.port, 'syslog.port');
  if (options.tls !== undefined) port(options.tls.port, 'syslog.tls.port');
  return {
    maxMessageBytes: count(options.maxMessageBytes, SYSLOG_DEFAULTS.maxMessageBytes, 'syslog.max_message_bytes', MIN_MESSAGE_BYTES),
    maxConnections: count(options.maxConnections, SYSLOG_DEFAULTS.maxConnections, 'syslog.max_connections', 1),
    idleTimeoutMs: count(options.idleTimeoutMs, SYSLOG_DEFAULTS.idleTimeoutMs, 'syslog.idle_timeout_ms', 0),
    batchMs: count(options.batchMs, SYSLOG_DEFAULTS.batchMs, 'syslog.batch_ms', 0),
    batchSize: count(options.batchSize, SYSLOG_DEFAULTS.batchSize, 'syslog.batch_size', 1),
    ...(options.tcpRateLimit !== undefined && options.tcpRateLimit.rate > 0 ? { rateLimit: options.tcpRateLimit } : {}),
  };
}

/**
 * Collects datagram lines per sender and hands them over every `batchMs` or `batchSize` lines. UDP cannot slow a
 * sender down, so while the pipeline is congested, or too many lines are already waiting, datagrams are counted
 * as dropped (`congested`) rather than held.
 */
class DatagramBatcher {
  private groups = new Map<string, string[]>();
  private pendingLines = 0;
  private inFlightLines = 0;
  private readonly flights = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly delivery: Delivery,
    private readonly settings: SessionSettings,
  ) {}

  add(peer: string, lines: string[]): void {
    const backlog = this.pendingLines + this.inFlightLines;
    if (this.delivery.congested() || backlog + lines.length > UDP_BACKLOG_BATCHES * this.settings.batchSize) {
      this.delivery.countDropped('syslog_udp', 'congested', lines.length);
      return;
    }
    const group = this.groups.get(peer);
    if (group === undefined) this.groups.set(peer, lines);
    else for (const line of lines) group.push(line);
    this.pendingLines += lines.length;
    if (this.pendingLines >= this.settings.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.settings.batchMs);
  }

  async close(): Promise<void> {
    this.flush();
    await Promise.all(this.flights);
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const groups = this.groups;
    this.groups = new Map();
    this.pendingLines = 0;
    for (const [peer, lines] of groups) {
      for (let from = 0; from < lines.length; from += this.settings.batchSize) {
        const batch = lines.slice(from, from + this.settings.batchSize);
        this.inFlightLines += batch.length;
        const flight = this.delivery.deliver(batch, { format: 'syslog', input: 'syslog_udp', peer }).then(() => {
          this.inFlightLines -= batch.length;
          this.flights.delete(flight);
        });
        this.flights.add(flight);
      }
    }
  }
}

async function listenPlain(
  host: string,
  port: ListenPort,
  createTcp: () => net.Server,
  onDatagram: (datagram: Buffer, rinfo: dgram.RemoteInfo) => void,
): Promise<{ tcp: net.Server; udp: dgram.Socket }> {
  const attempts = port === 'ephemeral' ? EPHEMERAL_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const tcp = createTcp();
    const tcpPort = await listenTcp(tcp, port === 'ephemeral' ? 0 : port, host, 'tcp');
    const udp = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    udp.on('message', onDatagram);
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(tcpPort, host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      // After binding, an error (an ICMP report on some systems) concerns one datagram, never the listener.
      udp.on('error', () => {});
      return { tcp, udp };
    } catch (err) {
      await Promise.all([closeServer(tcp), closeUdp(udp)]);
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!inUse || attempt >= attempts) throw listenError('udp', host, tcpPort, err);
    }
  }
}

function listenTcp(server: net.Server, port: number, host: string, kind: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(listenError(kind, host, port, err));
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      // Errors on accepted sockets are handled per socket; a server error after listening must not crash Vigil.
      server.on('error', () => {});
      resolve(serverPort(server));
    });
  });
}

async function createTlsServer(options: SyslogTlsOptions): Promise<tls.Server> {
  const read = async (path: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new VigilError('bad_config', `cannot read the syslog TLS ${what}: ${errorMessage(err)}`, { location: path, cause: err });
    }
  };
  const [cert, key, ca] = await Promise.all([
    read(options.cert, 'certificate'),
    read(options.key, 'key'),
    options.ca === undefined ? undefined : read(options.ca, 'CA'),
  ]);
  try {
    return tls.createServer({
      cert,
      key,
      ...(ca === undefined ? {} : { ca, requestCert: true, rejectUnauthorized: true }),
      minVersion: 'TLSv1.2', // TLS 1.0 and 1.1 are deprecated (RFC 8996)
      handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
    });
  } catch (err) {
    throw new VigilError('bad_config', `invalid syslog TLS certificate or key: ${errorMessage(err)}`, { location: options.cert, cause: err });
  }
}

function listenError(kind: string, host: string, port: number, err: unknown): VigilError {
  return new VigilError('unavailable', `syslog cannot listen on ${kind} ${host}:${port}: ${errorMessage(err)}`, { cause: err });
}

function serverPort(server: net.Server): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

function closeServer(server: net.Server | undefined): Promise<void> {
  if (server === undefined || !server.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}

function closeUdp(socket: dgram.Socket | undefined): Promise<void> {
  if (socket === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // not bound, or already closed
    }
  });
}
