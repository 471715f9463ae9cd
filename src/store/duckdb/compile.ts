// Compiles a QueryNode into a DuckDB WHERE clause. Every value from the user is a bound parameter ($n); field names
// reach the SQL only as hot column names from a fixed map or, checked against isValidFieldName, inside a JSON path.
import {
  BIGINT,
  DOUBLE,
  DuckDBTimestampTZValue,
  TIMESTAMPTZ,
  UHUGEINT,
  VARCHAR,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { VigilError } from '../../core/errors.js';
import { parseCidr, parseIp } from '../../core/ip.js';
import type { QueryNode } from '../query/ast.js';
import { isValidFieldName } from '../query/parse.js';
import { wildcardToLike } from '../query/wildcard.js';
import { MICROS_PER_DAY, isDateOnly, parseTimeMicros } from '../time.js';
import { SEARCH_TEXT_COLUMN, TEXT_FIELDS, hotColumn, jsonPathLiteral, type HotColumn } from './schema.js';

/** Positional parameters collected while compiling; `add` answers the placeholder to put in the SQL. */
export class SqlParams {
  readonly values: DuckDBValue[] = [];
  readonly types: DuckDBType[] = [];

  add(value: DuckDBValue, type: DuckDBType): string {
    this.values.push(value);
    this.types.push(type);
    return `$${this.values.length}`;
  }

  text(value: string): string {
    return this.add(value, VARCHAR);
  }

  micros(value: bigint): string {
    return this.add(new DuckDBTimestampTZValue(value), TIMESTAMPTZ);
  }
}

/**
 * Free-text matching. `contains(lower(col), lower(value))` measured faster than `ILIKE '%value%'` on this machine
 * (bench/search.ts); both fold case with Unicode rules.
 */
function containsText(column: string, value: string, params: SqlParams): string {
  return `contains(lower(${column}), ${params.text(value.toLowerCase())})`;
}

function likeText(column: string, pattern: string, params: SqlParams, caseInsensitive: boolean): string {
  return `${column} ${caseInsensitive ? 'ILIKE' : 'LIKE'} ${params.text(pattern)} ESCAPE '\\'`;
}

function badQuery(message: string, field: string): VigilError {
  return new VigilError('bad_query', message, { location: `field ${field}` });
}

// No two adjacent quantifiers can share a digit, so a failing match cannot backtrack quadratically.
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > 40 || !NUMBER_TEXT.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

function timeBound(field: string, text: string): bigint {
  const micros = parseTimeMicros(text);
  if (micros === undefined) {
    throw badQuery(`cannot read '${text}' as a time for ${field} (use ISO 8601 such as 2024-05-01T10:00:00Z, or epoch milliseconds)`, field);
  }
  return micros;
}

type Range = QueryNode & { type: 'range' };

/** A range's bounds as SQL comparisons on `expr`, each bound converted by `bind` (which may throw bad_query). */
function rangeSql(expr: string, node: Range, bind: (text: string) => string): string {
  const parts: string[] = [];
  if (node.gte !== undefined) parts.push(`${expr} >= ${bind(node.gte)}`);
  if (node.gt !== undefined) parts.push(`${expr} > ${bind(node.gt)}`);
  if (node.lte !== undefined) parts.push(`${expr} <= ${bind(node.lte)}`);
  if (node.lt !== undefined) parts.push(`${expr} < ${bind(node.lt)}`);
  return parts.length === 0 ? 'TRUE' : `(${parts.join(' AND ')})`;
}

function boundsOf(node: Range): string[] {
  return [node.gte, node.gt, node.lte, node.lt].filter((b): b is string => b !== undefined);
}

/** `@timestamp` ranges; a bare date as an upper bound (or a `>` lower bound) means the end of that UTC day, as users read it. */
function timeRange(node: Range, params: SqlParams): string {
  const parts: string[] = [];
  const day = (text: string): bigint => timeBound(node.field, text) + (isDateOnly(text.trim()) ? MICROS_PER_DAY : 0n);
  if (node.gte !== undefined) parts.push(`ts >= ${params.micros(timeBound(node.field, node.gte))}`);
  if (node.gt !== undefined) parts.push(isDateOnly(node.gt.trim()) ? `ts >= ${params.micros(day(node.gt))}` : `ts > ${params.micros(timeBound(node.field, node.gt))}`);
  if (node.lte !== undefined) parts.push(isDateOnly(node.lte.trim()) ? `ts < ${params.micros(day(node.lte))}` : `ts <= ${params.micros(timeBound(node.field, node.lte))}`);
  if (node.lt !== undefined) parts.push(`ts < ${params.micros(timeBound(node.field, node.lt))}`);
  return parts.length === 0 ? 'TRUE' : `(${parts.join(' AND ')})`;
}

function anyElement(listExpr: string, predicate: (x: string) => string): string {
  return `len(list_filter(${listExpr}, lambda x: ${predicate('x')})) > 0`;
}

function hotTerm(field: string, hot: HotColumn, node: QueryNode & { type: 'term' }, params: SqlParams): string {
  const col = hot.column;
  const like = (): string => params.text(wildcardToLike(node.value));
  switch (hot.kind) {
    case 'text':
      return node.wildcard ? likeText(col, `%${wildcardToLike(node.value)}%`, params, true) : containsText(col, node.value, params);
    case 'keyword':
      return node.wildcard ? likeText(col, wildcardToLike(node.value), params, false) : `${col} = ${params.text(node.value)}`;
    case 'keywords':
      return node.wildcard ? anyElement(col, (x) => `${x} LIKE ${like()} ESCAPE '\\'`) : `list_contains(${col}, ${params.text(node.value)})`;
    case 'int': {
      if (node.wildcard) return likeText(`CAST(${col} AS VARCHAR)`, wildcardToLike(node.value), params, false);
      const n = parseNumber(node.value);
      if (n === undefined) return 'FALSE';
      return `${col} = ${Number.isSafeInteger(n) ? params.add(BigInt(n), BIGINT) : params.add(n, DOUBLE)}`;
    }
    case 'ip': {
      if (node.wildcard) return likeText(col, wildcardToLike(node.value), params, false);
      const num = parseIp(node.value.trim());
      return num === undefined ? `${col} = ${params.text(node.value)}` : `${hot.numColumn} = ${params.add(num, UHUGEINT)}`;
    }
    case 'time': {
      if (node.wildcard) return likeText(`json_extract_string(doc, '$."@timestamp"')`, wildcardToLike(node.value), params, false);
      const micros = timeBound(field, node.value);
      if (isDateOnly(node.value.trim())) return `(ts >= ${params.micros(micros)} AND ts < ${params.micros(micros + MICROS_PER_DAY)})`;
      return `ts = ${params.micros(micros)}`;
    }
  }
}

function hotRange(hot: HotColumn, node: Range, params: SqlParams): string {
  const col = hot.column;
  switch (hot.kind) {
    case 'time':
      return timeRange(node, params);
    case 'int':
      return rangeSql(col, node, (text) => {
        const n = parseNumber(text);
        if (n === undefined) throw badQuery(`${node.field} is numeric: cannot compare it with '${text}'`, node.field);
        return params.add(n, DOUBLE);
      });
    case 'ip':
      return rangeSql(hot.numColumn!, node, (text) => {
        const num = parseIp(text.trim());
        if (num === undefined) throw badQuery(`${node.field} holds IP addresses: '${text}' is not one`, node.field);
        return params.add(num, UHUGEINT);
      });
    case 'keywords':
      return anyElement(col, (x) => rangeSql(x, node, (text) => params.text(text)));
    default:
      return rangeSql(col, node, (text) => params.text(text));
  }
}

function hotExists(field: string, hot: HotColumn): string {
  if (hot.kind === 'keywords') return `len(${hot.column}) > 0`;
  // `id` and `ts` are always filled in; whether the document had them is in the document.
  if (hot.kind === 'time' || field === 'event.id') return jsonExists(field);
  return `${hot.column} IS NOT NULL`;
}

function jsonValues(field: string): string {
  return `vigil_values(json_extract(doc, ${jsonPathLiteral(field)}))`;
}

function jsonExists(field: string): string {
  return anyElement(jsonValues(field), (x) => `${x} IS NOT NULL`);
}

function jsonTerm(field: string, node: QueryNode & { type: 'term' }, params: SqlParams): string {
  const values = jsonValues(field);
  if (TEXT_FIELDS.has(field)) {
    if (node.wildcard) {
      const p = params.text(`%${wildcardToLike(node.value)}%`);
      return anyElement(values, (x) => `${x} ILIKE ${p} ESCAPE '\\'`);
    }
    const p = params.text(node.value.toLowerCase());
    return anyElement(values, (x) => `contains(lower(${x}), ${p})`);
  }
  if (node.wildcard) {
    const p = params.text(wildcardToLike(node.value));
    return anyElement(values, (x) => `${x} LIKE ${p} ESCAPE '\\'`);
  }
  return `list_contains(${values}, ${params.text(node.value)})`;
}

/** Ranges on document fields: numeric when every bound is a number, time when every bound is a time, text otherwise. */
function jsonRange(field: string, node: Range, params: SqlParams): string {
  const bounds = boundsOf(node);
  const values = jsonValues(field);
  if (bounds.every((b) => parseNumber(b) !== undefined)) {
    return anyElement(values, (x) => rangeSql(`TRY_CAST(${x} AS DOUBLE)`, node, (text) => params.add(parseNumber(text)!, DOUBLE)));
  }
  if (bounds.every((b) => parseTimeMicros(b) !== undefined && /^\d{4}-\d\d-\d\d/.test(b.trim()))) {
    return anyElement(values, (x) => rangeSql(`TRY_CAST(${x} AS TIMESTAMPTZ)`, node, (text) => params.micros(parseTimeMicros(text)!)));
  }
  return anyElement(values, (x) => rangeSql(x, node, (text) => params.text(text)));
}

function cidrSql(node: QueryNode & { type: 'cidr' }, params: SqlParams): string {
  const range = parseCidr(node.cidr.trim());
  const hot = hotColumn(node.field);
  if (range === undefined) throw badQuery(`'${node.cidr}' is not a CIDR block such as 10.0.0.0/8 or 2001:db8::/32`, node.field);
  if (hot?.kind === 'ip') return `${hot.numColumn} BETWEEN ${params.add(range.low, UHUGEINT)} AND ${params.add(range.high, UHUGEINT)}`;
  if (hot !== undefined) {
    // A CIDR-shaped value on a field that holds no addresses is just text.
    return hotTerm(node.field, hot, { type: 'term', field: node.field, value: node.cidr, phrase: true, wildcard: false }, params);
  }
  const low = params.add(range.low, UHUGEINT);
  const high = params.add(range.high, UHUGEINT);
  return anyElement(jsonValues(node.field), (x) => `vigil_ip(${x}) BETWEEN ${low} AND ${high}`);
}

function freeText(node: QueryNode & { type: 'term' }, params: SqlParams): string {
  // search_text was lower-cased with the same JavaScript toLowerCase, so both sides fold case alike.
  const value = node.value.toLowerCase();
  if (node.wildcard) return `${SEARCH_TEXT_COLUMN} LIKE ${params.text(`%${wildcardToLike(value)}%`)} ESCAPE '\\'`;
  return `contains(${SEARCH_TEXT_COLUMN}, ${params.text(value)})`;
}

/**
 * The WHERE condition for `node`. A leaf whose field is not a valid name matches nothing; a field that no event has
 * matches nothing too (and `NOT` of it everything), because each NOT treats an unknown (NULL) child as false.
 */
export function compileQuery(node: QueryNode, params: SqlParams): string {
  switch (node.type) {
    case 'all':
      return 'TRUE';
    case 'and':
      return node.children.length === 0 ? 'TRUE' : `(${node.children.map((c) => compileQuery(c, params)).join(' AND ')})`;
    case 'or':
      return node.children.length === 0 ? 'FALSE' : `(${node.children.map((c) => compileQuery(c, params)).join(' OR ')})`;
    case 'not':
      return `(NOT coalesce(${compileQuery(node.child, params)}, FALSE))`;
    case 'term': {
      if (node.field === null) return freeText(node, params);
      if (!isValidFieldName(node.field)) return 'FALSE';
      const hot = hotColumn(node.field);
      return hot === undefined ? jsonTerm(node.field, node, params) : hotTerm(node.field, hot, node, params);
    }
    case 'exists': {
      if (!isValidFieldName(node.field)) return 'FALSE';
      const hot = hotColumn(node.field);
      return hot === undefined ? jsonExists(node.field) : hotExists(node.field, hot);
    }
    case 'range': {
      if (!isValidFieldName(node.field)) return 'FALSE';
      const hot = hotColumn(node.field);
      return hot === undefined ? jsonRange(node.field, node, params) : hotRange(hot, node, params);
    }
    case 'cidr':
      if (!isValidFieldName(node.field)) return 'FALSE';
      return cidrSql(node, params);
    default:
      throw new VigilError('bad_query', `unknown query node type ${JSON.stringify((node as { type?: unknown }).type)}`);
  }
}

/** The `@timestamp` bounds of a request (`from` inclusive, `to` exclusive, both ms since the epoch). */
export function timeBoundsSql(bounds: { from?: number; to?: number }, params: SqlParams): string {
  const parts: string[] = [];
  if (bounds.from !== undefined) parts.push(`ts >= ${params.micros(msToMicros(bounds.from, 'from'))}`);
  if (bounds.to !== undefined) parts.push(`ts < ${params.micros(msToMicros(bounds.to, 'to'))}`);
  return parts.length === 0 ? 'TRUE' : parts.join(' AND ');
}

export function msToMicros(ms: number, name: string): bigint {
  if (!Number.isFinite(ms)) throw new VigilError('bad_request', `${name} must be a time`, { location: name });
  return BigInt(Math.trunc(ms)) * 1000n;
}

/** The SQL expression that yields a field's values for `top` (one row per value; arrays unnested). */
export function topValueSql(field: string): { values: string; exists: string; unnest: boolean; existsWhenValue?: boolean } | undefined {
  if (!isValidFieldName(field)) return undefined;
  const hot = hotColumn(field);
  if (hot === undefined) return { values: jsonValues(field), exists: jsonExists(field), unnest: true };
  if (hot.kind === 'keywords') return { values: hot.column, exists: hotExists(field, hot), unnest: true };
  if (hot.kind === 'time') return { values: `strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ')`, exists: 'TRUE', unnest: false };
  // A plain column has the field exactly when it has a value, so the events with the field are the values' counts
  // summed (no second scan); `event.id` is always filled in, whether the document had one or not.
  return { values: `CAST(${hot.column} AS VARCHAR)`, exists: hotExists(field, hot), unnest: false, existsWhenValue: field !== 'event.id' };
}

