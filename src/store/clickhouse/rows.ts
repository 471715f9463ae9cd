// Turns a batch of events into the body of one ClickHouse insert: the same columns as DuckDB (eventColumns), written
// as JSONCompactEachRow, one JSON array per event (https://clickhouse.com/docs/interfaces/formats/JSONCompactEachRow).
import { COLUMN_ORDER } from '../sql/columns.js';
import { wellFormed, type EventColumns, type PlainValue } from '../duckdb/rows.js';
import { ipv6Text } from './compile.js';

/**
 * The span DateTime64 holds (1900-01-01 to 2299-12-31, https://clickhouse.com/docs/sql-reference/data-types/datetime64):
 * a silly year is filed at the nearest end, as DuckDB clamps to its own range. The document keeps what was sent.
 */
export const MIN_TS_MICROS = BigInt(Date.UTC(1900, 0, 1)) * 1000n;
export const MAX_TS_MICROS = BigInt(Date.UTC(2300, 0, 1)) * 1000n - 1n;

export function clampMicros(micros: bigint): bigint {
  return micros < MIN_TS_MICROS ? MIN_TS_MICROS : micros > MAX_TS_MICROS ? MAX_TS_MICROS : micros;
}

/** µs since the epoch as DateTime64(6) text, `2024-05-01 10:00:00.123456` (UTC). */
export function dateTimeText(micros: bigint): string {
  const clamped = clampMicros(micros);
  const seconds = clamped / 1_000_000n - (clamped % 1_000_000n < 0n ? 1n : 0n);
  const fraction = clamped - seconds * 1_000_000n;
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${fraction.toString().padStart(6, '0')}`;
}

const index = (name: (typeof COLUMN_ORDER)[number]): number => COLUMN_ORDER.indexOf(name);
const TIME_COLUMNS = new Set([index('ts'), index('ingested')]);
const IP_COLUMNS = new Set([index('source_ip_num'), index('destination_ip_num')]);
const LIST_COLUMNS = new Set([index('event_category'), index('tags')]);

function cell(column: number, value: PlainValue): unknown {
  if (TIME_COLUMNS.has(column)) return dateTimeText(value as bigint);
  if (IP_COLUMNS.has(column)) return value === null ? null : ipv6Text(value as bigint);
  // Arrays cannot be NULL in ClickHouse; an absent list and an empty one both mean "no values" to every query.
  if (LIST_COLUMNS.has(column)) return value ?? [];
  return value;
}

function repaired(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? wellFormed(value) : value;
}

/** Each event of a prepared batch as one line of the insert body (JSONCompactEachRow, values in COLUMN_ORDER). */
export function insertLines(batch: EventColumns): string[] {
  const lines: string[] = new Array<string>(batch.count);
  const row: unknown[] = new Array<unknown>(COLUMN_ORDER.length);
  for (let r = 0; r < batch.count; r++) {
    for (let c = 0; c < COLUMN_ORDER.length; c++) row[c] = cell(c, batch.columns[c]![r]!);
    let line = JSON.stringify(row);
    // JSON.stringify writes a lone surrogate as a `\udXXX` escape, which is not UTF-8 text; ClickHouse would refuse it.
    if (/\\ud[89a-f]/.test(line)) line = JSON.stringify(row, repaired);
    lines[r] = line;
  }
  return lines;
}
