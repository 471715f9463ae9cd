// The forest's input: rows of numbers in one flat Float64Array (row-major), so that nothing per row is an object.
import { VigilError } from '../../../core/errors.js';

export interface Matrix {
  /** rows * cols values, row after row. */
  data: Float64Array;
  rows: number;
  cols: number;
}

export function matrix(data: Float64Array, cols: number): Matrix {
  if (!Number.isInteger(cols) || cols < 1) throw new VigilError('bad_request', `a matrix needs at least one column, got ${cols}`);
  if (data.length % cols !== 0) throw new VigilError('bad_request', `${data.length} values do not make rows of ${cols} columns`);
  return { data, rows: data.length / cols, cols };
}

/** Builds a matrix from arrays of rows (tests, small inputs). */
export function fromRows(rows: readonly (readonly number[])[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, r) => {
    if (row.length !== cols) throw new VigilError('bad_request', `row ${r + 1} has ${row.length} values, the first row has ${cols}`);
    data.set(row, r * cols);
  });
  return { data, rows: rows.length, cols };
}

/**
 * The first value that is NaN or infinite, if any. An Isolation Forest draws split points uniformly between a
 * feature's minimum and maximum, so one infinity makes every split on that feature useless and NaN compares false
 * with everything: callers must impute or refuse such values, never pass them on silently.
 */
export function firstNonFinite(m: Matrix): { row: number; col: number; value: number } | undefined {
  const { data, cols } = m;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // v - v is 0 for finite v and NaN for NaN and ±Infinity.
    if (v - v !== 0) return { row: Math.floor(i / cols), col: i % cols, value: v };
  }
  return undefined;
}

/** Throws a VigilError naming the first non-finite value (1-based row and column, or the column's name). */
export function assertFinite(m: Matrix, what: string, columnNames?: readonly string[]): void {
  const bad = firstNonFinite(m);
  if (bad === undefined) return;
  const column = columnNames?.[bad.col] ?? `column ${bad.col + 1}`;
  const kind = Number.isNaN(bad.value) ? 'NaN (missing)' : bad.value > 0 ? 'Infinity' : '-Infinity';
  throw new VigilError('bad_request', `${what}: row ${bad.row + 1}, ${column} is ${kind}; impute or drop it first`, { location: `row ${bad.row + 1}, ${column}` });
}
