// An append-only JSON-lines file of records, fsynced per write: alerts' state survives a crash, and a record cut by
// one is skipped on replay. Compacted on open by rewriting the records that are still current.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export class Journal<T> {
  private fd: number;

  private constructor(
    private readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
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
    const tmp = `${path}.tmp`;
    const out = openSync(tmp, 'w', 0o600);
    try {
      if (kept.length > 0) writeSync(out, kept.map((r) => JSON.stringify(r)).join('\n') + '\n');
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    renameSync(tmp, path);
    return { journal: new Journal<T>(path, openSync(path, 'a', 0o600)), records: kept };
  }

  /** Appends records and waits for the disk: when this returns they survive a crash. */
  append(records: readonly T[]): void {
    if (records.length === 0) return;
    writeSync(this.fd, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    fsyncSync(this.fd);
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
