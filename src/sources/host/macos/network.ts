// Parsers of macOS network command output: sockets from `lsof -nP -iTCP -iUDP` (with their owner) and from
// `netstat -anv -p tcp` (the fallback when lsof may not see other users' sockets), interface counters from
// `netstat -ibn`. Written from the man pages (lsof(8), netstat(1)); tested on sample output in testdata/.
import type { InterfaceCounters, SocketEntry, Transport } from '../types.js';

/** An address as netstat prints it: `192.0.2.5.443`, `*.22`, `fe80::1%lo0.1024`, `*.*` (the port after the last dot). */
export function splitNetstatAddress(text: string, family: 'ipv4' | 'ipv6'): { ip: string; port: number } | undefined {
  const dot = text.lastIndexOf('.');
  if (dot < 0) return undefined;
  let ip = text.slice(0, dot);
  const portText = text.slice(dot + 1);
  const port = portText === '*' ? 0 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  if (ip === '*') ip = family === 'ipv6' ? '::' : '0.0.0.0';
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  return { ip, port };
}

/** `[fe80::1]:1024`, `192.0.2.5:443`, `*:22` (lsof's NAME column) → ip and port. */
export function splitLsofAddress(text: string, family: 'ipv4' | 'ipv6'): { ip: string; port: number } | undefined {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return undefined;
  let ip = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  const port = portText === '*' ? 0 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip === '*') ip = family === 'ipv6' ? '::' : '0.0.0.0';
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  return { ip, port };
}

/**
 * `lsof -nP -iTCP -iUDP` columns: COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME. NODE is the protocol (TCP/UDP);
 * NAME is `local`, `local->remote`, then ` (STATE)` for TCP. lsof escapes spaces in COMMAND (`\x20`), so fields split on blanks.
 */
export function parseLsof(text: string): SocketEntry[] {
  const out: SocketEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9) continue;
    const protoAt = f.findIndex((t, i) => i >= 5 && (t === 'TCP' || t === 'UDP'));
    if (protoAt < 0) continue;
    const transport = f[protoAt]!.toLowerCase() as Transport;
    const typeToken = f.slice(3, protoAt).find((t) => t === 'IPv4' || t === 'IPv6');
    const family = typeToken === 'IPv6' ? 'ipv6' : 'ipv4';
    const rest = f.slice(protoAt + 1).join(' ');
    const stateMatch = / \(([A-Z_0-9]+)\)$/.exec(rest);
    const name = stateMatch ? rest.slice(0, stateMatch.index) : rest;
    const [localText, remoteText] = name.split('->');
    const local = localText ? splitLsofAddress(localText, family) : undefined;
    if (!local) continue;
    const remote = remoteText ? splitLsofAddress(remoteText, family) : { ip: family === 'ipv6' ? '::' : '0.0.0.0', port: 0 };
    if (!remote) continue;
    const pid = Number(f[1]);
    const tcpState = stateMatch?.[1];
    const listening = transport === 'tcp' ? tcpState === 'LISTEN' : remoteText === undefined;
    out.push({
      transport,
      family,
      localIp: local.ip,
      localPort: local.port,
      remoteIp: remote.ip,
      remotePort: remote.port,
      state: transport === 'tcp' ? (tcpState ?? 'UNKNOWN') : listening ? 'LISTEN' : 'ESTABLISHED',
      listening,
      ...(Number.isInteger(pid) ? { pid } : {}),
      processName: f[0]!.replace(/\\x20/g, ' '),
      userName: f[2]!,
    });
  }
  // lsof lists a socket once per process holding it (a forked server): keep the first.
  const seen = new Set<string>();
  return out.filter((s) => {
    const key = `${s.transport}|${s.localIp}|${s.localPort}|${s.remoteIp}|${s.remotePort}|${s.pid}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * `netstat -anv -p tcp`: a title line, a header, then one row per socket. Columns are found from the header, since
 * macOS releases differ (`pid` on older ones, `process:pid` on newer ones, `rxbytes`/`txbytes` inserted).
 */
export function parseNetstatSockets(text: string): SocketEntry[] {
  const lines = text.split('\n');
  const headerAt = lines.findIndex((l) => l.startsWith('Proto'));
  if (headerAt < 0) return [];
  const header = lines[headerAt]!.replace('Local Address', 'Local_Address').replace('Foreign Address', 'Foreign_Address').trim().split(/\s+/);
  const col = (name: string) => header.indexOf(name);
  const localAt = col('Local_Address');
  const remoteAt = col('Foreign_Address');
  const stateAt = col('(state)');
  const pidAt = col('pid') >= 0 ? col('pid') : col('process:pid');
  const out: SocketEntry[] = [];
  for (const line of lines.slice(headerAt + 1)) {
    const f = line.trim().split(/\s+/);
    const proto = f[0] ?? '';
    if (!proto.startsWith('tcp') && !proto.startsWith('udp')) continue;
    const transport: Transport = proto.startsWith('tcp') ? 'tcp' : 'udp';
    // tcp46 is a dual-stack socket; it is listed as IPv6 (its wildcard is ::).
    const family = proto.endsWith('4') && !proto.endsWith('46') ? 'ipv4' : 'ipv6';
    const local = splitNetstatAddress(f[localAt] ?? '', family);
    const remote = splitNetstatAddress(f[remoteAt] ?? '', family);
    if (!local || !remote) continue;
    // UDP rows have no state column value, which shifts the rest: only TCP rows are read past the addresses.
    const state = transport === 'tcp' ? (f[stateAt] ?? 'UNKNOWN') : remote.port === 0 ? 'LISTEN' : 'ESTABLISHED';
    const entry: SocketEntry = { transport, family, localIp: local.ip, localPort: local.port, remoteIp: remote.ip, remotePort: remote.port, state, listening: state === 'LISTEN' };
    if (transport === 'tcp' && pidAt >= 0) {
      // A process name with spaces (`Google Chrome H:901`) spreads over several fields: the pid field is found
      // counting from the right, and the name is everything from its column up to it.
      const pidField = f.length > header.length ? pidAt + (f.length - header.length) : pidAt;
      const value = f.slice(pidAt, pidField + 1).join(' ');
      const colon = value.lastIndexOf(':');
      const pid = Number(colon >= 0 ? value.slice(colon + 1) : value);
      if (Number.isInteger(pid) && pid > 0) entry.pid = pid;
      if (colon > 0) entry.processName = value.slice(0, colon);
    }
    out.push(entry);
  }
  return out;
}

/**
 * `netstat -ibn`: one row per interface and address; the `<Link#N>` row carries the interface's counters. The
 * Address column is empty for some links (lo0), so the counters are read from the right:
 * Ipkts Ierrs Ibytes Opkts Oerrs Obytes Coll.
 */
export function parseNetstatInterfaces(text: string): InterfaceCounters[] {
  const out: InterfaceCounters[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !(f[2] ?? '').startsWith('<Link#')) continue;
    const n = f.slice(-7).map(Number);
    if (n.some((x) => !Number.isFinite(x))) continue;
    out.push({
      name: f[0]!.replace(/\*$/, ''),
      rxPackets: n[0]!,
      rxErrors: n[1]!,
      rxBytes: n[2]!,
      txPackets: n[3]!,
      txErrors: n[4]!,
      txBytes: n[5]!,
      rxDropped: 0,
      txDropped: 0,
    });
  }
  return out;
}
