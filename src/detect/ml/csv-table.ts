// Reads a CSV file (plain or gzipped, RFC 4180 quoting) into numeric columns for `vigil iforest` and the benchmarks:
// which columns are numeric, where values are missing or infinite, streamed with progress for big files.
import { createReadStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { VigilError } from '../../core/errors.js';

export interface CsvColumn {
  name: string;
  /** Every row's value: NaN where the cell was empty or a missing marker, ±Infinity where it said so. */
  values: Float64Array;
  /** False when some cell is text that is not a number (such columns cannot be features). */
  numeric: boolean;
  /** Cells that were empty or NaN / NA / null. */
  missing: number;
  /** Cells that were infinite. */
  infinite: number;
  /** 1-based data row of the first missing or infinite cell. */
  firstBadRow?: number;
  /** The first text cell, when not numeric. */
  example?: string;
}

export interface CsvTable {
  columns: CsvColumn[];
  rows: number;
  /** Whether the first line was taken as a header (it was not when every cell of it is a number). */
  header: boolean;
}

const MISSING = new Set(['', 'nan', 'na', 'n/a', 'null', 'none', '?']);
const POS_INF = new Set(['inf', '+inf', 'infinity', '+infinity']);
const NEG_INF = new Set(['-inf', '-infinity']);

/** A cell as a number: NaN for missing, ±Infinity, or undefined for text that is not a number. */
export function parseCell(cell: string): number | undefined {
  const n = +cell;
  if (n === n && cell.length > 0 && cell.trim().length > 0) {
    // `+` accepts hex ('0x1A') and binary literals; a CSV number is decimal.
    const c = cell.charCodeAt(cell.length > 1 ? 1 : 0) | 0x20;
    if (c === 0x78 || c === 0x62 || c === 0x6f) return undefined;
    return n;
  }
  const lower = cell.trim().toLowerCase();
  if (MISSING.has(lower)) return NaN;
  if (POS_INF.has(lower)) return Infinity;
  if (NEG_INF.has(lower)) return -Infinity;
  return undefined;
}

/** Splits CSV text into records; quoted fields may hold commas, quotes ("") and line breaks. Carries state across chunks. */
export class CsvSplitter {
  private field = '';
  private record: string[] = [];
  private quoted = false;
  /** Inside a quoted field; a quote was just seen (either the end or the first of "" ). */
  private quotePending = false;
  private atFieldStart = true;
  line = 1;

  constructor(private readonly onRecord: (cells: string[], line: number) => void) {}

  write(text: string): void {
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (!this.quoted && !this.quotePending && this.atFieldStart && this.field.length === 0) {
        // Fast path: the rest of an unquoted line.
        const nl = text.indexOf('\n', i);
        const stop = nl < 0 ? n : nl;
        const q = text.indexOf('"', i);
        if (q < 0 || q >= stop) {
          let chunk = text.slice(i, stop);
          if (nl < 0) {
            this.partial(chunk);
            return;
          }
          if (chunk.endsWith('\r')) chunk = chunk.slice(0, -1);
          const cells = chunk.split(',');
          if (this.record.length > 0) {
            this.record.push(...cells);
            this.emit();
          } else {
            this.record = cells;
            this.emit();
          }
          i = nl + 1;
          continue;
        }
      }
      const ch = text[i]!;
      i++;
      if (this.quoted) {
        if (this.quotePending) {
          this.quotePending = false;
          if (ch === '"') {
            this.field += '"';
            continue;
          }
          this.quoted = false;
          // fall through: ch is the character after the closing quote
        } else {
          if (ch === '"') this.quotePending = true;
          else this.field += ch;
          continue;
        }
      }
      if (ch === ',') {
        this.record.push(this.field);
        this.field = '';
        this.atFieldStart = true;
      } else if (ch === '\n') {
        if (this.field.endsWith('\r')) this.field = this.field.slice(0, -1);
        this.record.push(this.field);
        this.field = '';
        this.atFieldStart = true;
        this.emit();
      } else if (ch === '"' && this.atFieldStart && this.field.length === 0) {
        this.quoted = true;
        this.atFieldStart = false;
      } else {
        this.field += ch;
        this.atFieldStart = false;
      }
    }
  }

  /** An unquoted piece of a line whose end is in the next chunk. */
  private partial(chunk: string): void {
    const cells = chunk.split(',');
    for (let c = 0; c < cells.length - 1; c++) this.record.push(cells[c]!);
    this.field = cells[cells.length - 1]!;
    this.atFieldStart = this.field.length === 0;
  }

  end(): void {
    if (this.quoted && !this.quotePending) throw new VigilError('bad_request', `a quoted field is not closed by the end of the file`, { location: `line ${this.line}` });
    if (this.field.length > 0 || this.record.length > 0) {
      if (this.field.endsWith('\r')) this.field = this.field.slice(0, -1);
      this.record.push(this.field);
      this.field = '';
      this.emit();
    }
    this.quoted = false;
    this.quotePending = false;
  }

  private emit(): void {
    const record = this.record;
    this.record = [];
    const line = this.line;
    this.line++;
    // A blank line is no record.
    if (record.length === 1 && record[0] === '') return;
    this.onRecord(record, line);
  }
}

/** Growable Float64Array. */
class Column {
  values = new Float64Array(1024);
  length = 0;
  numeric = true;
  missing = 0;
  infinite = 0;
  firstBadRow: number | undefined;
  example: string | undefined;

  push(cell: string, row: number): void {
    if (this.length === this.values.length) {
      const next = new Float64Array(this.values.length * 2);
      next.set(this.values);
      this.values = next;
    }
    const v = parseCell(cell);
    if (v === undefined) {
      if (this.numeric) this.example = cell.length > 40 ? cell.slice(0, 40) + '…' : cell;
      this.numeric = false;
      this.values[this.length++] = NaN;
      return;
    }
    if (v - v !== 0) {
      if (v !== v) this.missing++;
      else this.infinite++;
      this.firstBadRow ??= row;
    }
    this.values[this.length++] = v;
  }
}

async function isGzip(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await file.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await file.close();
  }
}

/**
 * Reads a whole CSV file into columns. The first line is a header unless every cell of it is a number. Gzip is
 * recognised by its magic bytes, whatever the file is called. `onProgress` gets (bytes read, file size).
 */
export async function readCsvTable(path: string, onProgress?: (bytes: number, total: number) => void): Promise<CsvTable> {
  let total: number;
  let gzip: boolean;
  try {
    total = statSync(path).size;
    gzip = await isGzip(path);
  } catch (err) {
    throw new VigilError('not_found', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  raw.on('data', (chunk) => {
    bytes += chunk.length;
  });
  const stream: Readable = gzip ? raw.pipe(createGunzip()) : raw;
  stream.setEncoding('utf8');
  let names: string[] | undefined;
  let columns: Column[] = [];
  let header = true;
  let rows = 0;
  const splitter = new CsvSplitter((cells, line) => {
    if (names === undefined) {
      const allNumbers = cells.every((c) => {
        const v = parseCell(c);
        return v !== undefined && Number.isFinite(v);
      });
      header = !allNumbers;
      names = header ? cells.map((c, i) => c.trim() || `column ${i + 1}`) : cells.map((_, i) => `column ${i + 1}`);
      columns = names.map(() => new Column());
      if (header) return;
    }
    if (cells.length !== columns.length) {
      throw new VigilError('bad_request', `${path}: line ${line} has ${cells.length} cells, the ${header ? 'header' : 'first line'} has ${columns.length}`, { location: `${path}:${line}` });
    }
    rows++;
    for (let c = 0; c < cells.length; c++) columns[c]!.push(cells[c]!, rows);
  });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      splitter.write(chunk);
      onProgress?.(bytes, total);
    }
    splitter.end();
  } catch (err) {
    raw.destroy();
    if (err instanceof VigilError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') throw new VigilError('bad_request', `${path} is not a valid gzip file: ${(err as Error).message}`);
    throw new VigilError('bad_request', `cannot read ${path}: ${(err as Error).message}`);
  }
  if (names === undefined) throw new VigilError('bad_request', `${path} is empty`);
  const finalNames = names;
  return {
    header,
    rows,
    columns: columns.map((col, i) => ({
      name: finalNames[i]!,
      values: col.values.subarray(0, col.length),
      numeric: col.numeric,
      missing: col.missing,
      infinite: col.infinite,
      ...(col.firstBadRow !== undefined ? { firstBadRow: col.firstBadRow } : {}),
      ...(col.example !== undefined ? { example: col.example } : {}),
    })),
  };
}
