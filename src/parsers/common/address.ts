// Classifies a network address as written in a log (IPv4, IPv6, IPv4-mapped IPv6, or a host name) into ECS
// endpoint fields: `address` keeps what the log said, `ip` or `domain` say what it is (as Filebeat does).
import { isIPv6 } from 'node:net';
import type { EcsEndpoint } from '../../core/event.js';

/** True for a dotted-quad IPv4 address without leading zeros (`192.030.0.6` is ambiguous and refused). */
export function isIPv4(text: string): boolean {
  const n = text.length;
  if (n < 7 || n > 15) return false;
  let octets = 0;
  let value = 0;
  let len = 0;
  let leadingZero = false;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 46;
    if (c === 46 /* . */) {
      if (len === 0 || value > 255 || (leadingZero && len > 1)) return false;
      octets++;
      value = 0;
      len = 0;
      leadingZero = false;
    } else if (c >= 48 && c <= 57) {
      if (len === 0) leadingZero = c === 48;
      value = value * 10 + (c - 48);
      if (++len > 3) return false;
    } else {
      return false;
    }
  }
  return octets === 4;
}

/** The IP address `text` denotes (IPv4-mapped IPv6 `::ffff:1.2.3.4` becomes `1.2.3.4`), or undefined. */
export function normalizeIp(text: string): string | undefined {
  if (isIPv4(text)) return text;
  // 45 characters is the longest IPv6 text form; allow a zone id (`fe80::1%eth0`) on top.
  if (text.length < 2 || text.length > 64 || text.indexOf(':') < 0) return undefined;
  let candidate = text;
  // Brackets appear around IPv6 addresses in some logs (`[2001:db8::1]`).
  if (candidate.charCodeAt(0) === 91 && candidate.charCodeAt(candidate.length - 1) === 93) candidate = candidate.slice(1, -1);
  if (!isIPv6(candidate)) return undefined;
  if (candidate.length > 7 && candidate.charCodeAt(0) === 58 && /^::ffff:/i.test(candidate)) {
    const v4 = candidate.slice(7);
    if (isIPv4(v4)) return v4;
  }
  return candidate;
}

/** True for something that reads as a DNS host name: labels of letters, digits, `-` and `_`, at least one letter. */
export function isHostName(text: string): boolean {
  const n = text.length;
  if (n === 0 || n > 253) return false;
  let letter = false;
  let labelLen = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (labelLen === 0) return false;
      labelLen = 0;
      continue;
    }
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) letter = true;
    else if (!((c >= 48 && c <= 57) || c === 45 || c === 95)) return false;
    if (labelLen === 0 && c === 45) return false;
    if (++labelLen > 63) return false;
  }
  return letter;
}

/**
 * ECS endpoint fields for an address read from a log; `port` is set when given and valid.
 * Returns undefined for an empty address or `-`.
 */
export function endpoint(raw: string, port?: string): EcsEndpoint | undefined {
  if (raw.length === 0 || raw === '-' || raw.length > 512) return undefined;
  const result: EcsEndpoint = { address: raw };
  const ip = normalizeIp(raw);
  if (ip !== undefined) result.ip = ip;
  else if (isHostName(raw)) result.domain = raw.charCodeAt(raw.length - 1) === 46 ? raw.slice(0, -1) : raw;
  if (port !== undefined && port.length > 0 && port.length <= 5) {
    const p = Number(port);
    if (Number.isInteger(p) && p >= 0 && p <= 65535) result.port = p;
  }
  return result;
}
