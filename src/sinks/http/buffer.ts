// The agent's on-disk buffer: events wait here, durably, until the server has them. Append-only segment files of
// checksummed records (one record per acknowledged batch), fsync'd before the batch is acknowledged; a segment is
// deleted only once everything in it was delivered. Bounded: when full, the oldest segment is dropped and counted.
//
// Record: [u32 BE payload length][u32 BE CRC-32 of the payload][payload: NDJSON lines joined by \n, UTF-8].
// After a crash the last record of a segment may be cut short or hold garbage; reading stops at the first record
// whose length or checksum does not hold, and the segment is truncated there.
import { mkdirSync, readdirSync } from 'node:fs';
import { open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';

const HEADER = 8;
const SUFFIX = '.seg';
/** A record larger than this is not believed (a corrupt length field), whatever the checksum. */
const MAX_RECORD = 256 * 1024 * 1024;

/** CRC-32 (ISO-HDLC, as zlib and gzip use), from zlib where Node has it (20.15+), else a table. */
const crc32: (data: Buffer) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (data) => zlib.crc32(data) >>> 0
    : (() => {
        const table = new Uint32Array(256);
        for (let n = 0; n < 256; n++) {
          let c = n;
          for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
          table[n] = c >>> 0;
        }
        return (data: Buffer) => {
          let c = 0xffffffff;
          for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
          return (c ^ 0xffffffff) >>> 0;
        };
      })();

interface Segment {
  seq: number;
  path: string;
  /** Bytes of whole, durable records. */
  size: number;
  /** Events (lines) in it. */
  events: number;
  /** No more appends go to it. */
  sealed: boolean;
}

/** Where the reader is: the record at `offset` of segment `seq`, from its `line`-th line. */
export interface BufferPosition {
  seq: number;
  offset: number;
  line: number;
}

export interface BufferedBatch {
  /** NDJSON lines, one event each. */
  lines: string[];
  bytes: number;
  /** Where the reader goes once this batch is acknowledged. */
  next: BufferPosition;
}

export interface DiskBufferOptions {
  dir: string;
  /** Total size bound; beyond it the oldest segment is dropped. */
  maxBytes: number;
  /** A segment is sealed once it reaches this size (default 8 MiB, at most a quarter of maxBytes). */
  segmentBytes?: number;
  warn?: (message: string) => void;
}

export interface BufferStats {
  segments: number;
  bytes: number;
  /** Events written and not yet delivered. */
  pending: number;
  /** Events lost to the size bound, and to corrupt segment tails found at start. */
  dropped: number;
  recovered_bytes_discarded: number;
}

function segmentName(seq: number): string {
  return `${String(seq).padStart(20, '0')}${SUFFIX}`;
}

/** Reads the whole records of a segment file: where each starts and its count of lines, and where the valid part ends. */
async function scanSegment(path: string): Promise<{ events: number; validSize: number; fileSize: number; records: { offset: number; lines: number }[] }> {
  const handle = await open(path, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    let offset = 0;
    let events = 0;
    const records: { offset: number; lines: number }[] = [];
    const header = Buffer.alloc(HEADER);
    while (offset + HEADER <= fileSize) {
      await readFully(handle, header, offset);
      const length = header.readUInt32BE(0);
      const sum = header.readUInt32BE(4);
      if (length === 0 || length > MAX_RECORD || offset + HEADER + length > fileSize) break;
      const payload = Buffer.alloc(length);
      await readFully(handle, payload, offset + HEADER);
      if (crc32(payload) !== sum) break;
      const lines = countLines(payload);
      records.push({ offset, lines });
      events += lines;
      offset += HEADER + length;
    }
    return { events, validSize: offset, fileSize, records };
  } finally {
    await handle.close();
  }
}

async function readFully(handle: FileHandle, buf: Buffer, position: number): Promise<void> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await handle.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) throw new Error('unexpected end of segment');
    got += bytesRead;
  }
}

function countLines(payload: Buffer): number {
  let n = 1;
  for (let i = payload.indexOf(10); i >= 0; i = payload.indexOf(10, i + 1)) n++;
  return n;
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory.
  }
}

export class DiskBuffer {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly warn: (message: string) => void;
  private segments: Segment[] = [];
  private writer: { segment: Segment; handle: FileHandle } | undefined;
  private nextSeq = 1;
  private position: BufferPosition = { seq: 0, offset: 0, line: 0 };
  /** Lines of the reader's segment already acknowledged (to count what a dropped segment still held). */
  private linesAcked = 0;
  private reader: { seq: number; handle: FileHandle } | undefined;
  /** Appends, acknowledgements and drops happen one at a time, in order. */
  private serial: Promise<unknown> = Promise.resolve();
  private waiters: (() => void)[] = [];
  private dropped = 0;
  private discarded = 0;
  private closed = false;

  private constructor(options: DiskBufferOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.segmentBytes = Math.max(64 * 1024, Math.min(options.segmentBytes ?? 8 * 1024 * 1024, Math.floor(options.maxBytes / 4)));
    this.warn = options.warn ?? ((m) => console.warn(m));
  }

  /** Opens (creating) the buffer directory and recovers what a previous run left: every whole record is kept. */
  static async open(options: DiskBufferOptions): Promise<DiskBuffer> {
    const buffer = new DiskBuffer(options);
    await buffer.recover();
    return buffer;
  }

  /**
   * Where delivery had got to, saved after each acknowledgement (rename, no fsync: a stale position only means
   * sending some events again, which the server ignores by event.id; a lost one means starting the segment over).
   */
  private get positionPath(): string {
    return join(this.dir, 'position.json');
  }

  private async savePosition(): Promise<void> {
    const tmp = `${this.positionPath}.tmp`;
    await writeFile(tmp, JSON.stringify(this.position));
    await rename(tmp, this.positionPath);
  }

  private async loadPosition(first: Segment | undefined, records: { offset: number; lines: number }[]): Promise<void> {
    if (!first) return;
    let saved: BufferPosition;
    try {
      saved = JSON.parse(await readFile(this.positionPath, 'utf8')) as BufferPosition;
    } catch {
      return;
    }
    if (saved.seq !== first.seq || !Number.isSafeInteger(saved.offset) || !Number.isSafeInteger(saved.line) || saved.line < 0) return;
    let before = 0;
    for (const record of records) {
      if (record.offset === saved.offset) {
        if (saved.line >= record.lines) return;
        this.position = saved;
        this.linesAcked = before + saved.line;
        return;
      }
      before += record.lines;
    }
  }

  private async recover(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const seqs = readdirSync(this.dir)
      .filter((name) => name.endsWith(SUFFIX) && /^\d+$/.test(name.slice(0, -SUFFIX.length)))
      .map((name) => Number(name.slice(0, -SUFFIX.length)))
      .sort((a, b) => a - b);
    let firstRecords: { offset: number; lines: number }[] = [];
    for (const seq of seqs) {
      const path = join(this.dir, segmentName(seq));
      const { events, validSize, fileSize, records } = await scanSegment(path);
      if (validSize < fileSize) {
        // A crash cut the last record short (or left garbage): keep the whole records before it.
        const handle = await open(path, 'r+');
        try {
          await handle.truncate(validSize);
          await handle.sync();
        } finally {
          await handle.close();
        }
        this.discarded += fileSize - validSize;
        this.warn(`vigil agent: buffer segment ${path} ended in an incomplete record (a crash while writing); kept its ${events} whole events, discarded ${fileSize - validSize} bytes`);
      }
      if (validSize === 0) {
        await rm(path, { force: true });
        continue;
      }
      if (this.segments.length === 0) firstRecords = records;
      this.segments.push({ seq, path, size: validSize, events, sealed: true });
    }
    this.nextSeq = (seqs[seqs.length - 1] ?? 0) + 1;
    this.position = { seq: this.segments[0]?.seq ?? this.nextSeq, offset: 0, line: 0 };
    await this.loadPosition(this.segments[0], firstRecords);
  }

  private run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.serial.then(task);
    this.serial = result.catch(() => undefined);
    return result;
  }

  /** Writes one batch of events durably (fsync) and resolves; the caller may then acknowledge them to its source. */
  append(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return this.run(async () => {
      if (this.closed) throw new Error('the agent buffer is closed');
      const payload = Buffer.from(lines.join('\n'), 'utf8');
      if (payload.length > MAX_RECORD) throw new Error(`a batch of ${payload.length} bytes is over the record limit`);
      const header = Buffer.alloc(HEADER);
      header.writeUInt32BE(payload.length, 0);
      header.writeUInt32BE(crc32(payload), 4);
      const writer = await this.activeWriter();
      await writer.handle.writev([header, payload]);
      await writer.handle.datasync();
      writer.segment.size += HEADER + payload.length;
      writer.segment.events += lines.length;
      if (writer.segment.size >= this.segmentBytes) await this.seal();
      await this.enforceBound();
      this.wake();
    });
  }

  private async activeWriter(): Promise<{ segment: Segment; handle: FileHandle }> {
    if (this.writer) return this.writer;
    const seq = this.nextSeq++;
    const segment: Segment = { seq, path: join(this.dir, segmentName(seq)), size: 0, events: 0, sealed: false };
    const handle = await open(segment.path, 'a', 0o600);
    // The new file's directory entry must be durable too, or an fsync'd record could vanish with it.
    await syncDir(this.dir);
    this.segments.push(segment);
    if (this.segments.length === 1) this.position = { seq, offset: 0, line: 0 };
    this.writer = { segment, handle };
    return this.writer;
  }

  private async seal(): Promise<void> {
    const writer = this.writer;
    if (!writer) return;
    this.writer = undefined;
    writer.segment.sealed = true;
    await writer.handle.close();
  }

  private get totalBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  /** Drops the oldest segments while over the bound, keeping the one being written. */
  private async enforceBound(): Promise<void> {
    while (this.totalBytes > this.maxBytes && this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const lost = oldest.seq === this.position.seq ? oldest.events - this.linesAcked : oldest.events;
      this.dropped += lost;
      this.warn(
        `vigil agent: the buffer is full (${Math.round(this.maxBytes / 1048576)} MB): dropped its oldest ${lost} undelivered events. ` +
          'Is the server reachable? Raise --max-buffer-mb to hold a longer outage.',
      );
      await this.removeSegment(oldest);
    }
  }

  private async removeSegment(segment: Segment): Promise<void> {
    this.segments = this.segments.filter((s) => s !== segment);
    if (this.reader?.seq === segment.seq) {
      await this.reader.handle.close().catch(() => undefined);
      this.reader = undefined;
    }
    if (this.position.seq === segment.seq) {
      this.position = { seq: this.segments[0]?.seq ?? this.nextSeq, offset: 0, line: 0 };
      this.linesAcked = 0;
    }
    await rm(segment.path, { force: true });
  }

  /**
   * The next events to send (up to `maxEvents` and about `maxBytes`), from the reader's position; nothing moves
   * until `ack`. Undefined when everything written has been read.
   */
  async read(maxEvents: number, maxBytes: number): Promise<BufferedBatch | undefined> {
    let pos = this.position;
    let segment = this.segments.find((s) => s.seq === pos.seq);
    if (!segment) {
      // The position's segment was dropped or deleted: start at the oldest one.
      segment = this.segments[0];
      if (!segment) return undefined;
      pos = { seq: segment.seq, offset: 0, line: 0 };
    }
    if (pos.offset >= segment.size) return undefined;
    if (this.reader?.seq !== segment.seq) {
      await this.reader?.handle.close().catch(() => undefined);
      this.reader = { seq: segment.seq, handle: await open(segment.path, 'r') };
    }
    const lines: string[] = [];
    let bytes = 0;
    let offset = pos.offset;
    let line = pos.line;
    const header = Buffer.alloc(HEADER);
    while (offset < segment.size && lines.length < maxEvents && (bytes < maxBytes || lines.length === 0)) {
      await readFully(this.reader.handle, header, offset);
      const length = header.readUInt32BE(0);
      const payload = Buffer.alloc(length);
      await readFully(this.reader.handle, payload, offset + HEADER);
      if (crc32(payload) !== header.readUInt32BE(4)) throw new Error(`buffer segment ${segment.path} is corrupt at offset ${offset}`);
      const recordLines = payload.toString('utf8').split('\n');
      let i = line;
      while (i < recordLines.length && lines.length < maxEvents && (bytes < maxBytes || lines.length === 0)) {
        const text = recordLines[i]!;
        lines.push(text);
        bytes += text.length + 1;
        i++;
      }
      if (i < recordLines.length) {
        line = i;
        break;
      }
      offset += HEADER + length;
      line = 0;
    }
    return { lines, bytes, next: { seq: segment.seq, offset, line } };
  }

  /** The server has everything up to `batch.next`: move the reader there and delete segments fully delivered. */
  ack(batch: BufferedBatch): Promise<void> {
    return this.run(async () => {
      const next = batch.next;
      const segment = this.segments.find((s) => s.seq === next.seq);
      // Dropped meanwhile (buffer full): nothing to move.
      if (!segment) return;
      if (next.seq === this.position.seq) this.linesAcked += batch.lines.length;
      else this.linesAcked = batch.lines.length;
      this.position = next;
      if (next.offset < segment.size || next.line > 0) {
        await this.savePosition().catch(() => undefined);
        return;
      }
      // Everything in this segment is delivered. The segment being written is sealed first, so that the next
      // batch starts a new one and this file can go.
      if (!segment.sealed) await this.seal();
      await this.removeSegment(segment);
    });
  }

  /** Resolves when something is appended (or after `ms`). */
  waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.waiters;
      function done() {
        clearTimeout(timer);
        const at = waiters.indexOf(done);
        if (at >= 0) waiters.splice(at, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  stats(): BufferStats {
    let pending = 0;
    for (const s of this.segments) pending += s.events;
    pending -= this.segments.some((s) => s.seq === this.position.seq) ? this.linesAcked : 0;
    return { segments: this.segments.length, bytes: this.totalBytes, pending: Math.max(0, pending), dropped: this.dropped, recovered_bytes_discarded: this.discarded };
  }

  async close(): Promise<void> {
    await this.run(async () => {
      this.closed = true;
      await this.seal();
      await this.reader?.handle.close().catch(() => undefined);
      this.reader = undefined;
    });
    this.wake();
  }
}
