// Compiles a QueryNode into a DuckDB WHERE clause: DuckDB's spelling (sql/compile.ts's SqlDialect) of the shared
// query semantics. Every value from the user is a bound parameter ($n).
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
import type { QueryNode } from '../query/ast.js';
import { QueryCompiler, topValueSql as topValue, type QueryParams, type SqlDialect, type TopValue } from '../sql/compile.js';
import { jsonPathLiteral } from './schema.js';

export { msToMicros } from '../sql/compile.js';

/** Positional parameters collected while compiling; `add` answers the placeholder to put in the SQL. */
export class SqlParams implements QueryParams {
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

  int(value: bigint): string {
    return this.add(value, BIGINT);
  }

  double(value: number): string {
    return this.add(value, DOUBLE);
  }

  ip(value: bigint): string {
    return this.add(value, UHUGEINT);
  }
}

/** DuckDB's spelling. `vigil_values` (a macro) and `vigil_ip` (a scalar function) are set up per connection (schema.ts, store.ts). */
export const DUCKDB_DIALECT: SqlDialect = {
  // `contains(lower(col), lower(value))` measured faster than `ILIKE '%value%'` on this machine (bench/search.ts);
  // both fold case with Unicode rules.
  containsFolded: (expr, lowered) => `contains(lower(${expr}), ${lowered})`,
  contains: (expr, needle) => `contains(${expr}, ${needle})`,
  like: (expr, pattern, caseInsensitive) => `${expr} ${caseInsensitive ? 'ILIKE' : 'LIKE'} ${pattern} ESCAPE '\\'`,
  anyElement: (list, predicate) => `len(list_filter(${list}, lambda x: ${predicate('x')})) > 0`,
  listContains: (list, value) => `list_contains(${list}, ${value})`,
  listNotEmpty: (list) => `len(${list}) > 0`,
  not: (expr) => `(NOT coalesce(${expr}, FALSE))`,
  toText: (expr) => `CAST(${expr} AS VARCHAR)`,
  toDouble: (expr) => `TRY_CAST(${expr} AS DOUBLE)`,
  toTime: (expr) => `TRY_CAST(${expr} AS TIMESTAMPTZ)`,
  toIp: (expr) => `vigil_ip(${expr})`,
  jsonValues: (field) => `vigil_values(json_extract(doc, ${jsonPathLiteral(field)}))`,
  jsonText: (field) => `json_extract_string(doc, ${jsonPathLiteral(field)})`,
  formatTime: (expr) => `strftime(${expr}, '%Y-%m-%dT%H:%M:%S.%fZ')`,
};

/**
 * The WHERE condition for `node`. A leaf whose field is not a valid name matches nothing; a field that no event has
 * matches nothing too (and `NOT` of it everything), because each NOT treats an unknown (NULL) child as false.
 */
export function compileQuery(node: QueryNode, params: SqlParams): string {
  return new QueryCompiler(DUCKDB_DIALECT, params).compile(node);
}

/** The `@timestamp` bounds of a request (`from` inclusive, `to` exclusive, both ms since the epoch). */
export function timeBoundsSql(bounds: { from?: number; to?: number }, params: SqlParams): string {
  return new QueryCompiler(DUCKDB_DIALECT, params).timeBounds(bounds);
}

/** The events after the page a search cursor ended (see QueryCompiler.after). */
export function cursorSql(cursor: string, params: SqlParams): string {
  return new QueryCompiler(DUCKDB_DIALECT, params).after(cursor);
}

/** The SQL expression that yields a field's values for `top` (one row per value; arrays unnested). */
export function topValueSql(field: string): TopValue | undefined {
  return topValue(DUCKDB_DIALECT, field);
}
