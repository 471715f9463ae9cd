// An append-only JSON-lines file of records, fsynced per write: alerts' state survives a crash, and a record cut by
// one is skipped on replay. Compacted on open by rewriting the records that are still current, and while running
// once the appended records outnumber those current ones several times (every update of an alert is a record).
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

/** The file is rewritten once it holds this many times the records still current … */
const COMPACT_FACTOR = 4;
/** … and at least this many records. */
const COMPACT_MIN_RECORDS = 10_000;

export class Journal<T> {
  private fd: number;
  /** Records in the file now. */
  private records: number;
  /** Rewrites while running, for tests and health. */
  compactions = 0;

  private constructor(
    private readonly path: string,
    fd: number,
    records: number,
  ) {
    this.fd = fd;
    this.records = records;
  }

  /**
   * Reads every whole record of `path` (a torn or corrupt line is reported and skipped), lets `current` pick the
   * ones still needed, rewrites the file with them, and opens it for appending.
   */
  static open<T>(path: string, current: (records: T[]) => T[], onCorrupt: (line: number, reason: string) => void = () => {}): { journal: Journal<T>; records: T[] } {
    const records: T[] = [];
    if (existsSync(path)) {
      const lines = readFileSync(path, 'utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line.trim() === '') continue;
        try {
          records.push(JSON.parse(line) as T);
        } catch (err) {
          onCorrupt(i + 1, err instanceof Error ? err.message : String(err));
        }
      }
    }
    const kept = current(records);
    rewrite(path, kept);
    return { journal: new Journal<T>(path, openSync(path, 'a', 0o600), kept.length), records: kept };
  }

  /** Appends records and waits for the disk: when this returns they survive a crash. */
  append(records: readonly T[]): void {
    if (records.length === 0) return;
    writeSync(this.fd, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    fsyncSync(this.fd);
    this.records += records.length;
  }

  /**
   * Rewrites the file with `current()` (the state now, `live` records) once it has grown past COMPACT_FACTOR times
   * that: the new file replaces the old one whole (rename), so a crash leaves one or the other.
   */
  compact(live: number, current: () => readonly T[]): boolean {
    if (this.records < Math.max(COMPACT_MIN_RECORDS, COMPACT_FACTOR * live)) return false;
    const kept = current();
    rewrite(this.path, kept);
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a', 0o600);
    this.records = kept.length;
    this.compactions++;
    return true;
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  toString(): string {
    return this.path;
  }
}

/** Writes `records` to a new file and puts it in place of `path` once it is on disk. */
function rewrite<T>(path: string, records: readonly T[]): void {
  const tmp = `${path}.tmp`;
  const out = openSync(tmp, 'w', 0o600);
  try {
    if (records.length > 0) writeSync(out, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    fsyncSync(out);
  } finally {
    closeSync(out);
  }
  renameSync(tmp, path);
}
