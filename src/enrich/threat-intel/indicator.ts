// Indicators of compromise: what a feed lists (IP, CIDR block, domain, URL, file hash), how a value is recognised and
// put in one canonical form, so that feed entries and event fields compare equal. Types follow STIX 2.1 / ECS names.
import { formatIp, parseCidr, parseIpv4, parseIpv6 } from '../../core/ip.js';

export type IndicatorKind = 'ip' | 'cidr' | 'domain' | 'url' | 'hash';

/** ECS `threat.indicator.type` (the STIX 2.1 cyber-observable names). */
export type EcsIndicatorType = 'ipv4-addr' | 'ipv6-addr' | 'domain-name' | 'url' | 'file';

/** What a feed says about one of its indicators, beyond the value (STIX bundles say most). */
export interface IndicatorMeta {
  description?: string;
  /** STIX `confidence` 0-100, shown as ECS `threat.indicator.confidence` (None/Low/Medium/High). */
  confidence?: number;
  first_seen?: string;
  last_seen?: string;
  reference?: string;
  /** The STIX object id, say. */
  id?: string;
  name?: string;
  labels?: string[];
}

/** One feed entry, parsed. `value` is canonical: addresses normalised, domains and hashes lower-cased. */
export interface Indicator {
  kind: IndicatorKind;
  value: string;
  meta?: IndicatorMeta;
}

const HEX = /^[0-9a-f]+$/;
const HASH_LENGTHS: Record<number, string> = { 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' };
/** A host name of LDH labels (RFC 1123), at least two labels; underscores appear in the wild and are allowed. */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z][a-z0-9-]{0,62}$/;

/** The hash algorithm of a hex digest, by length. */
export function hashAlgorithm(hex: string): string | undefined {
  return HEX.test(hex) ? HASH_LENGTHS[hex.length] : undefined;
}

/** A domain in canonical form (lower case, no trailing dot), or undefined. */
export function canonicalDomain(text: string): string | undefined {
  let d = text.trim().toLowerCase();
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (d.startsWith('*.')) d = d.slice(2);
  return DOMAIN.test(d) ? d : undefined;
}

/**
 * A URL in the form indicators and events are compared in: no scheme, lower-case host, default port and fragment
 * dropped, path and query kept as they are (they are case-sensitive). `http://Evil.example/a?b#c` → `evil.example/a?b`.
 */
export function canonicalUrl(text: string): string | undefined {
  const trimmed = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (!url.hostname) return undefined;
  const host = url.port ? `${url.hostname}:${url.port}` : url.hostname;
  return `${host}${url.pathname}${url.search}`;
}

/** The canonical form of an IP address (RFC 5952 for IPv6), or undefined. */
export function canonicalIp(text: string): string | undefined {
  const t = text.trim();
  const v4 = parseIpv4(t);
  if (v4 !== undefined) return t;
  const v6 = parseIpv6(t);
  return v6 === undefined ? undefined : formatIp(v6);
}

/** Recognises a value as `kind` (or, with `auto`, as whatever it is); undefined when it is not one. */
export function parseIndicator(text: string, kind: IndicatorKind | 'auto' = 'auto'): Indicator | undefined {
  const t = text.trim();
  if (t.length === 0 || t.length > 4096) return undefined;
  if (kind === 'auto' || kind === 'ip' || kind === 'cidr') {
    if (t.includes('/') && !t.includes('://')) {
      const range = parseCidr(t);
      if (range) {
        // A /32 (or /128) is one address.
        if (range.low === range.high) return { kind: 'ip', value: formatIp(range.low) };
        return { kind: 'cidr', value: t };
      }
    }
    const ip = canonicalIp(t);
    if (ip !== undefined) return { kind: 'ip', value: ip };
    // Something shaped like an address or block that is not a valid one is nothing else either.
    if (kind !== 'auto' || /^[\d.]+(?:\/\d*)?$/.test(t) || (t.includes(':') && /^[\da-f:.]+(?:\/\d*)?$/i.test(t))) return undefined;
  }
  if (kind === 'auto' || kind === 'hash') {
    const lower = t.toLowerCase();
    if (hashAlgorithm(lower)) return { kind: 'hash', value: lower };
    if (kind === 'hash') return undefined;
  }
  if (kind === 'auto' || kind === 'domain') {
    const domain = canonicalDomain(t);
    if (domain !== undefined) return { kind: 'domain', value: domain };
    if (kind === 'domain') return undefined;
  }
  if (kind === 'auto' && !t.includes('://') && !t.includes('/')) return undefined;
  const url = canonicalUrl(t);
  return url === undefined ? undefined : { kind: 'url', value: url };
}

/** ECS `threat.indicator.type` of an indicator. */
export function ecsIndicatorType(indicator: Indicator): EcsIndicatorType {
  switch (indicator.kind) {
    case 'ip':
    case 'cidr':
      return indicator.value.includes(':') ? 'ipv6-addr' : 'ipv4-addr';
    case 'domain':
      return 'domain-name';
    case 'url':
      return 'url';
    case 'hash':
      return 'file';
  }
}

/** ECS `threat.indicator.confidence` from a STIX 0-100 confidence (STIX 2.1 §A.1, "None/Low/Med/High" scale). */
export function confidenceWord(value: number | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === 0) return 'None';
  if (value < 30) return 'Low';
  if (value < 70) return 'Medium';
  return 'High';
}
