// Addresses no GeoIP database can place: private, loopback, link-local, documentation, multicast and other reserved
// blocks, from the IANA special-purpose address registries (RFC 6890, RFC 1918, RFC 6598, RFC 5737, RFC 3849, RFC 4193).
import { parseIpv4, parseIpv6 } from '../../core/ip.js';

/** What `geo.name` says of such an address. */
export type SpecialRange = 'private' | 'loopback' | 'link-local' | 'documentation' | 'multicast' | 'reserved';

const V4: [number, number, SpecialRange][] = (
  [
    ['0.0.0.0', 8, 'reserved'],
    ['10.0.0.0', 8, 'private'],
    ['100.64.0.0', 10, 'private'], // RFC 6598 shared address space (carrier-grade NAT)
    ['127.0.0.0', 8, 'loopback'],
    ['169.254.0.0', 16, 'link-local'],
    ['172.16.0.0', 12, 'private'],
    ['192.0.0.0', 24, 'reserved'],
    ['192.0.2.0', 24, 'documentation'],
    ['192.168.0.0', 16, 'private'],
    ['198.18.0.0', 15, 'reserved'], // RFC 2544 benchmarking
    ['198.51.100.0', 24, 'documentation'],
    ['203.0.113.0', 24, 'documentation'],
    ['224.0.0.0', 4, 'multicast'],
    ['240.0.0.0', 4, 'reserved'],
  ] as const
).map(([address, prefix, kind]) => {
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  return [(parseIpv4(address)! & mask) >>> 0, mask, kind];
});

const V6: [bigint, bigint, SpecialRange][] = (
  [
    ['::', 128, 'reserved'],
    ['::1', 128, 'loopback'],
    ['100::', 64, 'reserved'], // RFC 6666 discard-only
    ['2001:db8::', 32, 'documentation'],
    ['fc00::', 7, 'private'], // RFC 4193 unique local
    ['fe80::', 10, 'link-local'],
    ['ff00::', 8, 'multicast'],
  ] as const
).map(([address, prefix, kind]) => {
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(128 - prefix);
  return [parseIpv6(address)! & mask, mask, kind];
});

/** The kind of an IPv4 address given as its 32-bit value, or undefined for a public one. */
export function specialV4(value: number): SpecialRange | undefined {
  for (const [network, mask, kind] of V4) if (((value & mask) >>> 0) === network) return kind;
  return undefined;
}

/** The kind of an address in text form, or undefined for a public one (or not an address). IPv4-mapped IPv6 counts as IPv4. */
export function specialRange(ip: string): SpecialRange | undefined {
  const v4 = parseIpv4(ip);
  if (v4 !== undefined) return specialV4(v4);
  const v6 = parseIpv6(ip);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return specialV4(Number(v6 & 0xffffffffn));
  for (const [network, mask, kind] of V6) if ((v6 & mask) === network) return kind;
  return undefined;
}
