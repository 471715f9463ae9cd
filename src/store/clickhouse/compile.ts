// ClickHouse's spelling (sql/compile.ts's SqlDialect) of the shared query semantics, and its named parameters
// ({p1:String}), bound by the server: user values never enter the SQL text.
import { formatIp } from '../../core/ip.js';
import type { QueryNode } from '../query/ast.js';
import { isValidFieldName } from '../query/parse.js';
import { QueryCompiler, topValueSql as topValue, type QueryParams, type SqlDialect, type TopValue } from '../sql/compile.js';
import type { Params } from './connection.js';

/** An address as ClickHouse's IPv6 text: IPv4 in its mapped form (::ffff:a.b.c.d), as the IPv6 columns hold it. */
export function ipv6Text(value: bigint): string {
  const text = formatIp(value);
  return text.includes(':') ? text : `::ffff:${text}`;
}

/** Named parameters collected while compiling; each method answers the placeholder to put in the SQL. */
export class ChParams implements QueryParams {
  readonly values: Params = {};
  private count = 0;

  add(type: string, value: string | readonly string[]): string {
    const name = `p${++this.count}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }

  text(value: string): string {
    return this.add('String', value);
  }

  micros(value: bigint): string {
    return `fromUnixTimestamp64Micro(${this.add('Int64', value.toString())}, 'UTC')`;
  }

  int(value: bigint): string {
    return this.add('Int64', value.toString());
  }

  double(value: number): string {
    return this.add('Float64', String(value));
  }

  ip(value: bigint): string {
    return this.add('IPv6', ipv6Text(value));
  }
}

/**
 * A document field's JSON path as ClickHouse's key arguments (`'url', 'domain'`). Callers check the name with
 * isValidFieldName first: its alphabet has no quote or backslash, so each key can sit in SQL as a literal.
 */
function jsonKeys(field: string): string {
  if (!isValidFieldName(field)) throw new Error(`invalid field name reached the SQL compiler: ${JSON.stringify(field)}`);
  return field
    .split('.')
    .map((segment) => `'${segment}'`)
    .join(', ');
}

/**
 * A JSON value as the list of strings a term is matched against: an array's elements (nulls left out), JSON null or
 * a missing field as nothing, a string as its text, any other value (number, boolean, object) as its JSON text.
 * ClickHouse computes the repeated JSONExtractRaw once per row (common subexpressions are merged).
 */
function jsonValues(field: string): string {
  const keys = jsonKeys(field);
  const raw = `JSONExtractRaw(doc, ${keys})`;
  const elements = `arrayFilter(x -> JSONType(x) != 'Null', JSONExtractArrayRaw(${raw}))`;
  const list = `if(JSONType(${raw}) = 'Array', ${elements}, if(JSONType(${raw}) = 'Null', [], [${raw}]))`;
  return `arrayMap(x -> if(JSONType(x) = 'String', JSONExtractString(x), x), ${list})`;
}

export const CLICKHOUSE_DIALECT: SqlDialect = {
  containsFolded: (expr, lowered) => `positionCaseInsensitiveUTF8(${expr}, ${lowered}) > 0`,
  contains: (expr, needle) => `position(${expr}, ${needle}) > 0`,
  // ClickHouse's LIKE escapes with `\` always (https://clickhouse.com/docs/sql-reference/functions/string-search-functions#like).
  like: (expr, pattern, caseInsensitive) => `${expr} ${caseInsensitive ? 'ILIKE' : 'LIKE'} ${pattern}`,
  anyElement: (list, predicate) => `arrayExists(x -> ${predicate('x')}, ${list})`,
  listContains: (list, value) => `has(${list}, ${value})`,
  listNotEmpty: (list) => `notEmpty(${list})`,
  not: (expr) => `(NOT ifNull(${expr}, false))`,
  toText: (expr) => `toString(${expr})`,
  toDouble: (expr) => `toFloat64OrNull(${expr})`,
  toTime: (expr) => `parseDateTime64BestEffortOrNull(${expr}, 6, 'UTC')`,
  toIp: (expr) => `toIPv6OrNull(trimBoth(${expr}))`,
  jsonValues,
  jsonText: (field) => {
    const raw = `JSONExtractRaw(doc, ${jsonKeys(field)})`;
    return `if(JSONType(${raw}) = 'String', JSONExtractString(${raw}), ${raw})`;
  },
  formatTime: (expr) => `formatDateTime(${expr}, '%Y-%m-%dT%H:%i:%S.%fZ')`,
};

/** The condition for a request's query and time bounds. */
export function compileFilter(request: { query: QueryNode; from?: number; to?: number }, params: ChParams): string {
  return new QueryCompiler(CLICKHOUSE_DIALECT, params).filter(request);
}

export function topValueSql(field: string): TopValue | undefined {
  return topValue(CLICKHOUSE_DIALECT, field);
}
