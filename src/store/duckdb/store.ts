// The embedded event store on DuckDB: one file (`events.duckdb`) with its write-ahead log, one connection that writes
// (writes are serialised) and a small pool that reads, each query seeing a committed snapshot (DuckDB's MVCC), and
// rollups (rollups.ts) that count what dashboards aggregate over long ranges.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIGINT,
  DuckDBInstance,
  DuckDBScalarFunction,
  LIST,
  TIMESTAMPTZ,
  UHUGEINT,
  listValue,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { systemClock, type Clock } from '../../core/clock.js';
import { VigilError, errorMessage } from '../../core/errors.js';
import type { EcsEvent } from '../../core/event.js';
import { parseIp } from '../../core/ip.js';
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
import {
  DAY_MS,
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
  type HistogramPlan,
} from '../requests.js';
import { COUNT_FIELD, histogramGrains, rollupEligible, rollupField, splitRange } from '../rollups.js';
import type { QueryNode } from '../query/ast.js';
import { SqlParams, compileQuery, cursorSql, msToMicros, timeBoundsSql, topValueSql } from './compile.js';
import { Rollups, addEventCounts, addedRows, appendRollup, batchRollup, countsSql, inTransaction } from './rollups.js';
import { appendColumns, eventColumns, restoreDocument, uniqueRows, withoutRows, type EventColumns } from './rows.js';
import { CONNECTION_SETUP, CREATE_SCHEMA, DETACHED_STRINGS } from './schema.js';

const DETACHED_COLUMNS = DETACHED_STRINGS.map((d) => d.column).join(', ');

export interface DuckDbStoreOptions {
  /** Directory of the database; created when missing. */
  dir: string;
  /** DuckDB `memory_limit`, e.g. `1GB` (default DEFAULT_MEMORY_LIMIT). */
  memoryLimit?: string;
  /** WAL size that triggers a checkpoint (DuckDB `wal_autocheckpoint`, default DEFAULT_WAL_CHECKPOINT). */
  walCheckpoint?: string;
  /** DuckDB worker threads (default: one per core). */
  threads?: number;
  /** Read connections (default 2): concurrent searches beyond this wait their turn. */
  readers?: number;
  /** Files events whose `@timestamp` cannot be read at this clock's time. */
  clock?: Clock;
  /**
   * Keep rollups (default true): per-bucket counts of a few fields that answer dashboard aggregates over long ranges
   * without reading every event (store/rollups.ts). Off, every aggregate reads the events.
   */
  rollups?: boolean;
  /** Rollup rows appended before a key's rows are summed into one (default ROLLUP_MERGE_ROWS). */
  rollupMergeRows?: number;
}

/** Rollup rows appended between merges: a merge then reads a few days' rows, tens of milliseconds. */
const ROLLUP_MERGE_ROWS = 100_000;

/** Retention compacts a table this small when deleting its oldest rows freed no space (a few row groups at most). */
const COMPACT_MAX_ROWS = 500_000;

/** A fixed set of read connections handed out one query at a time. */
class ReaderPool {
  private readonly idle: DuckDBConnection[] = [];
  private readonly waiting: ((connection: DuckDBConnection) => void)[] = [];
  private busy = 0;

  constructor(readonly connections: DuckDBConnection[]) {
    this.idle.push(...connections);
  }

  async use<T>(task: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = this.idle.pop() ?? (await new Promise<DuckDBConnection>((resolve) => this.waiting.push(resolve)));
    this.busy++;
    try {
      return await task(connection);
    } finally {
      this.busy--;
      const next = this.waiting.shift();
      if (next) next(connection);
      else this.idle.push(connection);
    }
  }

  get active(): number {
    return this.busy + this.waiting.length;
  }
}

/** `vigil_ip(text)`: an address as its 128-bit value (IPv4 mapped), for CIDR tests on fields outside the hot columns. */
function ipFunction(): DuckDBScalarFunction {
  return DuckDBScalarFunction.create({
    name: 'vigil_ip',
    returnType: UHUGEINT,
    parameterTypes: [VARCHAR],
    mainFunction: (_info, input, output) => {
      const column = input.getColumnVector(0);
      for (let i = 0; i < input.rowCount; i++) {
        const text = column.getItem(i);
        output.setItem(i, typeof text === 'string' ? (parseIp(text.trim()) ?? null) : null);
      }
      output.flush();
    },
  });
}

class DuckDbStore implements EventStore {
  readonly engine = 'duckdb';
  private readonly writes = new Serial();
  private closed = false;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly readers: ReaderPool,
    private readonly path: string,
    private readonly clock: Clock,
    private readonly rollups: Rollups,
  ) {}

  /**
   * Checks the rollups, or builds them from the events (a store from before rollups: a few seconds per 10M events),
   * as the writer's first task: appends wait for it, and queries read the events until it is done.
   */
  startRollups(enabled: boolean): void {
    const task = enabled
      ? () => this.rollups.open(this.writer)
      : // Appends will not count into the rollup: a later open with rollups must build it again.
        () => this.rollups.disable(this.writer);
    void this.writes.run(task).catch((err: unknown) => {
      console.warn(`vigil: the event store's rollups could not be ${enabled ? 'built' : 'set aside'} (${errorMessage(err)}); aggregates read every event`);
    });
  }

  /** Sums the rollup's unmerged rows, after the write under way. A failure leaves them to the next merge. */
  private mergeRollups(): void {
    void this.writes.run(() => this.rollups.merge(this.writer)).catch(() => undefined);
  }

  /** Deletes the events matching `where`, subtracting them from the rollups in the same transaction. */
  private async deleteEvents(where: string, params: SqlParams): Promise<number> {
    const sql = `DELETE FROM events WHERE ${where}`;
    if (!this.rollups.ready) return (await this.writer.run(sql, params.values, params.types)).rowsChanged;
    let merge = false;
    const deleted = await inTransaction(this.writer, async () => {
      const added = await addEventCounts(this.writer, where, params, -1);
      const result = await this.writer.run(sql, params.values, params.types);
      merge = this.rollups.added(added);
      return result.rowsChanged;
    });
    if (merge) this.mergeRollups();
    return deleted;
  }

  /**
   * UNION ALL branches counting `field` over `bounds` from the rollup's whole buckets and the events at the edges
   * (see rollups.ts countsSql), or undefined when the request must read the events: a query filters them, the field
   * has no rollup, no grain fits the histogram's buckets, or the range holds no whole bucket.
   */
  private rollupCounts(
    query: QueryNode,
    field: string,
    bounds: { from?: number; to?: number },
    params: SqlParams,
    histogram?: { plan: HistogramPlan; start: string; width: string },
  ): string | undefined {
    if (!this.rollups.ready || !rollupEligible(query)) return undefined;
    const rolled = rollupField(field);
    if (rolled === undefined) return undefined;
    const grains = histogram ? histogramGrains(rolled, histogram.plan) : rolled.grains;
    const range = splitRange(bounds, grains);
    if (range.rollups.length === 0) return undefined;
    return countsSql(rolled, range, params, histogram).join(' UNION ALL ');
  }

  private assertOpen(): void {
    if (this.closed) throw new VigilError('unavailable', 'the event store is closed');
  }

  private async read(sql: string, params: SqlParams): Promise<unknown[][]> {
    this.assertOpen();
    return this.readers.use(async (connection) => {
      const reader = await connection.runAndReadAll(sql, params.values, params.types);
      return reader.getRowsJS() as unknown[][];
    });
  }

  append(events: readonly EcsEvent[], options?: AppendOptions): Promise<AppendResult> {
    if (events.length === 0) return Promise.resolve({ stored: 0, duplicates: [] });
    return this.appendPrepared(eventColumns(events, this.clock.now(), options?.unique));
  }

  /** Appends a batch prepared by eventColumns (possibly in another thread); durable when it resolves. */
  appendPrepared(prepared: EventColumns): Promise<AppendResult> {
    this.assertOpen();
    if (prepared.count === 0) return Promise.resolve({ stored: 0, duplicates: [] });
    return this.writes.run(async () => {
      this.assertOpen();
      // Inside the single writer's turn: nothing can be written between looking for an id and writing it.
      const skip = await this.duplicateRows(prepared);
      const batch = withoutRows(prepared, skip);
      if (batch.count === 0) return { stored: 0, duplicates: [...skip] };
      if (!this.rollups.ready) {
        await this.appendEvents(batch);
        return { stored: batch.count, duplicates: [...skip] };
      }
      // The batch's counts go into the rollup in the transaction that appends its events: both or neither.
      const rollup = batchRollup(batch);
      try {
        await inTransaction(this.writer, async () => {
          await this.appendEvents(batch);
          await appendRollup(this.writer, rollup);
        });
      } catch (err) {
        throw err instanceof VigilError ? err : new VigilError('unavailable', `could not write events: ${errorMessage(err)}`, { cause: err });
      }
      if (this.rollups.added(addedRows(rollup))) this.mergeRollups();
      return { stored: batch.count, duplicates: [...skip] };
    });
  }

  /** Appends a batch's rows through one appender flush (durable when it returns, unless inside a transaction). */
  private async appendEvents(batch: EventColumns): Promise<void> {
    const appender = await this.writer.createAppender('events');
    try {
      appendColumns(appender, batch);
      // One flush per call: the rows are committed (in the WAL) when it returns, all of them or none (or, inside a
      // transaction, at its commit).
      appender.flushSync();
    } catch (err) {
      try {
        appender.clear();
        appender.closeSync();
      } catch {
        // The appender is already broken; the error that broke it is the one to report.
      }
      throw new VigilError('unavailable', `could not write events: ${errorMessage(err)}`, { cause: err });
    }
    appender.closeSync();
  }

  /** Rows of the batch's `unique` rows whose id is stored already or repeats an earlier row of the batch. */
  private async duplicateRows(batch: EventColumns): Promise<Set<number>> {
    const unique = uniqueRows(batch);
    if (!unique) return new Set();
    // The time span lets DuckDB skip row groups by their min/max `ts`: a retry carries the original timestamps.
    const params = new SqlParams();
    const sql = `SELECT id FROM events WHERE ts BETWEEN ${params.micros(unique.minTs)} AND ${params.micros(unique.maxTs)}
      AND id IN (SELECT unnest(${params.add(listValue(unique.ids), LIST(VARCHAR))}))`;
    const reader = await this.writer.runAndReadAll(sql, params.values, params.types);
    return duplicatesOf(unique, new Set((reader.getRowsJS() as unknown[][]).map((row) => row[0] as string)));
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    const limit = clampInt(request.limit, 0, MAX_SEARCH_LIMIT, 100);
    const filterSql = (params: SqlParams) => `${compileQuery(request.query, params)} AND ${timeBoundsSql(request, params)}`;
    const pageParams = new SqlParams();
    let pageFilter = filterSql(pageParams);
    if (request.cursor) pageFilter = `${pageFilter} AND ${cursorSql(request.cursor, pageParams)}`;
    const totalParams = new SqlParams();
    const totalSql = `SELECT count(*) FROM events WHERE ${filterSql(totalParams)}`;
    // The page reads its documents in the same scan that filters (DuckDB fetches them only for vectors with a match).
    // Picking rowids first and fetching them afterwards was 2.5x faster for a frequent IP but 3.6x slower for a rare
    // one and 4x slower for a rare word at 10M events, when the page's rows lie spread over the whole table. The page
    // and the exact total are two queries in one read transaction (one snapshot): 20% faster than one query joining
    // both as subqueries (bench/search.ts, 10M events).
    const pageSql = `SELECT epoch_us(ts), id, doc, ${DETACHED_COLUMNS} FROM events WHERE ${pageFilter}
      ORDER BY ts DESC, id DESC LIMIT ${limit === 0 ? 0 : limit + 1}`;
    this.assertOpen();
    const [total, rows] = await this.readers.use(async (connection) => {
      await connection.run('BEGIN TRANSACTION');
      try {
        const page = (await connection.runAndReadAll(pageSql, pageParams.values, pageParams.types)).getRowsJS() as unknown[][];
        const [count] = (await connection.runAndReadAll(totalSql, totalParams.values, totalParams.types)).getRowsJS() as unknown[][];
        return [toNumber(count?.[0]), page] as const;
      } finally {
        // Read only: ending it either way is the same, and a rollback also ends a transaction a failed query aborted.
        await connection.run('ROLLBACK').catch(() => undefined);
      }
    });
    const shown = rows.slice(0, limit);
    const events = shown.map((row) => restoreDocument(String(row[2]), row.slice(3)));
    let next: string | null = null;
    if (rows.length > limit && shown.length > 0) {
      const last = shown[shown.length - 1]!;
      next = encodeCursor(BigInt(last[0] as bigint), String(last[1]));
    }
    return { total, events, next };
  }

  async histogram(request: HistogramRequest): Promise<HistogramResult> {
    let fromMs = request.from;
    let toMs = request.to;
    if (fromMs === undefined || toMs === undefined) {
      // Open ends take the matching data's first and last event.
      const params = new SqlParams();
      const filter = `${compileQuery(request.query, params)} AND ${timeBoundsSql(request, params)}`;
      const [row] = await this.read(`SELECT epoch_ms(min(ts)), epoch_ms(max(ts)) FROM events WHERE ${filter}`, params);
      if (row === undefined || row[0] === null || row[1] === null) return emptyHistogram(request);
      fromMs ??= toNumber(row[0]);
      toMs ??= toNumber(row[1]) + 1;
    }
    const plan = planHistogram(request, fromMs, toMs);
    if (plan === undefined) return emptyHistogram(request);
    const params = new SqlParams();
    const startParam = params.add(msToMicros(plan.start, 'from'), BIGINT);
    const widthParam = params.add(BigInt(plan.interval) * 1000n, BIGINT);
    const bounds = { from: fromMs, to: toMs };
    const histogram = { plan, start: startParam, width: widthParam };
    if (request.by !== undefined) {
      // Rows of (bucket, value, count): from the rollup where it fits, else from the events.
      const value = topValueSql(request.by.field);
      if (value === undefined) throw new VigilError('bad_request', 'by must be an ECS field name such as event.dataset', { location: 'by' });
      const v = value.unnest ? `(${value.values})[1]` : value.values;
      const counts =
        this.rollupCounts(request.query, request.by.field, bounds, params, histogram) ??
        `SELECT (epoch_us(ts) - ${startParam}) // ${widthParam} AS b, ${v} AS v, count(*) AS n
          FROM events WHERE ${compileQuery(request.query, params)} AND ${timeBoundsSql(bounds, params)} GROUP BY b, v`;
      return this.splitHistogram(request.by, counts, params, plan);
    }
    const rolled = this.rollupCounts(request.query, COUNT_FIELD, bounds, params, histogram);
    const sql =
      rolled !== undefined
        ? `SELECT b, sum(n) FROM (${rolled}) GROUP BY b`
        : `SELECT (epoch_us(ts) - ${startParam}) // ${widthParam} AS b, count(*) FROM events
          WHERE ${compileQuery(request.query, params)} AND ${timeBoundsSql(bounds, params)} GROUP BY b`;
    return histogramResult(plan, await this.read(sql, params));
  }

  /**
   * The histogram split by a field's most frequent values, in one scan: rows are counted per bucket and value, and the
   * values are ranked and folded into "other" over those counts (far fewer rows than events). Ranking in a first scan
   * and counting in a second took 3x as long over 30 days of 10M events (1.7 s against 0.55 s, median of 5).
   */
  private async splitHistogram(by: { field: string; size: number }, counts: string, params: SqlParams, plan: HistogramPlan): Promise<HistogramResult> {
    const size = clampInt(by.size, 1, MAX_SPLIT_VALUES, 10);
    // `counts` may hold several rows per bucket and value (rollup rows and events), and values whose deleted events
    // left a count of 0 in the rollup: they are summed, and a value needs events to rank.
    const rows = await this.read(
      `WITH counts AS MATERIALIZED (SELECT b, v, sum(n) AS n FROM (${counts}) GROUP BY b, v),
        top AS (SELECT v FROM counts WHERE v IS NOT NULL GROUP BY v HAVING sum(n) > 0 ORDER BY sum(n) DESC, v LIMIT ${size})
      SELECT b, CASE WHEN v IN (SELECT v FROM top) THEN v END AS g, sum(n) FROM counts GROUP BY b, g`,
      params,
    );
    return splitHistogramResult(plan, by.field, rows);
  }

  async top(request: TopRequest): Promise<TopResult> {
    const size = clampInt(request.size, 1, MAX_TOP_SIZE, 10);
    const value = topValueSql(request.field);
    if (value === undefined) return { field: request.field, total: 0, values: [] };
    const params = new SqlParams();
    const rolled = value.existsWhenValue === true ? this.rollupCounts(request.query, request.field, request, params) : undefined;
    if (rolled !== undefined) {
      // Summed per value over the rollup's rows and the edges' events; a value whose events were all deleted is not one.
      const rows = await this.read(
        `SELECT v, c, sum(c) OVER () AS n FROM (SELECT v, sum(n) AS c FROM (${rolled}) WHERE v IS NOT NULL GROUP BY v HAVING sum(n) > 0)
        ORDER BY c DESC, v LIMIT ${size}`,
        params,
      );
      return { field: request.field, total: rows.length > 0 ? toNumber(rows[0]![2]) : 0, values: rows.map((row) => ({ value: String(row[0]), count: toNumber(row[1]) })) };
    }
    const filter = `${compileQuery(request.query, params)} AND ${timeBoundsSql(request, params)}`;
    if (value.existsWhenValue === true) {
      // One scan: the values' counts, and their sum over every value (a window over the groups, not the events) is
      // the number of events with the field. Half the time of counting them in a second scan at 10M events.
      const rows = await this.read(
        `SELECT v, c, sum(c) OVER () AS n FROM (SELECT ${value.values} AS v, count(*) AS c FROM events WHERE ${filter} AND ${value.exists} GROUP BY v)
        ORDER BY c DESC, v LIMIT ${size}`,
        params,
      );
      return { field: request.field, total: rows.length > 0 ? toNumber(rows[0]![2]) : 0, values: rows.map((row) => ({ value: String(row[0]), count: toNumber(row[1]) })) };
    }
    // An array counts each event once per distinct value, as a terms aggregation does.
    const values = value.unnest ? `unnest(list_distinct(${value.values}))` : value.values;
    const sql = `WITH agg AS (
        SELECT v, count(*) AS c FROM (SELECT ${values} AS v FROM events WHERE ${filter}) WHERE v IS NOT NULL
        GROUP BY v ORDER BY c DESC, v LIMIT ${size}
      ), total AS (SELECT count(*) AS n FROM events WHERE ${filter} AND ${value.exists})
      SELECT total.n, agg.v, agg.c FROM total LEFT JOIN agg ON TRUE ORDER BY agg.c DESC, agg.v`;
    const rows = await this.read(sql, params);
    const total = rows.length > 0 ? toNumber(rows[0]![0]) : 0;
    return {
      field: request.field,
      total,
      values: rows.filter((row) => row[1] !== null).map((row) => ({ value: String(row[1]), count: toNumber(row[2]) })),
    };
  }

  enforceRetention(policy: RetentionPolicy, now: number): Promise<{ deleted: number }> {
    this.assertOpen();
    return this.writes.run(async () => {
      let deleted = 0;
      if (policy.maxAgeDays !== undefined && Number.isFinite(policy.maxAgeDays)) {
        const params = new SqlParams();
        const cutoff = params.micros(msToMicros(now - policy.maxAgeDays * DAY_MS, 'now'));
        deleted += await this.deleteEvents(`ingested < ${cutoff}`, params);
      }
      if (policy.maxBytes !== undefined && Number.isFinite(policy.maxBytes)) {
        deleted += await this.shrinkTo(policy.maxBytes);
      } else if (deleted > 0) {
        await this.writer.run('CHECKPOINT');
      }
      return { deleted };
    });
  }

  /**
   * Deletes the oldest events until the database is under `maxBytes`. DuckDB frees space a row group (122,880 rows)
   * at a time at CHECKPOINT, so each round deletes the excess share of rows, checkpoints and measures again.
   * When a round frees too little because its deletes only thinned row groups, a small table (a few row groups) is
   * compacted (rewritten in place) rather than losing ever more events until a whole row group empties; a large
   * one just takes another round, which overshoots by at most about one row group.
   */
  private async shrinkTo(maxBytes: number): Promise<number> {
    let deleted = 0;
    await this.writer.run('CHECKPOINT');
    for (let round = 0; round < 16; round++) {
      const used = await this.usedBytes();
      if (used <= maxBytes) break;
      const count = await this.countEvents(this.writer);
      if (count === 0) break;
      const batch = Math.min(count, Math.max(1, Math.ceil(((count * (used - maxBytes)) / used) * 1.05)));
      const [edge] = (await this.writer.runAndReadAll(`SELECT ts, id FROM events ORDER BY ts, id LIMIT 1 OFFSET ${batch - 1}`)).getRows();
      if (edge === undefined) break;
      const params = new SqlParams();
      const ts = params.add(edge[0] as DuckDBValue, TIMESTAMPTZ);
      const removed = await this.deleteEvents(`ts < ${ts} OR (ts = ${ts} AND id <= ${params.text(String(edge[1]))})`, params);
      deleted += removed;
      await this.writer.run('CHECKPOINT');
      const freed = used - (await this.usedBytes());
      if (freed < (used - maxBytes) / 2 && count - removed <= COMPACT_MAX_ROWS) await this.compact();
    }
    return deleted;
  }

  /** Rewrites the live rows so partly deleted row groups are dropped whole at the next CHECKPOINT. */
  private async compact(): Promise<void> {
    await this.writer.run('BEGIN TRANSACTION');
    try {
      await this.writer.run('CREATE OR REPLACE TEMP TABLE vigil_compact AS SELECT * FROM events');
      await this.writer.run('DELETE FROM events');
      await this.writer.run('INSERT INTO events SELECT * FROM vigil_compact ORDER BY ts, id');
      await this.writer.run('DROP TABLE vigil_compact');
      await this.writer.run('COMMIT');
    } catch (err) {
      await this.writer.run('ROLLBACK');
      throw err;
    }
    await this.writer.run('CHECKPOINT');
  }

  private async countEvents(connection: DuckDBConnection): Promise<number> {
    return toNumber((await connection.runAndReadAll('SELECT count(*) FROM events')).getRowsJS()[0]?.[0]);
  }

  private async usedBytes(): Promise<number> {
    const rows = (
      await this.writer.runAndReadAll(
        `SELECT block_size, used_blocks FROM pragma_database_size() WHERE database_name = current_database()`,
      )
    ).getRowsJS();
    const [blockSize, usedBlocks] = rows[0] ?? [0, 0];
    let wal = 0;
    try {
      wal = statSync(`${this.path}.wal`).size;
    } catch {
      // No WAL file: everything is checkpointed.
    }
    return toNumber(blockSize) * toNumber(usedBlocks) + wal;
  }

  async stats(): Promise<StoreStats> {
    this.assertOpen();
    const events = await this.readers.use((connection) => this.countEvents(connection));
    const bytes = await this.writes.run(() => this.usedBytes());
    const memory = await this.readers.use(async (connection) => toNumber((await connection.runAndReadAll('SELECT sum(memory_usage_bytes) FROM duckdb_memory()')).getRowsJS()[0]?.[0]));
    return { events, bytes, memoryBytes: memory };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.run(async () => {
      while (this.readers.active > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      try {
        await this.writer.run('CHECKPOINT');
      } finally {
        for (const connection of this.readers.connections) connection.closeSync();
        this.writer.closeSync();
        this.instance.closeSync();
      }
    });
  }
}

/**
 * DuckDB checkpoints (compresses the new rows into the database file) when the WAL reaches this size. Its default of
 * 16 MB checkpoints every ~12k log events, each time recompressing the same partly filled row group (122,880 rows):
 * 256 MB stored 1.5x faster (bench/pipeline.ts), costs as much memory at most, and replays in under a second after a
 * crash (a 249 MB WAL of 190k nginx events reopened in 0.8 s).
 */
const DEFAULT_WAL_CHECKPOINT = '256MB';

/**
 * DuckDB's buffer pool (its cache of the table's blocks, and the rows not yet checkpointed). DuckDB's own default is
 * 80% of the machine's memory, so a long-running Vigil grew with its store until then — past 1.3 GB after 10 minutes
 * at 5,000 events/s (bench/soak.ts). Blocks it lets go stay in the operating system's page cache, so searches over a
 * 10M-event store keep their speed; `store.memory_limit` raises it.
 */
export const DEFAULT_MEMORY_LIMIT = '512MB';

export async function openDuckDbStore(options: DuckDbStoreOptions): Promise<EventStore> {
  mkdirSync(options.dir, { recursive: true });
  const path = join(options.dir, 'events.duckdb');
  const config: Record<string, string> = {};
  config['memory_limit'] = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  if (options.threads !== undefined) config['threads'] = String(options.threads);
  config['wal_autocheckpoint'] = options.walCheckpoint ?? DEFAULT_WAL_CHECKPOINT;
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, config);
  } catch (err) {
    throw new VigilError('unavailable', `cannot open the event store ${path}: ${errorMessage(err)}`, { cause: err, location: path });
  }
  const writer = await instance.connect();
  for (const sql of CREATE_SCHEMA) await writer.run(sql);
  for (const sql of CONNECTION_SETUP) await writer.run(sql);
  writer.registerScalarFunction(ipFunction());
  const readers: DuckDBConnection[] = [];
  for (let i = 0; i < Math.max(1, options.readers ?? 2); i++) {
    const connection = await instance.connect();
    for (const sql of CONNECTION_SETUP) await connection.run(sql);
    readers.push(connection);
  }
  const store = new DuckDbStore(instance, writer, new ReaderPool(readers), path, options.clock ?? systemClock, new Rollups(options.rollupMergeRows ?? ROLLUP_MERGE_ROWS));
  store.startRollups(options.rollups !== false);
  return store;
}
