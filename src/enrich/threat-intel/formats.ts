// Reading feeds: plain text (one indicator a line), CSV (one column holds it) and STIX 2.1 bundles (indicators with
// STIX patterns, https://docs.oasis-open.org/cti/stix/v2.1/os/stix-v2.1-os.html §9). A bad entry is counted, not fatal.
import type { FeedConfig } from '../../config/enrich.js';
import { splitCsvLine } from '../geoip/asn-csv.js';
import { parseIndicator, type Indicator, type IndicatorKind, type IndicatorMeta } from './indicator.js';

export interface ParsedFeed {
  indicators: Indicator[];
  /** Entries that were not indicators of the configured type. */
  invalid: number;
  /** STIX indicators whose `valid_until` has passed, or that were revoked. */
  expired: number;
}

/** How often a long parse gives the event loop a turn. */
const YIELD_EVERY = 5000;
const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function kindOf(config: Pick<FeedConfig, 'type'>): IndicatorKind | 'auto' {
  return config.type;
}

/** Plain text: the first word of each line; `#` and `;` start comments. */
export async function parseText(text: string, config: Pick<FeedConfig, 'type'>): Promise<ParsedFeed> {
  const out: ParsedFeed = { indicators: [], invalid: 0, expired: 0 };
  const kind = kindOf(config);
  let start = 0;
  for (let n = 0; start < text.length; n++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    const comment = line.search(/[#;]/);
    if (comment >= 0) line = line.slice(0, comment);
    const word = line.trim().split(/[\s,]/, 1)[0] ?? '';
    if (word.length > 0) {
      const indicator = parseIndicator(word, kind);
      if (indicator) out.indicators.push(indicator);
      else out.invalid++;
    }
    if (n % YIELD_EVERY === YIELD_EVERY - 1) await yieldTurn();
  }
  return out;
}

/** CSV: the configured column, by header name or number; `#` lines are comments (abuse.ch and others start with them). */
export async function parseCsv(text: string, config: Pick<FeedConfig, 'type' | 'column' | 'header' | 'delimiter'>): Promise<ParsedFeed> {
  const out: ParsedFeed = { indicators: [], invalid: 0, expired: 0 };
  const kind = kindOf(config);
  let column = typeof config.column === 'number' ? config.column : -1;
  let needHeader = config.header || typeof config.column === 'string';
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    if (line.trim().length === 0 || line.startsWith('#')) continue;
    const cols = splitCsvLine(line, config.delimiter);
    if (needHeader) {
      needHeader = false;
      if (typeof config.column === 'string') {
        column = cols.findIndex((c) => c.trim().toLowerCase() === (config.column as string).toLowerCase());
        if (column < 0) throw new Error(`the CSV header has no column "${config.column}" (it has ${cols.map((c) => c.trim()).join(', ')})`);
      }
      continue;
    }
    const value = cols[column];
    const indicator = value === undefined ? undefined : parseIndicator(value, kind);
    if (indicator) out.indicators.push(indicator);
    else out.invalid++;
    if (n % YIELD_EVERY === YIELD_EVERY - 1) await yieldTurn();
  }
  return out;
}

/** STIX object paths (§9.x of the spec) and the kind of indicator their value is. */
const STIX_PATHS: Record<string, IndicatorKind> = {
  'ipv4-addr:value': 'ip',
  'ipv6-addr:value': 'ip',
  'domain-name:value': 'domain',
  'url:value': 'url',
};

/** `[ipv4-addr:value = '198.51.100.1' OR file:hashes.'SHA-256' = '…']`: each equality comparison (§9.5). */
const COMPARISON = /([a-z0-9-]+:[A-Za-z0-9_.'-]+)\s*=\s*'((?:[^'\\]|\\.)*)'/g;

export function stixPatternValues(pattern: string): { kind: IndicatorKind; value: string }[] {
  const out: { kind: IndicatorKind; value: string }[] = [];
  for (const m of pattern.matchAll(COMPARISON)) {
    const path = m[1]!;
    const value = m[2]!.replace(/\\(.)/g, '$1');
    const kind = STIX_PATHS[path] ?? (path.startsWith('file:hashes.') ? 'hash' : undefined);
    if (kind) out.push({ kind, value });
  }
  return out;
}

interface StixIndicator {
  type?: unknown;
  id?: unknown;
  name?: unknown;
  description?: unknown;
  pattern?: unknown;
  pattern_type?: unknown;
  valid_from?: unknown;
  valid_until?: unknown;
  revoked?: unknown;
  confidence?: unknown;
  labels?: unknown;
  indicator_types?: unknown;
  created?: unknown;
  modified?: unknown;
  external_references?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** A STIX 2.1 bundle: its `indicator` objects with `pattern_type: stix`, not revoked and still valid at `now`. */
export async function parseStix(text: string, now: number): Promise<ParsedFeed> {
  const out: ParsedFeed = { indicators: [], invalid: 0, expired: 0 };
  let bundle: unknown;
  try {
    bundle = JSON.parse(text);
  } catch (err) {
    throw new Error(`not a STIX bundle: invalid JSON (${(err as Error).message})`);
  }
  const objects = (bundle as { objects?: unknown }).objects;
  if ((bundle as { type?: unknown }).type !== 'bundle' || !Array.isArray(objects)) throw new Error('not a STIX bundle: expected {"type": "bundle", "objects": [...]}');
  for (let n = 0; n < objects.length; n++) {
    const o = objects[n] as StixIndicator;
    if (o === null || typeof o !== 'object' || o.type !== 'indicator') continue;
    if (o.pattern_type !== undefined && o.pattern_type !== 'stix') continue;
    const pattern = str(o.pattern);
    if (!pattern) {
      out.invalid++;
      continue;
    }
    const until = str(o.valid_until);
    if (o.revoked === true || (until && Date.parse(until) <= now)) {
      out.expired++;
      continue;
    }
    const meta: IndicatorMeta = {};
    const description = str(o.description);
    if (description) meta.description = description;
    if (typeof o.confidence === 'number') meta.confidence = o.confidence;
    const first = str(o.valid_from) ?? str(o.created);
    if (first) meta.first_seen = first;
    const last = str(o.modified);
    if (last) meta.last_seen = last;
    const id = str(o.id);
    if (id) meta.id = id;
    const name = str(o.name);
    if (name) meta.name = name;
    const labels = [...(Array.isArray(o.labels) ? o.labels : []), ...(Array.isArray(o.indicator_types) ? o.indicator_types : [])].filter((l): l is string => typeof l === 'string');
    if (labels.length > 0) meta.labels = labels;
    const refs = Array.isArray(o.external_references) ? (o.external_references as { url?: unknown }[]) : [];
    const reference = refs.map((r) => str(r?.url)).find((u) => u !== undefined);
    if (reference) meta.reference = reference;
    const values = stixPatternValues(pattern);
    if (values.length === 0) out.invalid++;
    for (const { kind, value } of values) {
      const indicator = parseIndicator(value, kind);
      if (indicator) out.indicators.push({ ...indicator, meta });
      else out.invalid++;
    }
    if (n % YIELD_EVERY === YIELD_EVERY - 1) await yieldTurn();
  }
  return out;
}

export function parseFeed(text: string, config: FeedConfig, now: number): Promise<ParsedFeed> {
  switch (config.format) {
    case 'text':
      return parseText(text, config);
    case 'csv':
      return parseCsv(text, config);
    case 'stix':
      return parseStix(text, now);
  }
}
