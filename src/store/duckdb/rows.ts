// Turns one ECS event into one row of the events table. Never throws for what an event holds: a value that does not
// fit its column (a port of 1e20, an object where a string belongs) leaves the column NULL; the document keeps it.
import { randomUUID } from 'node:crypto';
import { DuckDBDataChunk, DuckDBTimestampTZValue, listValue, type DuckDBAppender, type DuckDBValue } from '@duckdb/node-api';
import type { EcsEvent } from '../../core/event.js';
import { parseIp } from '../../core/ip.js';
import { MICROS_PER_MS, parseIsoMicros, parseTimeMicros } from '../time.js';
import { COLUMN_ORDER, DETACHED_STRINGS } from './schema.js';

const INT32_MAX = 2_147_483_647;
// A lone UTF-16 surrogate cannot be encoded as UTF-8; DuckDB's JSON reader refuses its `\udXXX` escape.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd');
}

function wellFormedValue(key: string, value: unknown): unknown {
  if (typeof value === 'string') return wellFormed(value);
  if (typeof value === 'bigint') return value.toString();
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    // Keys need the same repair; rebuild the object only when one does.
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).some((k) => wellFormed(k) !== k)) {
      const copy: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) copy[wellFormed(k)] = v;
      return copy;
    }
  }
  return value;
}

/** Objects (and keys) whose string values documentJson took out for the time of one stringify. */
const taken: { parent: Record<string, unknown>; key: string; value: string }[] = [];

function takeOut(event: EcsEvent): void {
  for (const { path } of DETACHED_STRINGS) {
    let parent: unknown = event;
    for (let i = 0; i < path.length - 1 && parent !== undefined; i++) parent = pick(parent, path[i]!);
    const key = path[path.length - 1]!;
    const value = pick(parent, key);
    if (typeof value !== 'string') continue;
    const obj = parent as Record<string, unknown>;
    try {
      obj[key] = null;
    } catch {
      continue; // a frozen object keeps its value in the document too
    }
    taken.push({ parent: obj, key, value });
  }
}

function putBack(): void {
  for (const { parent, key, value } of taken) parent[key] = value;
  taken.length = 0;
}

/** Puts the detached strings back into a stored document; `values` are the DETACHED_STRINGS columns in order. */
export function restoreDocument(json: string, values: readonly unknown[]): EcsEvent {
  const doc = JSON.parse(json) as Record<string, unknown>;
  for (let i = 0; i < DETACHED_STRINGS.length; i++) {
    const value = values[i];
    if (typeof value !== 'string') continue;
    const { path } = DETACHED_STRINGS[i]!;
    let parent: unknown = doc;
    for (let j = 0; j < path.length - 1 && parent !== undefined; j++) parent = pick(parent, path[j]!);
    const key = path[path.length - 1]!;
    if (pick(parent, key) === null) (parent as Record<string, unknown>)[key] = value;
  }
  return doc as EcsEvent;
}

/**
 * The document as stored: JSON with lone surrogates replaced by U+FFFD, BigInts as strings, and the hot strings of
 * DETACHED_STRINGS left out (they are stored once, in their columns: at 1M events this cut the disk used by a third
 * and DuckDB's time to store a batch by about half, bench/search.ts). They are taken out of the event itself for the
 * time of the stringify and put back at once, which costs no copy of the event.
 * JSON.stringify writes a lone surrogate as a lowercase `\ud8xx`…`\udfxx` escape, which is cheap to look for;
 * only then is the slower repairing pass needed.
 */
export function documentJson(event: EcsEvent): string {
  let json: string;
  try {
    takeOut(event);
    try {
      json = JSON.stringify(event);
    } catch {
      // A BigInt (or a cycle, which JSON-born events cannot have): retry with the repairing replacer.
      json = '';
    }
    if (json === '' || /\\ud[89a-f]/.test(json)) {
      try {
        json = JSON.stringify(event, wellFormedValue);
      } catch {
        json = JSON.stringify({ '@timestamp': event['@timestamp'], event: { id: event.event?.id }, tags: ['_store_unserializable'] }, wellFormedValue);
      }
    }
  } finally {
    putBack();
  }
  return json;
}

function pick(obj: unknown, key: string): unknown {
  return obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>)[key] : undefined;
}

function asString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return null;
}

function asStrings(value: unknown): string[] | null {
  if (Array.isArray(value)) {
    const out: string[] = [];
    for (const item of value) {
      const s = asString(item);
      if (s !== null) out.push(s);
    }
    return out;
  }
  const single = asString(value);
  return single === null ? null : [single];
}

function asInt(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isInteger(n) && Math.abs(n) <= INT32_MAX ? n : null;
}

/** `@timestamp` as µs since the epoch; an event without a readable one is filed at `nowMs` (its document is untouched). */
export function eventMicros(event: EcsEvent, nowMs: number): bigint {
  return timeMicros(event['@timestamp'], nowMs, timestampCache);
}

/**
 * The last text a time field held and its µs: a batch's events share `event.ingested`, and syslog lines of one
 * second their `@timestamp`, so each field keeps its own.
 */
class TimeCache {
  text = '';
  micros: bigint | undefined;
}
const timestampCache = new TimeCache();
const ingestedCache = new TimeCache();

/** A time field (ISO 8601 text or epoch ms) in µs, or `nowMs` when it is absent or unreadable. */
function timeMicros(ts: unknown, nowMs: number, cache?: TimeCache): bigint {
  if (typeof ts === 'string') {
    let micros: bigint | undefined;
    if (cache !== undefined && ts === cache.text) micros = cache.micros;
    else {
      micros = parseIsoMicros(ts) ?? parseTimeMicros(ts);
      if (cache !== undefined) {
        cache.text = ts;
        cache.micros = micros;
      }
    }
    if (micros !== undefined) return micros;
  } else if (typeof ts === 'number' && Number.isFinite(ts)) {
    return BigInt(Math.trunc(ts)) * MICROS_PER_MS;
  }
  return BigInt(Math.trunc(nowMs)) * MICROS_PER_MS;
}

// DuckDB's TIMESTAMPTZ covers roughly 290,000 years; clamp so a silly year still lands in a valid row.
const MAX_MICROS = 9_223_372_036_854_775_806n / 2n;

/** A column value as plain data (so a batch can be prepared in one thread and appended in another). */
export type PlainValue = string | number | bigint | string[] | null;

/**
 * Column values of one batch in COLUMN_ORDER as plain data: timestamps as µs (bigint), lists as string arrays.
 * Built by eventColumns wherever is convenient (the main thread, see store/worker), appended by appendColumns.
 */
export interface EventColumns {
  count: number;
  columns: PlainValue[][];
  /** Rows whose id the sender chose, to check against stored ids before writing (AppendOptions.unique). */
  unique?: number[];
}

const ID_COLUMN = COLUMN_ORDER.indexOf('id');
const TS_COLUMN = COLUMN_ORDER.indexOf('ts');

/** The ids and the time span (µs) of a batch's `unique` rows, which bound the search for stored duplicates. */
export function uniqueRows(batch: EventColumns): { rows: number[]; ids: string[]; minTs: bigint; maxTs: bigint } | undefined {
  const rows = batch.unique?.filter((r) => Number.isInteger(r) && r >= 0 && r < batch.count);
  if (!rows || rows.length === 0) return undefined;
  const ids = rows.map((r) => batch.columns[ID_COLUMN]![r] as string);
  let minTs = batch.columns[TS_COLUMN]![rows[0]!] as bigint;
  let maxTs = minTs;
  for (const r of rows) {
    const ts = batch.columns[TS_COLUMN]![r] as bigint;
    if (ts < minTs) minTs = ts;
    if (ts > maxTs) maxTs = ts;
  }
  return { rows, ids, minTs, maxTs };
}

/** The batch without the given rows. */
export function withoutRows(batch: EventColumns, skip: ReadonlySet<number>): EventColumns {
  if (skip.size === 0) return batch;
  const keep = (_: unknown, row: number) => !skip.has(row);
  return { count: batch.count - skip.size, columns: batch.columns.map((column) => column.filter(keep)) };
}

function ipNum(text: string | null): bigint | null {
  return text === null ? null : (parseIp(text) ?? null);
}

/** What bare words search: the raw line, plus the message when it is not a piece of the line, lower-cased. */
function searchText(message: string | null, original: string | null): string | null {
  if (original === null) return message === null ? null : message.toLowerCase();
  if (message === null || original.includes(message)) return original.toLowerCase();
  return `${original}\n${message}`.toLowerCase();
}

/** An item that is not a JSON object (a caller's bug) is still stored, as text, rather than failing its batch. */
function asEvent(item: unknown): EcsEvent {
  if (item !== null && typeof item === 'object' && !Array.isArray(item)) return item as EcsEvent;
  let text: string;
  try {
    text = JSON.stringify(item) ?? String(item);
  } catch {
    text = String(item);
  }
  return { message: text, tags: ['_store_not_an_object'] } as unknown as EcsEvent;
}

/** Turns events into columns; never throws for what an event holds. */
export function eventColumns(events: readonly EcsEvent[], nowMs: number, unique?: readonly number[]): EventColumns {
  const columns: PlainValue[][] = COLUMN_ORDER.map(() => new Array<PlainValue>(events.length));
  for (let row = 0; row < events.length; row++) {
    const event = asEvent(events[row]);
    let micros = eventMicros(event, nowMs);
    if (micros > MAX_MICROS) micros = MAX_MICROS;
    if (micros < -MAX_MICROS) micros = -MAX_MICROS;
    const ev = pick(event, 'event');
    const source = pick(event, 'source');
    const destination = pick(event, 'destination');
    const http = pick(event, 'http');
    const sourceIp = asString(pick(source, 'ip'));
    const destinationIp = asString(pick(destination, 'ip'));
    const message = asString(pick(event, 'message'));
    const original = asString(pick(ev, 'original'));
    let ingested = timeMicros(pick(ev, 'ingested'), nowMs, ingestedCache);
    if (ingested > MAX_MICROS || ingested < -MAX_MICROS) ingested = BigInt(Math.trunc(nowMs)) * MICROS_PER_MS;
    const values: PlainValue[] = [
      micros,
      ingested,
      asString(pick(ev, 'id')) ?? randomUUID(),
      asString(pick(ev, 'dataset')),
      asString(pick(ev, 'action')),
      asString(pick(ev, 'outcome')),
      asStrings(pick(ev, 'category')),
      asString(pick(pick(event, 'host'), 'name')),
      sourceIp,
      ipNum(sourceIp),
      asInt(pick(source, 'port')),
      destinationIp,
      ipNum(destinationIp),
      asInt(pick(destination, 'port')),
      asString(pick(pick(event, 'user'), 'name')),
      asString(pick(pick(event, 'process'), 'name')),
      asString(pick(pick(http, 'request'), 'method')),
      asInt(pick(pick(http, 'response'), 'status_code')),
      asString(pick(pick(event, 'url'), 'original')),
      asString(pick(pick(event, 'user_agent'), 'original')),
      asString(pick(pick(event, 'log'), 'level')),
      asStrings(pick(event, 'tags')),
      message,
      original,
      searchText(message, original),
      documentJson(event),
    ];
    for (let c = 0; c < values.length; c++) columns[c]![row] = values[c]!;
  }
  return unique && unique.length > 0 ? { count: events.length, columns, unique: [...unique] } : { count: events.length, columns };
}

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

/** Columns holding timestamps (µs) and string lists, which become DuckDB values at append time. */
const TIMESTAMP_COLUMNS = new Set<number>(['ts', 'ingested'].map((name) => COLUMN_ORDER.indexOf(name as (typeof COLUMN_ORDER)[number])));
const LIST_COLUMNS = new Set<number>(['event_category', 'tags'].map((name) => COLUMN_ORDER.indexOf(name as (typeof COLUMN_ORDER)[number])));

function toDuckDb(column: number, values: readonly PlainValue[]): DuckDBValue[] {
  if (TIMESTAMP_COLUMNS.has(column)) return values.map((v) => (v === null ? null : new DuckDBTimestampTZValue(v as bigint)));
  if (LIST_COLUMNS.has(column)) return values.map((v) => (v === null ? null : listValue(v as string[])));
  return values as DuckDBValue[];
}

/**
 * Appends a prepared batch through data chunks: numbers, timestamps and lists are written straight into vector
 * memory, where the appender's value-at-a-time calls cost ~4 µs per list value alone (measured). The caller flushes;
 * the flush (DuckDB storing the rows and writing its WAL) is most of what an append costs.
 */
export function appendColumns(appender: DuckDBAppender, batch: EventColumns): void {
  const types = COLUMN_ORDER.map((_, i) => appender.columnType(i));
  const { count, columns } = batch;
  if (columns.length !== COLUMN_ORDER.length || columns.some((c) => c.length !== count)) {
    throw new Error(`a prepared batch must have ${COLUMN_ORDER.length} columns of ${count} values`);
  }
  for (let start = 0; start < count; start += CHUNK_ROWS) {
    const rows = Math.min(CHUNK_ROWS, count - start);
    const chunk = DuckDBDataChunk.create(types, rows);
    for (let c = 0; c < columns.length; c++) {
      chunk.setColumnValues(c, toDuckDb(c, rows === count ? columns[c]! : columns[c]!.slice(start, start + rows)));
    }
    appender.appendDataChunk(chunk);
  }
}
