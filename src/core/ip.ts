// IP addresses and CIDR blocks as 128-bit integers, so one numeric column and one range test serve both families.
// IPv4 is mapped into IPv6 as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2); text forms follow RFC 4291 §2.2 and RFC 4632 §3.1.
// Hand-written scanners, no regular expressions: the input is attacker-controlled and every loop advances.

const V4_MAPPED = 0xffff00000000n;
const ALL_ONES = (1n << 128n) - 1n;

export interface IpRange {
  low: bigint;
  high: bigint;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Dotted-quad IPv4 (`192.0.2.1`) to its 32-bit value, or undefined. Leading zeros are refused (`010` is octal to some parsers). */
export function parseIpv4(text: string): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a final '.' closes the last part
    if (c === 46) {
      if (digits === 0 || part > 255) return undefined;
      value = value * 256 + part;
      parts++;
      if (parts > 4) return undefined;
      part = 0;
      digits = 0;
    } else if (isDigit(c)) {
      if (digits > 0 && part === 0) return undefined; // leading zero
      part = part * 10 + (c - 48);
      digits++;
      if (digits > 3) return undefined;
    } else {
      return undefined;
    }
  }
  return parts === 4 ? value : undefined;
}

/** RFC 4291 §2.2 text (`2001:db8::1`, `::ffff:192.0.2.1`, an optional `%zone` dropped) to its 128-bit value. */
export function parseIpv6(input: string): bigint | undefined {
  let text = input;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (text.length < 2 || text.length > 45) return undefined;
  const groups: number[] = [];
  let gap = -1; // index in `groups` where '::' stands
  let i = 0;
  if (text.startsWith('::')) {
    gap = 0;
    i = 2;
    if (i === text.length) return 0n;
  } else if (text.charCodeAt(0) === 58) {
    return undefined;
  }
  while (i < text.length) {
    // Either an IPv4 tail (only as the last piece) or 1-4 hex digits.
    let j = i;
    let group = 0;
    let sawDot = false;
    while (j < text.length && text.charCodeAt(j) !== 58) {
      if (text.charCodeAt(j) === 46) sawDot = true;
      j++;
    }
    const piece = text.slice(i, j);
    if (sawDot) {
      if (j !== text.length) return undefined;
      const v4 = parseIpv4(piece);
      if (v4 === undefined) return undefined;
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
    } else {
      if (piece.length === 0 || piece.length > 4) return undefined;
      for (let k = 0; k < piece.length; k++) {
        const h = hexValue(piece.charCodeAt(k));
        if (h < 0) return undefined;
        group = group * 16 + h;
      }
      groups.push(group);
    }
    if (groups.length > 8) return undefined;
    if (j === text.length) break;
    // j is at ':'
    if (text.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return undefined; // a second '::'
      gap = groups.length;
      i = j + 2;
      if (i === text.length) break;
    } else {
      i = j + 1;
      if (i === text.length) return undefined; // trailing single ':'
    }
  }
  if (gap >= 0) {
    if (groups.length > 7) return undefined; // '::' stands for at least one group
    const fill = new Array<number>(8 - groups.length).fill(0);
    groups.splice(gap, 0, ...fill);
  }
  if (groups.length !== 8) return undefined;
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

/** Any IP text to its 128-bit value, IPv4 mapped to ::ffff:a.b.c.d; undefined when it is not an address. */
export function parseIp(text: string): bigint | undefined {
  if (text.includes(':')) return parseIpv6(text);
  const v4 = parseIpv4(text);
  return v4 === undefined ? undefined : V4_MAPPED | BigInt(v4);
}

/**
 * `10.0.0.0/8` or `2001:db8::/32` to the inclusive range of 128-bit values it covers (RFC 4632 §3.1).
 * Host bits set below the prefix (`10.1.2.3/8`) are ignored, as routers do.
 */
export function parseCidr(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1 || text.length - slash > 4) return undefined;
  let prefix = 0;
  for (let i = slash + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return undefined;
    if (i > slash + 1 && prefix === 0) return undefined; // leading zero
    prefix = prefix * 10 + (c - 48);
  }
  const addressText = text.slice(0, slash);
  let address: bigint | undefined;
  if (addressText.includes(':')) {
    if (prefix > 128) return undefined;
    address = parseIpv6(addressText);
  } else {
    if (prefix > 32) return undefined;
    const v4 = parseIpv4(addressText);
    address = v4 === undefined ? undefined : V4_MAPPED | BigInt(v4);
    prefix += 96;
  }
  if (address === undefined) return undefined;
  const hostBits = BigInt(128 - prefix);
  const hostMask = (1n << hostBits) - 1n;
  const low = address & (ALL_ONES ^ hostMask);
  return { low, high: low | hostMask };
}

/** 128-bit value back to text: dotted quad for IPv4-mapped values, RFC 5952 canonical form otherwise. */
export function formatIp(value: bigint): string {
  if (value >> 32n === 0xffffn) {
    const v4 = Number(value & 0xffffffffn);
    return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  // RFC 5952 §4.2.3: shorten the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * The key of an address for per-client limits: IPv4 (and IPv4-mapped IPv6) as is, IPv6 by its /64, since one host
 * or customer usually holds a whole /64 (RFC 6177) and could otherwise take a fresh address for each request.
 */
export function addressKey(address: string): string {
  if (!address.includes(':')) return address.slice(0, 64);
  const value = parseIp(address);
  if (value === undefined) return address.slice(0, 64);
  if (value >> 32n === 0xffffn) return formatIp(value);
  return `${formatIp((value >> 64n) << 64n)}/64`;
}
