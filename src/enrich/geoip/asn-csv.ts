// ASN ranges from CSV files in the `@ip-location-db/asn` layout (`start,end,asn,organization`, addresses as text or
// numbers, inclusive ranges): sorted arrays and a binary search, for users without an ASN .mmdb.
import { readFileSync } from 'node:fs';
import { VigilError } from '../../core/errors.js';
import { parseIpv4, parseIpv6 } from '../../core/ip.js';

export interface AsnAnswer {
  number: number;
  organization?: { name: string };
}

/** Splits one CSV line (RFC 4180 quoting). */
export function splitCsvLine(line: string, delimiter = ','): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field.length === 0) quoted = true;
    else if (c === delimiter) {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

function parseBound(text: string): { v4?: number; v6?: bigint } | undefined {
  if (/^\d+$/.test(text)) {
    const n = BigInt(text);
    return n <= 0xffffffffn ? { v4: Number(n) } : { v6: n };
  }
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { v4 };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { v6 };
}

export class AsnRanges {
  private v4Start: Uint32Array = new Uint32Array(0);
  private v4End: Uint32Array = new Uint32Array(0);
  private v4Asn: number[] = [];
  private v6Start: bigint[] = [];
  private v6End: bigint[] = [];
  private v6Asn: number[] = [];
  private readonly orgs: string[] = [];
  private readonly orgIndex = new Map<string, number>();
  private v4Org: number[] = [];
  private v6Org: number[] = [];

  get size(): number {
    return this.v4Asn.length + this.v6Asn.length;
  }

  /** Reads the files; a line that is not a range is skipped, a file with none is an error. */
  static load(paths: readonly string[]): AsnRanges {
    const ranges = new AsnRanges();
    const v4: [number, number, number, number][] = [];
    const v6: [bigint, bigint, number, number][] = [];
    for (const path of paths) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new VigilError('bad_config', `geoip.asn_csv: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      let found = 0;
      for (const line of text.split('\n')) {
        const cols = splitCsvLine(line.trim());
        if (cols.length < 3) continue;
        const start = parseBound(cols[0]!);
        const end = parseBound(cols[1]!);
        const asn = Number(cols[2]);
        if (!start || !end || !Number.isInteger(asn)) continue;
        const org = ranges.org(cols[3] ?? '');
        if (start.v4 !== undefined && end.v4 !== undefined) v4.push([start.v4, end.v4, asn, org]);
        else if (start.v6 !== undefined && end.v6 !== undefined) v6.push([start.v6, end.v6, asn, org]);
        else continue;
        found++;
      }
      if (found === 0) throw new VigilError('bad_config', `geoip.asn_csv: ${path} holds no start,end,asn,organization lines`);
    }
    v4.sort((a, b) => a[0] - b[0]);
    v6.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    ranges.v4Start = Uint32Array.from(v4, (r) => r[0]);
    ranges.v4End = Uint32Array.from(v4, (r) => r[1]);
    ranges.v4Asn = v4.map((r) => r[2]);
    ranges.v4Org = v4.map((r) => r[3]);
    ranges.v6Start = v6.map((r) => r[0]);
    ranges.v6End = v6.map((r) => r[1]);
    ranges.v6Asn = v6.map((r) => r[2]);
    ranges.v6Org = v6.map((r) => r[3]);
    return ranges;
  }

  private org(name: string): number {
    let i = this.orgIndex.get(name);
    if (i === undefined) {
      i = this.orgs.length;
      this.orgs.push(name);
      this.orgIndex.set(name, i);
    }
    return i;
  }

  private answer(asn: number, org: number): AsnAnswer {
    const name = this.orgs[org];
    return name ? { number: asn, organization: { name } } : { number: asn };
  }

  lookupV4(value: number): AsnAnswer | undefined {
    let lo = 0;
    let hi = this.v4Start.length - 1;
    // The last range starting at or below the address.
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.v4Start[mid]! <= value) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0 || this.v4End[hi]! < value) return undefined;
    return this.answer(this.v4Asn[hi]!, this.v4Org[hi]!);
  }

  lookupV6(value: bigint): AsnAnswer | undefined {
    let lo = 0;
    let hi = this.v6Start.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.v6Start[mid]! <= value) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0 || this.v6End[hi]! < value) return undefined;
    return this.answer(this.v6Asn[hi]!, this.v6Org[hi]!);
  }
}
