// The event store on ClickHouse: a server (the distributed mode) or chDB embedded in this process, through the same
// SQL. Writes go one at a time from this process (see append); reads run concurrently.
import { systemClock, type Clock } from '../../core/clock.js';
import { VigilError } from '../../core/errors.js';
import type { EcsEvent } from '../../core/event.js';
import { eventColumns, restoreDocument, uniqueRows, type EventColumns } from '../duckdb/rows.js';
import {
  DAY_MS,
  DEFAULT_SEARCH_LIMIT,
  DEFAULT_TOP_SIZE,
  MAX_SEARCH_LIMIT,
  MAX_SPLIT_VALUES,
  MAX_TOP_SIZE,
  Serial,
  clampInt,
  duplicatesOf,
  emptyHistogram,
  encodeCursor,
  histogramResult,
  planHistogram,
  splitHistogramResult,
  toNumber,
} from '../requests.js';
import { COLUMN_ORDER, DETACHED_STRINGS } from '../sql/columns.js';
import { QueryCompiler, msToMicros } from '../sql/compile.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  HistogramRequest,
  HistogramResult,
  RetentionPolicy,
  SearchRequest,
  SearchResult,
  StoreStats,
  TopRequest,
  TopResult,
} from '../types.js';
import { CLICKHOUSE_DIALECT, ChParams, compileFilter, topValueSql } from './compile.js';
import type { ClickHouseConnection } from './connection.js';
import { clampMicros, insertLines } from './rows.js';
import { createTableSql, ttlClause, ttlDaysOf } from './schema.js';

export interface ClickHouseStoreOptions {
  connection: ClickHouseConnection;
  /** The database holding the `events` table (created when missing); default `vigil`. */
  database?: string;
  /**
   * Events received more than this many days ago are deleted by ClickHouse itself (a TTL on `ingested`); 0 removes
   * the TTL; undefined leaves the table as it is. enforceRetention applies a policy exactly whatever the TTL.
   */
  ttlDays?: number;
  /** Files events whose `@timestamp` cannot be read at this clock's time. */
  clock?: Clock;
}

const DETACHED_COLUMNS = DETACHED_STRINGS.map((d) => d.column).join(', ');
/** Sender-chosen ids looked up per query: the ids travel as a URL parameter, which servers cap at 1 MiB by default. */
const IDS_PER_LOOKUP = 1000;
/** Rounds of deleting the oldest events before retention by size gives up until its next run. */
const SIZE_ROUNDS = 16;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Mutations (ALTER … DELETE) finish on every replica before the statement answers, so counts and sizes are final. */
const MUTATION_SETTINGS = 'SETTINGS mutations_sync = 2';

class ClickHouseStore implements EventStore {
  readonly engine = 'clickhouse';
  private readonly writes = new Serial();
  private readonly table: string;
  private closed = false;
  /** Queries under way, which close waits for (chDB must not lose its connection under a running query). */
  private reading = 0;

  constructor(
    private readonly conn: ClickHouseConnection,
    private readonly database: string,
    private readonly clock: Clock,
  ) {
    this.table = `${database}.events`;
  }

  private assertOpen(): void {
    if (this.closed) throw new VigilError('unavailable', 'the event store is closed');
  }

  private async query(sql: string, params?: ChParams): Promise<unknown[][]> {
    this.assertOpen();
    this.reading++;
    try {
      return await this.conn.query(sql, params?.values);
    } finally {
      this.reading--;
    }
  }

  /**
   * Stores a batch once the previous one is written. The lookup of sender-chosen ids and the insert that follows are
   * one step of this queue, so concurrent retries through this process cannot both get in; several processes
   * writing to one table could (see README "Running on several machines": one `store` process writes).
   */
  append(events: readonly EcsEvent[], options?: AppendOptions): Promise<AppendResult> {
    if (events.length === 0) return Promise.resolve({ stored: 0, duplicates: [] });
    this.assertOpen();
    const batch = eventColumns(events, this.clock.now(), options?.unique);
    // Serialised before taking its turn, so this batch's JSON is built while the previous insert is on the wire.
    const lines = insertLines(batch);
    return this.writes.run(async () => {
      this.assertOpen();
      const skip = await this.duplicateRows(batch);
      const kept = skip.size === 0 ? lines : lines.filter((_, row) => !skip.has(row));
      if (kept.length > 0) await this.conn.insert(this.table, COLUMN_ORDER, Buffer.from(`${kept.join('\n')}\n`, 'utf8'));
      return { stored: kept.length, duplicates: [...skip] };
    });
  }

  /** Rows of the batch's `unique` rows whose id is stored already or repeats an earlier row of the batch. */
  private async duplicateRows(batch: EventColumns): Promise<Set<number>> {
    const unique = uniqueRows(batch);
    if (!unique) return new Set();
    // The time span lets ClickHouse read only the parts and granules of those times: a retry carries the original
    // timestamps (clamped as they were stored).
    const stored = new Set<string>();
    for (let start = 0; start < unique.ids.length; start += IDS_PER_LOOKUP) {
      const params = new ChParams();
      const sql = `SELECT id FROM ${this.table}
        WHERE ts BETWEEN ${params.micros(clampMicros(unique.minTs))} AND ${params.micros(clampMicros(unique.maxTs))}
        AND id IN ${params.add('Array(String)', unique.ids.slice(start, start + IDS_PER_LOOKUP))}`;
      // On the connection itself: a close waits for this write, which must not be refused halfway.
      for (const row of await this.conn.query(sql, params.values)) stored.add(String(row[0]));
    }
    return duplicatesOf(unique, stored);
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    const limit = clampInt(request.limit, 0, MAX_SEARCH_LIMIT, DEFAULT_SEARCH_LIMIT);
    const params = new ChParams();
    const compiler = new QueryCompiler(CLICKHOUSE_DIALECT, params);
    const filter = compiler.filter(request);
    const pageFilter = request.cursor ? `${filter} AND ${compiler.after(request.cursor)}` : filter;
    // The page reads the sort order backwards and stops after limit + 1 rows; the total counts every match.
    const [totals, rows] = await Promise.all([
      this.query(`SELECT count() FROM ${this.table} WHERE ${filter}`, params),
      limit === 0
        ? Promise.resolve([])
        : this.query(
            `SELECT toString(toUnixTimestamp64Micro(ts)), id, doc, ${DETACHED_COLUMNS} FROM ${this.table}
             WHERE ${pageFilter} ORDER BY ts DESC, id DESC LIMIT ${limit + 1}`,
            params,
          ),
    ]);
    const shown = rows.slice(0, limit);
    const events = shown.map((row) => restoreDocument(String(row[2]), row.slice(3)));
    let next: string | null = null;
    if (rows.length > limit && shown.length > 0) {
      const last = shown[shown.length - 1]!;
      next = encodeCursor(BigInt(String(last[0])), String(last[1]));
    }
    return { total: toNumber(totals[0]?.[0]), events, next };
  }

  async histogram(request: HistogramRequest): Promise<HistogramResult> {
    let fromMs = request.from;
    let toMs = request.to;
    if (fromMs === undefined || toMs === undefined) {
      // Open ends take the matching data's first and last event.
      const params = new ChParams();
      const [row] = await this.query(
        `SELECT count(), toString(toUnixTimestamp64Milli(min(ts))), toString(toUnixTimestamp64Milli(max(ts)))
         FROM ${this.table} WHERE ${compileFilter(request, params)}`,
        params,
      );
      if (row === undefined || toNumber(row[0]) === 0) return emptyHistogram(request);
      fromMs ??= toNumber(row[1]);
      toMs ??= toNumber(row[2]) + 1;
    }
    const plan = planHistogram(request, fromMs, toMs);
    if (plan === undefined) return emptyHistogram(request);
    const params = new ChParams();
    const filter = compileFilter({ query: request.query, from: fromMs, to: toMs }, params);
    const start = params.int(msToMicros(plan.start, 'from'));
    const width = params.int(BigInt(plan.interval) * 1000n);
    const bucket = `intDiv(toUnixTimestamp64Micro(ts) - ${start}, ${width})`;
    if (request.by !== undefined) {
      // As DuckDB does it (duckdb/store.ts): one scan counting per bucket and value, then the top values over those.
      const value = topValueSql(request.by.field);
      if (value === undefined) throw new VigilError('bad_request', 'by must be an ECS field name such as event.dataset', { location: 'by' });
      const size = clampInt(request.by.size, 1, MAX_SPLIT_VALUES, 10);
      // An empty array's [1] is '' in ClickHouse, not NULL.
      const v = value.unnest ? `if(notEmpty(${value.values}), (${value.values})[1], NULL)` : value.values;
      const rows = await this.query(
        `WITH counts AS (SELECT ${bucket} AS b, ${v} AS v, count() AS n FROM ${this.table} WHERE ${filter} GROUP BY b, v)
         SELECT b, if(v IN (SELECT v FROM counts WHERE v IS NOT NULL GROUP BY v ORDER BY sum(n) DESC, v LIMIT ${size}), v, NULL) AS g, sum(n)
         FROM counts GROUP BY b, g`,
        params,
      );
      return splitHistogramResult(plan, request.by.field, rows);
    }
    const rows = await this.query(`SELECT ${bucket} AS b, count() FROM ${this.table} WHERE ${filter} GROUP BY b`, params);
    return histogramResult(plan, rows);
  }

  async top(request: TopRequest): Promise<TopResult> {
    const size = clampInt(request.size, 1, MAX_TOP_SIZE, DEFAULT_TOP_SIZE);
    const value = topValueSql(request.field);
    if (value === undefined) return { field: request.field, total: 0, values: [] };
    const params = new ChParams();
    const filter = compileFilter(request, params);
    // An array counts each event once per distinct value, as a terms aggregation does.
    const values = value.unnest ? `arrayJoin(arrayDistinct(${value.values}))` : value.values;
    const [totals, rows] = await Promise.all([
      this.query(`SELECT count() FROM ${this.table} WHERE ${filter} AND ${value.exists}`, params),
      this.query(
        `SELECT v, count() AS c FROM (SELECT ${values} AS v FROM ${this.table} WHERE ${filter})
         WHERE v IS NOT NULL GROUP BY v ORDER BY c DESC, v LIMIT ${size}`,
        params,
      ),
    ]);
    return {
      field: request.field,
      total: toNumber(totals[0]?.[0]),
      values: rows.map((row) => ({ value: String(row[0]), count: toNumber(row[1]) })),
    };
  }

  /** Runs as a write: nothing is appended meanwhile, and a close waits for it (it uses the connection directly). */
  enforceRetention(policy: RetentionPolicy, now: number): Promise<{ deleted: number }> {
    this.assertOpen();
    return this.writes.run(async () => {
      let deleted = 0;
      if (policy.maxAgeDays !== undefined && Number.isFinite(policy.maxAgeDays)) {
        deleted += await this.deleteReceivedBefore(msToMicros(now - policy.maxAgeDays * DAY_MS, 'now'));
      }
      if (policy.maxBytes !== undefined && Number.isFinite(policy.maxBytes)) deleted += await this.shrinkTo(policy.maxBytes);
      return { deleted };
    });
  }

  /** Deletes events received before `cutoff` (µs): days whose every event is older go whole, others row by row. */
  private async deleteReceivedBefore(cutoff: bigint): Promise<number> {
    const params = new ChParams();
    const before = params.micros(cutoff);
    const partitions = await this.conn.query(
      `SELECT _partition_id, count(), countIf(ingested < ${before}) AS old FROM ${this.table} GROUP BY _partition_id HAVING old > 0`,
      params.values,
    );
    let deleted = 0;
    for (const [partition, rows, old] of partitions) {
      const id = partitionParam(partition);
      if (toNumber(rows) === toNumber(old)) {
        await this.conn.command(`ALTER TABLE ${this.table} DROP PARTITION ID ${id.sql}`, id.params);
      } else {
        const p = new ChParams();
        const where = `ingested < ${p.micros(cutoff)}`;
        await this.conn.command(`ALTER TABLE ${this.table} DELETE IN PARTITION ID ${id.sql} WHERE ${where} ${MUTATION_SETTINGS}`, { ...id.params, ...p.values });
      }
      deleted += toNumber(old);
    }
    return deleted;
  }

  /**
   * Deletes the oldest events until the table is under `maxBytes`: whole days first (dropping a partition is
   * instant), then the oldest share of the oldest remaining day, measured again after each round because a
   * rewritten part does not shrink exactly in proportion to the rows it lost.
   */
  private async shrinkTo(maxBytes: number): Promise<number> {
    let deleted = 0;
    for (let round = 0; round < SIZE_ROUNDS; round++) {
      const partitions = await this.partitions();
      let used = partitions.reduce((sum, p) => sum + p.bytes, 0);
      if (used <= maxBytes || partitions.length === 0) break;
      let oldest = partitions.shift()!;
      while (used - oldest.bytes >= maxBytes && partitions.length > 0) {
        const id = partitionParam(oldest.id);
        await this.conn.command(`ALTER TABLE ${this.table} DROP PARTITION ID ${id.sql}`, id.params);
        deleted += oldest.rows;
        used -= oldest.bytes;
        oldest = partitions.shift()!;
      }
      if (used <= maxBytes) break;
      // The excess lies in the oldest day left: delete its oldest rows in proportion, a little more to converge.
      const share = (used - maxBytes) / oldest.bytes;
      const count = Math.min(oldest.rows, Math.max(1, Math.ceil(oldest.rows * share * 1.05)));
      const id = partitionParam(oldest.id);
      if (count === oldest.rows) {
        await this.conn.command(`ALTER TABLE ${this.table} DROP PARTITION ID ${id.sql}`, id.params);
        deleted += count;
        continue;
      }
      const [edge] = await this.conn.query(
        `SELECT toString(toUnixTimestamp64Micro(ts)), id FROM ${this.table} WHERE _partition_id = ${id.sql}
         ORDER BY ts, id LIMIT 1 OFFSET ${count - 1}`,
        id.params,
      );
      if (edge === undefined) break;
      const p = new ChParams();
      const ts = p.micros(BigInt(String(edge[0])));
      const where = `ts < ${ts} OR (ts = ${ts} AND id <= ${p.text(String(edge[1]))})`;
      await this.conn.command(`ALTER TABLE ${this.table} DELETE IN PARTITION ID ${id.sql} WHERE ${where} ${MUTATION_SETTINGS}`, { ...id.params, ...p.values });
      deleted += count;
    }
    return deleted;
  }

  /** The table's partitions (days), oldest first, with their rows and bytes on disk. */
  private async partitions(): Promise<{ id: string; rows: number; bytes: number }[]> {
    const rows = await this.conn.query(
      `SELECT partition_id, sum(rows), sum(bytes_on_disk) FROM system.parts
       WHERE database = {db:String} AND table = 'events' AND active GROUP BY partition_id ORDER BY partition_id`,
      { db: this.database },
    );
    return rows.map((row) => ({ id: String(row[0]), rows: toNumber(row[1]), bytes: toNumber(row[2]) }));
  }

  async stats(): Promise<StoreStats> {
    const [[count], [bytes]] = await Promise.all([
      this.query(`SELECT count() FROM ${this.table}`),
      this.query(`SELECT sum(bytes_on_disk) FROM system.parts WHERE database = {db:String} AND table = 'events' AND active`, dbParams(this.database)),
    ]);
    return { events: toNumber(count?.[0]), bytes: toNumber(bytes?.[0]) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The write and the queries under way finish; writes still queued are refused (unavailable), nothing new starts.
    await this.writes.run(async () => undefined);
    while (this.reading > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.conn.close();
  }
}

function dbParams(database: string): ChParams {
  const params = new ChParams();
  params.values['db'] = database;
  return params;
}

/**
 * A partition id from system.parts (`20240501`) as the literal ALTER … PARTITION ID takes. Ids are ClickHouse's
 * own (digits for a Date key); anything else is refused rather than quoted.
 */
function partitionParam(value: unknown): { sql: string; params: Record<string, string> } {
  const id = String(value);
  if (!/^[0-9A-Za-z_-]{1,64}$/.test(id)) throw new VigilError('internal', `unexpected ClickHouse partition id ${JSON.stringify(id)}`);
  return { sql: `'${id}'`, params: {} };
}

/** Opens the store on `connection`, creating its database and table when missing and aligning the TTL. */
export async function openClickHouseStore(options: ClickHouseStoreOptions): Promise<EventStore> {
  const database = options.database ?? 'vigil';
  if (!IDENTIFIER.test(database)) throw new VigilError('bad_config', `the ClickHouse database name ${JSON.stringify(database)} must be letters, digits and _`);
  const conn = options.connection;
  try {
    await conn.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
    await conn.command(createTableSql(database, options.ttlDays));
    if (options.ttlDays !== undefined) await alignTtl(conn, database, options.ttlDays);
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
  return new ClickHouseStore(conn, database, options.clock ?? systemClock);
}

/** Changes the table's TTL to `days` (0: none) when it differs, without rewriting existing parts. */
async function alignTtl(conn: ClickHouseConnection, database: string, days: number): Promise<void> {
  const [row] = await conn.query(`SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 'events'`, { db: database });
  const current = ttlDaysOf(String(row?.[0] ?? ''));
  const wanted = days > 0 ? Math.max(1, Math.floor(days)) : undefined;
  if (current === wanted) return;
  if (wanted === undefined) await conn.command(`ALTER TABLE ${database}.events REMOVE TTL`);
  else await conn.command(`ALTER TABLE ${database}.events MODIFY ${ttlClause(wanted)} SETTINGS materialize_ttl_after_modify = 0`);
}
