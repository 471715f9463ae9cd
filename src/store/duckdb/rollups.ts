// The DuckDB rollup table (store/rollups.ts): event counts per grain, bucket, field and value. Counts are appended in
// the transaction that appends their events and subtracted in the one that deletes events, so a reader's snapshot
// always sees rollups and events agree; the rows a key gathers over many batches are summed now and then.
import { BIGINT, DuckDBDataChunk, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { DAY_MS, toNumber } from '../requests.js';
import { ROLLUP_FIELDS, ROLLUP_VERSION, bucketStart, type RangePlan, type RollupField } from '../rollups.js';
import { hotColumn } from '../sql/columns.js';
import { SqlParams, timeBoundsSql } from './compile.js';
import type { EventColumns } from './rows.js';
import { COLUMN_ORDER } from './schema.js';

export const ROLLUP_TABLE = 'vigil_rollup';
/** The vigil_meta key holding the ROLLUP_VERSION the table was built as. */
const META_KEY = 'rollup_version';

const CREATE_TABLE = `CREATE TABLE ${ROLLUP_TABLE} (
    grain INTEGER NOT NULL,  -- bucket width, ms
    bucket BIGINT NOT NULL,  -- bucket start, ms since the epoch (a multiple of grain)
    field VARCHAR NOT NULL,  -- ECS field name
    value VARCHAR,           -- the field's value; NULL counts the events without it
    n BIGINT NOT NULL        -- events; a key may have several rows until they are merged, and negative ones for deletions
  )`;

const TS_COLUMN = COLUMN_ORDER.indexOf('ts');

function columnOf(field: RollupField): string {
  const hot = hotColumn(field.field);
  if (hot === undefined || (hot.kind !== 'keyword' && hot.kind !== 'ip')) throw new Error(`rollup field ${field.field} needs a plain string column`);
  return hot.column;
}

function columnIndex(field: RollupField): number {
  return COLUMN_ORDER.indexOf(columnOf(field) as (typeof COLUMN_ORDER)[number]);
}

/** The bucket start (ms) of a `ts` in µs: integer arithmetic, exact over DuckDB's whole timestamp range. */
function bucketOfMicros(micros: bigint, grain: number): number {
  const us = Number(micros);
  const width = grain * 1000;
  if (Number.isSafeInteger(us)) return (us - (((us % width) + width) % width)) / 1000;
  const w = BigInt(width);
  return Number((micros - (((micros % w) + w) % w)) / 1000n);
}

/** The same in SQL, over the `ts` column. */
function bucketSql(grain: number): string {
  const width = grain * 1000;
  return `(epoch_us(ts) - (((epoch_us(ts) % ${width}) + ${width}) % ${width})) // 1000`;
}

/** A batch's counts as table columns. */
export interface RollupRows {
  count: number;
  grain: number[];
  bucket: bigint[];
  field: string[];
  value: (string | null)[];
  n: bigint[];
}

/**
 * The counts of a batch about to be appended: per field, its events per finest bucket and value, then each coarser
 * grain summed from those (few) counts rather than from the events again.
 */
export function batchRollup(batch: EventColumns): RollupRows {
  const rows: RollupRows = { count: 0, grain: [], bucket: [], field: [], value: [], n: [] };
  const ts = batch.columns[TS_COLUMN]!;
  const bucketsByGrain = new Map<number, number[]>();
  for (const f of ROLLUP_FIELDS) {
    const grain = f.grains[0]!;
    if (bucketsByGrain.has(grain)) continue;
    const buckets = new Array<number>(batch.count);
    for (let row = 0; row < batch.count; row++) buckets[row] = bucketOfMicros(ts[row] as bigint, grain);
    bucketsByGrain.set(grain, buckets);
  }
  for (const f of ROLLUP_FIELDS) {
    const values = batch.columns[columnIndex(f)]!;
    const buckets = bucketsByGrain.get(f.grains[0]!)!;
    let counts = new Map<number, Map<string | null, number>>();
    for (let row = 0; row < batch.count; row++) {
      const bucket = buckets[row]!;
      let perValue = counts.get(bucket);
      if (perValue === undefined) counts.set(bucket, (perValue = new Map()));
      const value = values[row] as string | null;
      perValue.set(value, (perValue.get(value) ?? 0) + 1);
    }
    f.grains.forEach((grain, g) => {
      if (g > 0) {
        const coarser = new Map<number, Map<string | null, number>>();
        for (const [bucket, perValue] of counts) {
          const start = bucketStart(bucket, grain);
          let into = coarser.get(start);
          if (into === undefined) coarser.set(start, (into = new Map()));
          for (const [value, n] of perValue) into.set(value, (into.get(value) ?? 0) + n);
        }
        counts = coarser;
      }
      for (const [bucket, perValue] of counts) {
        for (const [value, n] of perValue) {
          rows.grain.push(grain);
          rows.bucket.push(BigInt(bucket));
          rows.field.push(f.field);
          rows.value.push(value);
          rows.n.push(BigInt(n));
        }
      }
    });
  }
  rows.count = rows.grain.length;
  return rows;
}

const ROW_TYPES = [INTEGER, BIGINT, VARCHAR, VARCHAR, BIGINT];
const CHUNK_ROWS = 2048;

/** Appends a batch's counts on `connection` (inside the transaction that appends its events). */
export async function appendRollup(connection: DuckDBConnection, rows: RollupRows): Promise<void> {
  if (rows.count === 0) return;
  const appender = await connection.createAppender(ROLLUP_TABLE);
  try {
    const columns: readonly (readonly DuckDBValue[])[] = [rows.grain, rows.bucket, rows.field, rows.value, rows.n];
    for (let start = 0; start < rows.count; start += CHUNK_ROWS) {
      const size = Math.min(CHUNK_ROWS, rows.count - start);
      const chunk = DuckDBDataChunk.create(ROW_TYPES, size);
      columns.forEach((values, c) => chunk.setColumnValues(c, size === rows.count ? values : values.slice(start, start + size)));
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/**
 * Adds to the rollup the counts of the stored events matching `where` (bound by `params`), negated with sign -1 for
 * events about to be deleted. Runs inside the caller's transaction, before the delete. Answers the rows added and
 * the span of their buckets (ms).
 */
export async function addEventCounts(connection: DuckDBConnection, where: string, params: SqlParams, sign: 1 | -1): Promise<AddedRows> {
  const finest = ROLLUP_FIELDS.map(
    (f) => `SELECT ${f.grains[0]!} AS grain, ${bucketSql(f.grains[0]!)} AS bucket, '${f.field}' AS field, ${columnOf(f)} AS value, count(*) AS n
      FROM events WHERE (${where}) GROUP BY ALL`,
  ).join(' UNION ALL ');
  await connection.run(`CREATE OR REPLACE TEMP TABLE vigil_rollup_delta AS ${finest}`, params.values, params.types);
  for (const f of ROLLUP_FIELDS) {
    for (let g = 1; g < f.grains.length; g++) {
      const grain = f.grains[g]!;
      await connection.run(`INSERT INTO vigil_rollup_delta
        SELECT ${grain}, bucket - (((bucket % ${grain}) + ${grain}) % ${grain}) AS b, field, value, sum(n)::BIGINT
        FROM vigil_rollup_delta WHERE field = '${f.field}' AND grain = ${f.grains[g - 1]!} GROUP BY b, field, value`);
    }
  }
  const [span] = (await connection.runAndReadAll('SELECT count(*), min(bucket), max(bucket) FROM vigil_rollup_delta')).getRowsJS();
  await connection.run(
    `INSERT INTO ${ROLLUP_TABLE} SELECT grain, bucket, field, value, ${sign < 0 ? '-n' : 'n'} FROM vigil_rollup_delta ORDER BY field, grain, bucket`,
  );
  await connection.run('DROP TABLE vigil_rollup_delta');
  return { rows: toNumber(span?.[0]), min: toNumber(span?.[1]), max: toNumber(span?.[2]) };
}

/** Rows added to the rollup and the span of their buckets (ms since the epoch). */
export interface AddedRows {
  rows: number;
  min: number;
  max: number;
}

/** What appendRollup adds for `rows`. */
export function addedRows(rows: RollupRows): AddedRows {
  let min = Infinity;
  let max = -Infinity;
  for (const b of rows.bucket) {
    const ms = Number(b);
    if (ms < min) min = ms;
    if (ms > max) max = ms;
  }
  return { rows: rows.count, min, max };
}

/** Runs `task` in a transaction on `connection`: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(connection: DuckDBConnection, task: () => Promise<T>): Promise<T> {
  await connection.run('BEGIN TRANSACTION');
  let result: T;
  try {
    result = await task();
  } catch (err) {
    await connection.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
  await connection.run('COMMIT');
  return result;
}

/**
 * Branches of a UNION ALL giving rows (v, n), or (b, v, n) with `histogram` (b: the bucket index of a histogram whose
 * first bucket starts at the µs parameter `start`, `width` µs wide): the field's counts over the whole buckets of the
 * plan from the rollup, and over its edges from the events. Empty when the plan covers nothing.
 */
export function countsSql(field: RollupField, plan: RangePlan, params: SqlParams, histogram?: { start: string; width: string }): string[] {
  const column = columnOf(field);
  const branches: string[] = [];
  for (const span of plan.rollups) {
    const bounds = [`field = ${params.text(field.field)}`, `grain = ${params.int(BigInt(span.grain))}`];
    if (span.from !== undefined) bounds.push(`bucket >= ${params.int(BigInt(span.from))}`);
    if (span.to !== undefined) bounds.push(`bucket < ${params.int(BigInt(span.to))}`);
    const b = histogram ? `(bucket * 1000 - ${histogram.start}) // ${histogram.width} AS b, ` : '';
    branches.push(`SELECT ${b}value AS v, n FROM ${ROLLUP_TABLE} WHERE ${bounds.join(' AND ')}`);
  }
  for (const edge of plan.raw) {
    const b = histogram ? `(epoch_us(ts) - ${histogram.start}) // ${histogram.width} AS b, ` : '';
    branches.push(`SELECT ${b}${column} AS v, count(*) AS n FROM events WHERE ${timeBoundsSql(edge, params)} GROUP BY ALL`);
  }
  return branches;
}

/**
 * The rollup's state in one store: whether queries may read it, and which days have rows not merged yet. Every method
 * that writes runs in the store's single writer's turn.
 */
export class Rollups {
  /** Built and kept in step with the events: queries may read it. */
  ready = false;
  /** Rows appended since the last merge, and the days (ms) they fall in; undefined ends: every day. */
  private unmerged = 0;
  private dirty: { from?: number; to?: number } | undefined;

  constructor(private readonly mergeRows: number) {}

  /**
   * Makes the rollup ready: kept from the last run when it is of this version and counts as many events as the table
   * holds (a version without rollups may have written events meanwhile), built from the events otherwise.
   */
  async open(connection: DuckDBConnection): Promise<void> {
    const [version] = (await connection.runAndReadAll(`SELECT value FROM vigil_meta WHERE key = '${META_KEY}'`)).getRowsJS();
    if (version?.[0] === ROLLUP_VERSION && (await this.inStep(connection))) {
      // Rows a crash or a stop left unmerged may lie on any day.
      this.dirty = {};
      this.ready = true;
      return;
    }
    await inTransaction(connection, async () => {
      await connection.run(`DROP TABLE IF EXISTS ${ROLLUP_TABLE}`);
      await connection.run(CREATE_TABLE);
      await addEventCounts(connection, 'TRUE', new SqlParams(), 1);
      await connection.run(`INSERT INTO vigil_meta VALUES ('${META_KEY}', '${ROLLUP_VERSION}') ON CONFLICT DO UPDATE SET value = excluded.value`);
    });
    this.ready = true;
  }

  /** For a store opened without rollups: its appends will not count, so a later open builds the rollup again. */
  async disable(connection: DuckDBConnection): Promise<void> {
    this.ready = false;
    await connection.run(`DELETE FROM vigil_meta WHERE key = '${META_KEY}'`);
  }

  /** Whether the rollup counts as many events as the table holds (false when it is missing). */
  private async inStep(connection: DuckDBConnection): Promise<boolean> {
    const [table] = (await connection.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE table_name = '${ROLLUP_TABLE}' AND NOT temporary`)).getRowsJS();
    if (toNumber(table?.[0]) === 0) return false;
    const [row] = (
      await connection.runAndReadAll(
        `SELECT (SELECT count(*) FROM events), (SELECT coalesce(sum(n), 0) FROM ${ROLLUP_TABLE} WHERE field = '${ROLLUP_FIELDS[0]!.field}' AND grain = ${ROLLUP_FIELDS[0]!.grains[0]!})`,
      )
    ).getRowsJS();
    return row !== undefined && toNumber(row[0]) === toNumber(row[1]);
  }

  /** Notes rows added by an append or a deletion; answers whether a merge is due. */
  added(rows: AddedRows): boolean {
    if (rows.rows === 0) return false;
    this.unmerged += rows.rows;
    if (this.dirty === undefined) this.dirty = { from: bucketStart(rows.min, DAY_MS), to: bucketStart(rows.max, DAY_MS) + DAY_MS };
    else if (this.dirty.from !== undefined && this.dirty.to !== undefined) {
      this.dirty = { from: Math.min(this.dirty.from, bucketStart(rows.min, DAY_MS)), to: Math.max(this.dirty.to, bucketStart(rows.max, DAY_MS) + DAY_MS) };
    }
    return this.unmerged >= this.mergeRows;
  }

  /**
   * Sums each key's rows into one over the days that received rows since the last merge (dropping keys whose events
   * were all deleted), in one transaction: readers see the rows before or after, with the same sums.
   */
  async merge(connection: DuckDBConnection): Promise<void> {
    if (this.dirty === undefined) return;
    const bounds: string[] = [];
    if (this.dirty.from !== undefined) bounds.push(`bucket >= ${this.dirty.from}`);
    if (this.dirty.to !== undefined) bounds.push(`bucket < ${this.dirty.to}`);
    const where = bounds.length === 0 ? 'TRUE' : bounds.join(' AND ');
    // A failed merge changed nothing; the rows wait for the next one rather than be retried after every append.
    this.unmerged = 0;
    await inTransaction(connection, async () => {
      await connection.run(`CREATE OR REPLACE TEMP TABLE vigil_rollup_merge AS
        SELECT grain, bucket, field, value, sum(n)::BIGINT AS n FROM ${ROLLUP_TABLE} WHERE ${where}
        GROUP BY grain, bucket, field, value HAVING sum(n) <> 0`);
      await connection.run(`DELETE FROM ${ROLLUP_TABLE} WHERE ${where}`);
      await connection.run(`INSERT INTO ${ROLLUP_TABLE} SELECT * FROM vigil_rollup_merge ORDER BY field, grain, bucket`);
      await connection.run('DROP TABLE vigil_rollup_merge');
    });
    this.dirty = undefined;
  }
}
