// The DuckDB table: hot columns for the fields queries, dashboards and detections hit, plus the whole ECS document as JSON.
// Any other field is read from the document with a JSON path (https://duckdb.org/docs/stable/data/json/json_functions).
import { isValidFieldName } from '../query/parse.js';

export const SCHEMA_VERSION = '1';

export {
  COLUMN_ORDER,
  DETACHED_STRINGS,
  HOT_COLUMNS,
  SEARCH_TEXT_COLUMN,
  TEXT_FIELDS,
  hotColumn,
  type ColumnKind,
  type HotColumn,
} from '../sql/columns.js';

/** The events table's DDL under `name` (retention compacts into a copy). */
export function eventsTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
    ts TIMESTAMPTZ NOT NULL,
    -- When Vigil received the event (event.ingested): retention by age counts from here, so an imported old log
    -- stays searchable for the configured time instead of being deleted at once for its old @timestamp.
    ingested TIMESTAMPTZ NOT NULL,
    id VARCHAR NOT NULL,
    event_dataset VARCHAR,
    event_action VARCHAR,
    event_outcome VARCHAR,
    event_category VARCHAR[],
    host_name VARCHAR,
    source_ip VARCHAR,
    source_ip_num UHUGEINT,
    source_port INTEGER,
    destination_ip VARCHAR,
    destination_ip_num UHUGEINT,
    destination_port INTEGER,
    user_name VARCHAR,
    process_name VARCHAR,
    http_request_method VARCHAR,
    http_response_status_code INTEGER,
    url_original VARCHAR,
    user_agent_original VARCHAR,
    log_level VARCHAR,
    tags VARCHAR[],
    message VARCHAR,
    event_original VARCHAR,
    search_text VARCHAR,
    doc JSON NOT NULL
  )`;
}

export const CREATE_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS vigil_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
  eventsTableSql('events'),
  `INSERT INTO vigil_meta VALUES ('schema_version', '${SCHEMA_VERSION}') ON CONFLICT DO NOTHING`,
];

/**
 * Per-connection helpers. `vigil_values` turns a JSON value into the list of strings a term is matched against:
 * an array's elements, a scalar as one string, JSON null as nothing, so arrays and scalars are queried alike.
 */
export const CONNECTION_SETUP = [
  `SET TimeZone = 'UTC'`,
  `CREATE OR REPLACE TEMP MACRO vigil_values(j) AS CASE json_type(j)
     WHEN 'ARRAY' THEN json_extract_string(j, '$[*]')
     WHEN 'NULL' THEN []::VARCHAR[]
     WHEN 'OBJECT' THEN [CAST(j AS VARCHAR)]
     ELSE [json_extract_string(j, '$')] END`,
];

/**
 * The JSON path of a dotted field, each segment quoted (`$."url"."domain"`). Callers check the name with
 * isValidFieldName first: its alphabet has no quote, so the path can sit in SQL as a literal.
 */
export function jsonPathLiteral(field: string): string {
  if (!isValidFieldName(field)) throw new Error(`invalid field name reached the SQL compiler: ${JSON.stringify(field)}`);
  return `'$.${field
    .split('.')
    .map((segment) => `"${segment}"`)
    .join('.')}'`;
}
