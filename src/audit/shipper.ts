// Stores the audit journal's records as events: reads `audit.jsonl` from the offset stored so far, hands the documents
// to the pipeline as a trusted input (only Vigil may write `vigil.audit`), and moves the offset once they are durable.
// Each record keeps its own `event.id`, so lines shipped again after a crash are stored once.
import { closeSync, existsSync, fstatSync, openSync, readSync, renameSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Ingest } from '../core/ingest.js';
import { AUDIT_JOURNAL } from './trail.js';

const OFFSET_FILE = 'audit.offset.json';
/** Records handed to the pipeline at once. */
const BATCH = 500;
/** Bytes read from the journal at once. */
const CHUNK_BYTES = 1024 * 1024;

export interface AuditShipperOptions {
  dataDir: string;
  ingest: Ingest;
  /** How often the journal is checked for lines that the `vigil` command appended. */
  pollMs?: number;
  /** A fully shipped journal bigger than this is renamed to `audit.jsonl.1` (the previous one is replaced). */
  rotateBytes?: number;
}

export interface AuditShipperStats {
  shipped: number;
  /** Lines that were not JSON (a write cut by a crash): skipped. */
  corrupt: number;
  /** Bytes of the journal not yet stored. */
  behind: number;
  lastError: string | null;
}

export class AuditShipper {
  private readonly path: string;
  private readonly offsetPath: string;
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private retryAt = 0;
  /** A journal renamed by rotation, read once more for lines appended just before the rename. */
  private rotated: { path: string; offset: number } | undefined;
  private readonly stats_: AuditShipperStats = { shipped: 0, corrupt: 0, behind: 0, lastError: null };

  constructor(private readonly options: AuditShipperOptions) {
    this.path = join(options.dataDir, AUDIT_JOURNAL);
    this.offsetPath = join(options.dataDir, OFFSET_FILE);
    try {
      const saved = JSON.parse(readFileSync(this.offsetPath, 'utf8')) as { offset?: unknown };
      if (typeof saved.offset === 'number' && saved.offset >= 0) this.offset = saved.offset;
    } catch {
      // No offset yet: ship the journal from its start (ids make a repeat harmless).
    }
  }

  start(): void {
    this.timer = setInterval(() => this.poke(), this.options.pollMs ?? 1000);
    this.timer.unref();
    this.poke();
  }

  /** Ships what is new, now or right after the run in progress. */
  poke(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (Date.now() < this.retryAt) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  /** Resolves once everything appended so far is stored, or the store refused it (the lines wait for the next run). */
  async flush(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (this.running) await this.running;
      this.retryAt = 0;
      this.poke();
      if (this.running) await this.running;
      if (this.stats_.lastError !== null) return;
      if (!this.again && this.size(this.path) <= this.offset && !this.rotated) return;
    }
  }

  stats(): AuditShipperStats {
    return { ...this.stats_, behind: Math.max(0, this.size(this.path) - this.offset) };
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    this.closed = true;
    clearInterval(this.timer);
  }

  private size(path: string): number {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  }

  private async run(): Promise<void> {
    try {
      if (this.rotated) {
        const { path, offset } = this.rotated;
        await this.ship(path, offset, () => undefined);
        this.rotated = undefined;
      }
      const size = this.size(this.path);
      // The journal is shorter than the offset: it was replaced (restored, or removed by hand). Start it over.
      if (size < this.offset) this.saveOffset(0);
      await this.ship(this.path, this.offset, (offset) => this.saveOffset(offset));
      this.stats_.lastError = null;
      const rotateBytes = this.options.rotateBytes ?? 8 * 1024 * 1024;
      if (this.offset >= rotateBytes && this.size(this.path) === this.offset) {
        const old = `${this.path}.1`;
        renameSync(this.path, old);
        // A `vigil` command that opened the journal just before the rename appends to the renamed file: read it once more.
        this.rotated = { path: old, offset: this.offset };
        this.saveOffset(0);
      }
    } catch (err) {
      this.stats_.lastError = errorMessage(err);
      this.retryAt = Date.now() + 5000;
    }
  }

  /** Stores the whole lines of `path` from `offset` on; `advance` is told each new offset once its lines are stored. */
  private async ship(path: string, offset: number, advance: (offset: number) => void): Promise<void> {
    if (!existsSync(path)) return;
    const fd = openSync(path, 'r');
    try {
      let position = offset;
      const end = fstatSync(fd).size;
      while (position < end) {
        const buffer = Buffer.alloc(Math.min(CHUNK_BYTES, end - position));
        const read = readSync(fd, buffer, 0, buffer.length, position);
        const last = buffer.lastIndexOf(0x0a, read - 1);
        if (last < 0) {
          // A line longer than the chunk cannot be a record (they are cut at 64 KiB): skip to its end.
          if (read === buffer.length && read === CHUNK_BYTES) {
            this.stats_.corrupt++;
            position += read;
            advance(position);
            continue;
          }
          return; // a line still being written
        }
        const docs: unknown[] = [];
        for (const text of buffer.subarray(0, last).toString('utf8').split('\n')) {
          if (text.trim() === '') continue;
          try {
            docs.push(JSON.parse(text));
          } catch {
            this.stats_.corrupt++;
          }
        }
        for (let i = 0; i < docs.length; i += BATCH) {
          await this.options.ingest.ingestDocuments(docs.slice(i, i + BATCH), { input: 'audit', trusted: true });
        }
        this.stats_.shipped += docs.length;
        position += last + 1;
        advance(position);
      }
    } finally {
      closeSync(fd);
    }
  }

  private saveOffset(offset: number): void {
    this.offset = offset;
    const tmp = `${this.offsetPath}.tmp`;
    writeFileSync(tmp, JSON.stringify({ offset }) + '\n');
    renameSync(tmp, this.offsetPath);
  }
}
