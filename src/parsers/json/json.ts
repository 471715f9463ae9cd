// One JSON object per line: ECS (or ECS-like) documents pass through with dotted keys (`"source.ip": …`)
// expanded into nested objects, `event.dataset` defaulting to `json`; nginx JSON access records are mapped
// to ECS like the text access logs. Non-objects, invalid JSON and nesting deeper than 32 levels are refused.
import { TIMESTAMP_ERROR_TAG } from '../../core/event.js';
import { isJsonAccessRecord, mapJsonAccess } from '../access-log/json-access.js';
import { stripLineEnd } from '../common/line.js';
import { isoFromMs, isoTimestamp } from '../common/time.js';
import type { ParsedFields, Parser } from '../types.js';

/** Deepest nesting of objects and arrays accepted (the top-level object is level 1). */
export const MAX_JSON_DEPTH = 32;

/** Refused: the reason, bounded and stable, for `{ ok: false, reason }`. */
export type JsonRefusal = 'invalid JSON' | 'JSON is not an object' | 'JSON nested deeper than 32 levels'
  | 'field "event" is not an object';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const TOO_DEEP = -1;

/** Height (levels of containers) of an array after normalising its elements, or TOO_DEEP. */
function normalizeArray(list: unknown[], depth: number): number {
  if (depth > MAX_JSON_DEPTH) return TOO_DEEP;
  let height = 1;
  for (const item of list) {
    if (item === null || typeof item !== 'object') continue;
    const h = Array.isArray(item) ? normalizeArray(item, depth + 1) : normalizeObject(item as Record<string, unknown>, depth + 1);
    if (h === TOO_DEEP) return TOO_DEEP;
    if (h + 1 > height) height = h + 1;
  }
  return height;
}

/** Moves `value` to the nested path `parts` under `obj`; false when a non-object is in the way. */
function place(obj: Record<string, unknown>, parts: string[], value: unknown): boolean {
  let node = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i]!;
    const next = node[part];
    if (next === undefined) {
      const created: Record<string, unknown> = {};
      node[part] = created;
      node = created;
    } else if (isPlainObject(next)) {
      node = next;
    } else {
      return false;
    }
  }
  const last = parts[parts.length - 1]!;
  const existing = node[last];
  if (existing === undefined) {
    node[last] = value;
    return true;
  }
  if (isPlainObject(existing) && isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (Object.hasOwn(existing, key)) return false;
    }
    Object.assign(existing, value);
    return true;
  }
  return false;
}

/**
 * Expands dotted keys and drops `__proto__` keys (they would rewrite prototypes if assigned later),
 * in place. Returns the object's height, or TOO_DEEP.
 */
function normalizeObject(obj: Record<string, unknown>, depth: number): number {
  if (depth > MAX_JSON_DEPTH) return TOO_DEEP;
  let height = 1;
  // Dotted keys and the heights of their values, expanded once every value is normalised.
  let dotted: string[] | undefined;
  let heights: number[] | undefined;
  for (const key of Object.keys(obj)) {
    if (key === '__proto__') {
      delete obj[key];
      continue;
    }
    const value = obj[key];
    let h = 0;
    if (value !== null && typeof value === 'object') {
      h = Array.isArray(value) ? normalizeArray(value, depth + 1) : normalizeObject(value as Record<string, unknown>, depth + 1);
      if (h === TOO_DEEP) return TOO_DEEP;
      if (h + 1 > height) height = h + 1;
    }
    if (key.indexOf('.') >= 0) {
      (dotted ??= []).push(key);
      (heights ??= []).push(h);
    }
  }
  if (dotted !== undefined && heights !== undefined) {
    for (let i = 0; i < dotted.length; i++) {
      const key = dotted[i]!;
      const parts = key.split('.');
      // Keys such as `a..b`, `.a` or with a `__proto__` segment are kept as they are.
      if (parts.some((p) => p.length === 0 || p === '__proto__')) continue;
      const total = heights[i]! + parts.length;
      if (depth + total - 1 > MAX_JSON_DEPTH) return TOO_DEEP;
      const value = obj[key];
      delete obj[key];
      if (!place(obj, parts, value)) obj[key] = value;
      else if (total > height) height = total;
    }
  }
  return height;
}

/** Expands dotted keys and drops `__proto__` keys in place; false when nesting exceeds MAX_JSON_DEPTH. */
export function normalizeJsonObject(value: Record<string, unknown>): boolean {
  return normalizeObject(value, 1) !== TOO_DEEP;
}

/** Rewrites `@timestamp` (ISO 8601, epoch seconds or ms) as ISO 8601 UTC; an unreadable one is removed and tagged. */
export function normalizeTimestamp(doc: Record<string, unknown>): void {
  const ts = doc['@timestamp'];
  if (ts === undefined) return;
  let iso: string | undefined;
  if (typeof ts === 'number' && Number.isFinite(ts)) {
    // Epoch seconds or milliseconds: anything under 1e11 is seconds (1e11 ms is 1973).
    const ms = Math.abs(ts) < 1e11 ? ts * 1000 : ts;
    if (Math.abs(ms) <= 8.64e15) iso = isoFromMs(Math.round(ms));
  } else if (typeof ts === 'string') {
    iso = isoTimestamp(ts);
    if (iso === undefined && ts.length <= 64) {
      const ms = Date.parse(ts);
      if (!Number.isNaN(ms)) iso = isoFromMs(ms);
    }
  }
  if (iso !== undefined) {
    doc['@timestamp'] = iso;
  } else {
    // An unreadable time is dropped (the pipeline stamps the event) and flagged; the raw line keeps it.
    delete doc['@timestamp'];
    const tags = Array.isArray(doc['tags']) ? (doc['tags'] as unknown[]) : (doc['tags'] = []) as unknown[];
    tags.push(TIMESTAMP_ERROR_TAG);
  }
}

/**
 * Parses one JSON line. `accessDataset` is the dataset nginx access records get (`nginx.access` by default).
 * Returns the fields or the reason the line is refused.
 */
export function parseJsonLine(line: string, accessDataset = 'nginx.access'): ParsedFields | JsonRefusal {
  let value: unknown;
  try {
    value = JSON.parse(stripLineEnd(line));
  } catch {
    return 'invalid JSON';
  }
  if (!isPlainObject(value)) return 'JSON is not an object';
  if (normalizeObject(value, 1) === TOO_DEEP) return 'JSON nested deeper than 32 levels';
  if (isJsonAccessRecord(value)) return mapJsonAccess(value, accessDataset);
  const event = value['event'];
  if (event === undefined) {
    value['event'] = { dataset: 'json' };
  } else if (isPlainObject(event)) {
    if (typeof event['dataset'] !== 'string' || event['dataset'].length === 0) event['dataset'] = 'json';
  } else {
    return 'field "event" is not an object';
  }
  // Older shippers (Logstash, Beats before ECS) send `"host": "name"`; ECS wants an object.
  if (typeof value['host'] === 'string') value['host'] = { name: value['host'] };
  normalizeTimestamp(value);
  return value as ParsedFields;
}

/** The `json` format. */
export const jsonParser: Parser = {
  name: 'json',
  parse(line) {
    try {
      const result = parseJsonLine(line);
      return typeof result === 'string' ? undefined : result;
    } catch {
      return undefined;
    }
  },
};
