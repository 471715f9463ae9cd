// Compiles a QueryNode into a WHERE condition for any SQL engine: the semantics (which field is text, keyword, list,
// number, time or address, and what each query form means for it) live here once; an SqlDialect says how its engine
// spells each operation, as pySigma's backends do. Every value from the user is a bound parameter; field names reach
// the SQL only as hot column names from a fixed map or, checked against isValidFieldName, inside a JSON path.
import { VigilError } from '../../core/errors.js';
import { parseCidr, parseIp } from '../../core/ip.js';
import type { QueryNode } from '../query/ast.js';
import { isValidFieldName } from '../query/parse.js';
import { wildcardToLike } from '../query/wildcard.js';
import { decodeCursor } from '../requests.js';
import { MICROS_PER_DAY, isDateOnly, parseTimeMicros } from '../time.js';
import { SEARCH_TEXT_COLUMN, TEXT_FIELDS, hotColumn, type HotColumn } from './columns.js';

/** Bound parameters collected while compiling; each method answers the placeholder to put in the SQL. */
export interface QueryParams {
  text(value: string): string;
  /** A timestamp, µs since the epoch, comparable with the `ts` column. */
  micros(value: bigint): string;
  int(value: bigint): string;
  double(value: number): string;
  /** An address as its 128-bit value (IPv4 mapped), comparable with an `ip` column's `numColumn`. */
  ip(value: bigint): string;
}

/** How one engine's SQL spells what the compiler needs. Expressions come in already parenthesised where it matters. */
export interface SqlDialect {
  /** `expr` contains the parameter `lowered` (already lower-case), ignoring the case of `expr`. */
  containsFolded(expr: string, lowered: string): string;
  /** `expr` contains the parameter `needle`, case as it is. */
  contains(expr: string, needle: string): string;
  /** SQL LIKE with `\` as the escape character (wildcardToLike's output). */
  like(expr: string, pattern: string, caseInsensitive: boolean): string;
  /** True when `predicate` holds for some element of the list `list`. */
  anyElement(list: string, predicate: (element: string) => string): string;
  listContains(list: string, value: string): string;
  listNotEmpty(list: string): string;
  /** NOT that treats an unknown (NULL) operand as false, so NOT of a missing field matches. */
  not(expr: string): string;
  toText(expr: string): string;
  /** Text to a number, NULL when it is not one. */
  toDouble(expr: string): string;
  /** Text to a timestamp comparable with `micros` parameters, NULL when it is not one. */
  toTime(expr: string): string;
  /** Text to an address comparable with `ip` parameters, NULL when it is not one. */
  toIp(expr: string): string;
  /** The values of a document field as a list of strings: an array's elements, a scalar as one, JSON null as none. */
  jsonValues(field: string): string;
  /** A document field as text (for `@timestamp` as the sender wrote it). */
  jsonText(field: string): string;
  /** The `ts` column as RFC 3339 text with microseconds, for top values. */
  formatTime(expr: string): string;
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

export function msToMicros(ms: number, name: string): bigint {
  if (!Number.isFinite(ms)) throw new VigilError('bad_request', `${name} must be a time`, { location: name });
  return BigInt(Math.trunc(ms)) * 1000n;
}

type Range = QueryNode & { type: 'range' };
type Term = QueryNode & { type: 'term' };

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

function jsonExists(d: SqlDialect, field: string): string {
  return d.anyElement(d.jsonValues(field), (x) => `${x} IS NOT NULL`);
}

function hotExists(d: SqlDialect, field: string, hot: HotColumn): string {
  if (hot.kind === 'keywords') return d.listNotEmpty(hot.column);
  // `id` and `ts` are always filled in; whether the document had them is in the document.
  if (hot.kind === 'time' || field === 'event.id') return jsonExists(d, field);
  return `${hot.column} IS NOT NULL`;
}

/** One compilation: a dialect and the parameters of the statement being built. */
export class QueryCompiler {
  constructor(
    private readonly d: SqlDialect,
    private readonly params: QueryParams,
  ) {}

  /**
   * The WHERE condition for `node`. A leaf whose field is not a valid name matches nothing; a field that no event
   * has matches nothing too (and `NOT` of it everything), because each NOT treats an unknown (NULL) child as false.
   */
  compile(node: QueryNode): string {
    switch (node.type) {
      case 'all':
        return 'TRUE';
      case 'and':
        return node.children.length === 0 ? 'TRUE' : `(${node.children.map((c) => this.compile(c)).join(' AND ')})`;
      case 'or':
        return node.children.length === 0 ? 'FALSE' : `(${node.children.map((c) => this.compile(c)).join(' OR ')})`;
      case 'not':
        return this.d.not(this.compile(node.child));
      case 'term': {
        if (node.field === null) return this.freeText(node);
        if (!isValidFieldName(node.field)) return 'FALSE';
        const hot = hotColumn(node.field);
        return hot === undefined ? this.jsonTerm(node.field, node) : this.hotTerm(node.field, hot, node);
      }
      case 'exists': {
        if (!isValidFieldName(node.field)) return 'FALSE';
        const hot = hotColumn(node.field);
        return hot === undefined ? jsonExists(this.d, node.field) : hotExists(this.d, node.field, hot);
      }
      case 'range': {
        if (!isValidFieldName(node.field)) return 'FALSE';
        const hot = hotColumn(node.field);
        return hot === undefined ? this.jsonRange(node.field, node) : this.hotRange(hot, node);
      }
      case 'cidr':
        if (!isValidFieldName(node.field)) return 'FALSE';
        return this.cidr(node);
      default:
        throw new VigilError('bad_query', `unknown query node type ${JSON.stringify((node as { type?: unknown }).type)}`);
    }
  }

  /** The `@timestamp` bounds of a request (`from` inclusive, `to` exclusive, both ms since the epoch). */
  timeBounds(bounds: { from?: number; to?: number }): string {
    const parts: string[] = [];
    if (bounds.from !== undefined) parts.push(`ts >= ${this.params.micros(msToMicros(bounds.from, 'from'))}`);
    if (bounds.to !== undefined) parts.push(`ts < ${this.params.micros(msToMicros(bounds.to, 'to'))}`);
    return parts.length === 0 ? 'TRUE' : parts.join(' AND ');
  }

  /**
   * The events after the page a search cursor ended, newest first (keyset paging on ts, id); `ts <=` alone lets the
   * engine skip newer blocks (DuckDB's zone maps, ClickHouse's primary index). bad_request for a cursor it did not make.
   */
  after(cursor: string): string {
    const { ts, id } = decodeCursor(cursor);
    const micros = this.micros(ts);
    return `ts <= ${micros} AND (ts < ${micros} OR id < ${this.text(id)})`;
  }

  /** The query and the time bounds of a request, as one condition. */
  filter(request: { query: QueryNode; from?: number; to?: number }): string {
    return `${this.compile(request.query)} AND ${this.timeBounds(request)}`;
  }

  private text(value: string): string {
    return this.params.text(value);
  }

  private likeParam(expr: string, value: string, caseInsensitive: boolean, anywhere = false): string {
    const pattern = wildcardToLike(value);
    return this.d.like(expr, this.text(anywhere ? `%${pattern}%` : pattern), caseInsensitive);
  }

  private micros(value: bigint): string {
    return this.params.micros(value);
  }

  /** `@timestamp` ranges; a bare date as an upper bound (or a `>` lower bound) means the end of that UTC day, as users read it. */
  private timeRange(node: Range): string {
    const parts: string[] = [];
    const day = (text: string): bigint => timeBound(node.field, text) + (isDateOnly(text.trim()) ? MICROS_PER_DAY : 0n);
    if (node.gte !== undefined) parts.push(`ts >= ${this.micros(timeBound(node.field, node.gte))}`);
    if (node.gt !== undefined) parts.push(isDateOnly(node.gt.trim()) ? `ts >= ${this.micros(day(node.gt))}` : `ts > ${this.micros(timeBound(node.field, node.gt))}`);
    if (node.lte !== undefined) parts.push(isDateOnly(node.lte.trim()) ? `ts < ${this.micros(day(node.lte))}` : `ts <= ${this.micros(timeBound(node.field, node.lte))}`);
    if (node.lt !== undefined) parts.push(`ts < ${this.micros(timeBound(node.field, node.lt))}`);
    return parts.length === 0 ? 'TRUE' : `(${parts.join(' AND ')})`;
  }

  private hotTerm(field: string, hot: HotColumn, node: Term): string {
    const col = hot.column;
    const d = this.d;
    switch (hot.kind) {
      case 'text':
        return node.wildcard ? this.likeParam(col, node.value, true, true) : d.containsFolded(col, this.text(node.value.toLowerCase()));
      case 'keyword':
        return node.wildcard ? this.likeParam(col, node.value, false) : `${col} = ${this.text(node.value)}`;
      case 'keywords': {
        if (!node.wildcard) return d.listContains(col, this.text(node.value));
        const pattern = this.text(wildcardToLike(node.value));
        return d.anyElement(col, (x) => d.like(x, pattern, false));
      }
      case 'int': {
        if (node.wildcard) return this.likeParam(d.toText(col), node.value, false);
        const n = parseNumber(node.value);
        if (n === undefined) return 'FALSE';
        return `${col} = ${Number.isSafeInteger(n) ? this.params.int(BigInt(n)) : this.params.double(n)}`;
      }
      case 'ip': {
        if (node.wildcard) return this.likeParam(col, node.value, false);
        const num = parseIp(node.value.trim());
        return num === undefined ? `${col} = ${this.text(node.value)}` : `${hot.numColumn} = ${this.params.ip(num)}`;
      }
      case 'time': {
        if (node.wildcard) return this.likeParam(d.jsonText('@timestamp'), node.value, false);
        const micros = timeBound(field, node.value);
        if (isDateOnly(node.value.trim())) return `(ts >= ${this.micros(micros)} AND ts < ${this.micros(micros + MICROS_PER_DAY)})`;
        return `ts = ${this.micros(micros)}`;
      }
    }
  }

  private hotRange(hot: HotColumn, node: Range): string {
    const col = hot.column;
    switch (hot.kind) {
      case 'time':
        return this.timeRange(node);
      case 'int':
        return rangeSql(col, node, (text) => {
          const n = parseNumber(text);
          if (n === undefined) throw badQuery(`${node.field} is numeric: cannot compare it with '${text}'`, node.field);
          return this.params.double(n);
        });
      case 'ip':
        return rangeSql(hot.numColumn!, node, (text) => {
          const num = parseIp(text.trim());
          if (num === undefined) throw badQuery(`${node.field} holds IP addresses: '${text}' is not one`, node.field);
          return this.params.ip(num);
        });
      case 'keywords':
        return this.d.anyElement(col, (x) => rangeSql(x, node, (text) => this.text(text)));
      default:
        return rangeSql(col, node, (text) => this.text(text));
    }
  }

  private jsonTerm(field: string, node: Term): string {
    const d = this.d;
    const values = d.jsonValues(field);
    if (TEXT_FIELDS.has(field)) {
      if (node.wildcard) {
        const p = this.text(`%${wildcardToLike(node.value)}%`);
        return d.anyElement(values, (x) => d.like(x, p, true));
      }
      const p = this.text(node.value.toLowerCase());
      return d.anyElement(values, (x) => d.containsFolded(x, p));
    }
    if (node.wildcard) {
      const p = this.text(wildcardToLike(node.value));
      return d.anyElement(values, (x) => d.like(x, p, false));
    }
    return d.listContains(values, this.text(node.value));
  }

  /** Ranges on document fields: numeric when every bound is a number, time when every bound is a time, text otherwise. */
  private jsonRange(field: string, node: Range): string {
    const d = this.d;
    const bounds = boundsOf(node);
    const values = d.jsonValues(field);
    if (bounds.every((b) => parseNumber(b) !== undefined)) {
      return d.anyElement(values, (x) => rangeSql(d.toDouble(x), node, (text) => this.params.double(parseNumber(text)!)));
    }
    if (bounds.every((b) => parseTimeMicros(b) !== undefined && /^\d{4}-\d\d-\d\d/.test(b.trim()))) {
      return d.anyElement(values, (x) => rangeSql(d.toTime(x), node, (text) => this.micros(parseTimeMicros(text)!)));
    }
    return d.anyElement(values, (x) => rangeSql(x, node, (text) => this.text(text)));
  }

  private cidr(node: QueryNode & { type: 'cidr' }): string {
    const range = parseCidr(node.cidr.trim());
    const hot = hotColumn(node.field);
    if (range === undefined) throw badQuery(`'${node.cidr}' is not a CIDR block such as 10.0.0.0/8 or 2001:db8::/32`, node.field);
    if (hot?.kind === 'ip') return `${hot.numColumn} BETWEEN ${this.params.ip(range.low)} AND ${this.params.ip(range.high)}`;
    if (hot !== undefined) {
      // A CIDR-shaped value on a field that holds no addresses is just text.
      return this.hotTerm(node.field, hot, { type: 'term', field: node.field, value: node.cidr, phrase: true, wildcard: false });
    }
    const low = this.params.ip(range.low);
    const high = this.params.ip(range.high);
    return this.d.anyElement(this.d.jsonValues(node.field), (x) => `${this.d.toIp(x)} BETWEEN ${low} AND ${high}`);
  }

  private freeText(node: Term): string {
    // search_text was lower-cased with the same JavaScript toLowerCase, so both sides fold case alike.
    const value = node.value.toLowerCase();
    if (node.wildcard) return this.likeParam(SEARCH_TEXT_COLUMN, value, false, true);
    return this.d.contains(SEARCH_TEXT_COLUMN, this.text(value));
  }
}

/** How `top` reads a field: the SQL giving its values (a list when `unnest`) and the condition that it is present. */
export interface TopValue {
  values: string;
  exists: string;
  unnest: boolean;
  /** The field is present exactly when a value is (a plain column): the present events are the values' counts summed. */
  existsWhenValue?: boolean;
}

/** The SQL expression that yields a field's values for `top` (one row per value; arrays unnested). */
export function topValueSql(d: SqlDialect, field: string): TopValue | undefined {
  if (!isValidFieldName(field)) return undefined;
  const hot = hotColumn(field);
  if (hot === undefined) return { values: d.jsonValues(field), exists: jsonExists(d, field), unnest: true };
  if (hot.kind === 'keywords') return { values: hot.column, exists: hotExists(d, field, hot), unnest: true };
  if (hot.kind === 'time') return { values: d.formatTime(hot.column), exists: 'TRUE', unnest: false };
  // A plain column has the field exactly when it has a value, so the events with the field are the values' counts
  // summed (no second scan); `event.id` is always filled in, whether the document had one or not.
  return { values: d.toText(hot.column), exists: hotExists(d, field, hot), unnest: false, existsWhenValue: field !== 'event.id' };
}
