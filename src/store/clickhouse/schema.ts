// The ClickHouse events table: the hot columns of every SQL engine (sql/columns.ts) in types chosen for logs, the
// whole document as JSON text, one partition a day, sorted by time for time-range and newest-first reads.
import { COLUMN_ORDER } from '../sql/columns.js';

export const SCHEMA_VERSION = '1';

/**
 * Column types. Repeating values (datasets, actions, hosts, users, methods, levels, list elements) are LowCardinality:
 * dictionary-encoded, so filters and group-bys compare small integers. Long text is ZSTD-compressed. Addresses are
 * kept as sent (for display and top values) and as IPv6 (IPv4 mapped) for CIDR and range tests. Nullable keeps "the
 * event has no such field" apart from an empty value, as the query language needs (`user.name:*`).
 */
const COLUMN_TYPES: Record<(typeof COLUMN_ORDER)[number], string> = {
  ts: `DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1))`,
  // When Vigil received the event (event.ingested): retention by age counts from here, so an imported old log stays
  // searchable for the configured time instead of being deleted at once for its old @timestamp.
  ingested: `DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1))`,
  id: 'String',
  event_dataset: 'LowCardinality(Nullable(String))',
  event_action: 'LowCardinality(Nullable(String))',
  event_outcome: 'LowCardinality(Nullable(String))',
  event_category: 'Array(LowCardinality(String))',
  host_name: 'LowCardinality(Nullable(String))',
  source_ip: 'Nullable(String)',
  source_ip_num: 'Nullable(IPv6)',
  source_port: 'Nullable(Int32)',
  destination_ip: 'Nullable(String)',
  destination_ip_num: 'Nullable(IPv6)',
  destination_port: 'Nullable(Int32)',
  user_name: 'LowCardinality(Nullable(String))',
  process_name: 'LowCardinality(Nullable(String))',
  http_request_method: 'LowCardinality(Nullable(String))',
  http_response_status_code: 'Nullable(Int32)',
  url_original: 'Nullable(String) CODEC(ZSTD(1))',
  user_agent_original: 'LowCardinality(Nullable(String))',
  log_level: 'LowCardinality(Nullable(String))',
  tags: 'Array(LowCardinality(String))',
  message: 'Nullable(String) CODEC(ZSTD(1))',
  event_original: 'Nullable(String) CODEC(ZSTD(1))',
  search_text: 'Nullable(String) CODEC(ZSTD(1))',
  doc: 'String CODEC(ZSTD(1))',
};

/** The TTL clause that deletes events received more than `days` ago, in ClickHouse's own background merges. */
export function ttlClause(days: number): string {
  return `TTL toDateTime(ingested) + toIntervalDay(${Math.max(1, Math.floor(days))})`;
}

/** The days of the table's TTL, read back from its engine description; undefined when it has none. */
export function ttlDaysOf(engineFull: string): number | undefined {
  const match = /TTL toDateTime\(ingested\) \+ toIntervalDay\((\d+)\)/.exec(engineFull);
  return match ? Number(match[1]) : undefined;
}

/**
 * The events table in `database`.
 * - `PARTITION BY toDate(ts)`: a day per partition, so age and size retention drop whole days and a time-bounded
 *   search opens only its days' parts.
 * - `ORDER BY (ts, id)`, `PRIMARY KEY ts`: the sparse index answers time ranges; newest-first pages read the sort
 *   order backwards and stop at the limit (optimize_read_in_order); `id` breaks ties for the keyset cursor.
 * - bloom filters on `id` (the duplicate check of sender-chosen ids, `event.id:` lookups) and on the addresses, so a
 *   search for one IP reads only the granules that may hold it (a rare IP: 20 of 245 granules in a test of 2M rows).
 * - TTL on `ingested` when a maximum age is configured; `ttl_only_drop_parts` drops a part once all its rows have
 *   expired instead of rewriting parts row by row (enforceRetention deletes the stragglers exactly).
 * - `fsync_after_insert`: an acknowledged insert is on disk, not only in the page cache, as Vigil promises its senders.
 */
export function createTableSql(database: string, ttlDays: number | undefined): string {
  const columns = COLUMN_ORDER.map((name) => `    ${name} ${COLUMN_TYPES[name]}`).join(',\n');
  return `CREATE TABLE IF NOT EXISTS ${database}.events (
${columns},
    INDEX id_bloom id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX source_ip_bloom source_ip_num TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX destination_ip_bloom destination_ip_num TYPE bloom_filter(0.01) GRANULARITY 1
  )
  ENGINE = MergeTree
  PARTITION BY toDate(ts)
  PRIMARY KEY ts
  ORDER BY (ts, id)
  ${ttlDays !== undefined && ttlDays > 0 ? ttlClause(ttlDays) : ''}
  SETTINGS ttl_only_drop_parts = 1, fsync_after_insert = 1, fsync_part_directory = 1
  COMMENT 'Vigil events, schema ${SCHEMA_VERSION}'`;
}
