// Writes small MaxMind DB (.mmdb) files for tests, so the GeoIP code is tested through the real `maxmind` reader with
// city and ASN records that no bundled database has. Format: https://maxmind.github.io/MaxMind-DB/ (version 2.0).
import { parseIpv4, parseIpv6 } from '../core/ip.js';

export type MmdbValue = string | number | boolean | { double: number } | MmdbValue[] | { [key: string]: MmdbValue };

interface TreeNode {
  children: [TreeNode | number | undefined, TreeNode | number | undefined];
}

/** Bits of an address in the 128-bit tree: IPv4 sits under 96 zero bits, as MaxMind's own IPv6 databases do. */
function networkBits(cidr: string): number[] {
  const [address, prefixText] = cidr.split('/') as [string, string | undefined];
  const v4 = parseIpv4(address);
  let value: bigint;
  let prefix: number;
  if (v4 !== undefined) {
    value = BigInt(v4);
    prefix = 96 + Number(prefixText ?? 32);
  } else {
    const v6 = parseIpv6(address);
    if (v6 === undefined) throw new Error(`not an address: ${cidr}`);
    value = v6;
    prefix = Number(prefixText ?? 128);
  }
  const bits: number[] = [];
  for (let i = 0; i < prefix; i++) bits.push(Number((value >> BigInt(127 - i)) & 1n));
  return bits;
}

function encodeSize(type: number, size: number, payload: Buffer): Buffer {
  const extended = type > 7;
  const head: number[] = [];
  let sizeBits: number;
  const extra: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 285) {
    sizeBits = 29;
    extra.push(size - 29);
  } else if (size < 65_821) {
    sizeBits = 30;
    const n = size - 285;
    extra.push(n >> 8, n & 255);
  } else {
    sizeBits = 31;
    const n = size - 65_821;
    extra.push((n >> 16) & 255, (n >> 8) & 255, n & 255);
  }
  head.push(((extended ? 0 : type) << 5) | sizeBits);
  if (extended) head.push(type - 7);
  return Buffer.concat([Buffer.from([...head, ...extra]), payload]);
}

function uintBytes(n: number | bigint): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.unshift(Number(v & 255n));
    v >>= 8n;
  }
  return Buffer.from(bytes);
}

export function encodeValue(value: MmdbValue): Buffer {
  if (typeof value === 'string') {
    const payload = Buffer.from(value, 'utf8');
    return encodeSize(2, payload.length, payload);
  }
  if (typeof value === 'boolean') return encodeSize(14, value ? 1 : 0, Buffer.alloc(0));
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new Error('use { double } for non-integers');
    const payload = uintBytes(value);
    return encodeSize(value <= 0xffffffff ? 6 : 9, payload.length, payload);
  }
  if (Array.isArray(value)) return encodeSize(11, value.length, Buffer.concat(value.map(encodeValue)));
  if ('double' in value && typeof value.double === 'number' && Object.keys(value).length === 1) {
    const payload = Buffer.alloc(8);
    payload.writeDoubleBE(value.double);
    return encodeSize(3, 8, payload);
  }
  const entries = Object.entries(value as Record<string, MmdbValue>);
  return encodeSize(7, entries.length, Buffer.concat(entries.flatMap(([k, v]) => [encodeValue(k), encodeValue(v)])));
}

/** An IPv6 (ip_version 6) database with 24-bit records mapping each network to its record. */
export function writeMmdb(databaseType: string, networks: Record<string, MmdbValue>): Buffer {
  const data: Buffer[] = [];
  let dataSize = 0;
  const root: TreeNode = { children: [undefined, undefined] };
  for (const [cidr, record] of Object.entries(networks)) {
    const encoded = encodeValue(record);
    const offset = dataSize;
    data.push(encoded);
    dataSize += encoded.length;
    const bits = networkBits(cidr);
    let node = root;
    for (let i = 0; i < bits.length - 1; i++) {
      const bit = bits[i]!;
      const child = node.children[bit];
      if (typeof child === 'object') node = child;
      else {
        const next: TreeNode = { children: [child, child] };
        node.children[bit] = next;
        node = next;
      }
    }
    node.children[bits[bits.length - 1]!] = offset;
  }
  // Number the nodes breadth first; a record is a node number, node_count (no data) or a data pointer.
  const order: TreeNode[] = [root];
  for (let i = 0; i < order.length; i++) for (const child of order[i]!.children) if (typeof child === 'object') order.push(child);
  const index = new Map(order.map((n, i) => [n, i]));
  const nodeCount = order.length;
  const tree = Buffer.alloc(nodeCount * 6);
  order.forEach((node, i) => {
    node.children.forEach((child, side) => {
      const record = child === undefined ? nodeCount : typeof child === 'number' ? nodeCount + 16 + child : index.get(child)!;
      tree.writeUIntBE(record, i * 6 + side * 3, 3);
    });
  });
  const metadata = encodeValue({
    node_count: nodeCount,
    record_size: 24,
    ip_version: 6,
    database_type: databaseType,
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: Math.floor(Date.UTC(2024, 0, 1) / 1000),
    description: { en: `Vigil test ${databaseType}` },
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...data, Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com'), metadata]);
}
