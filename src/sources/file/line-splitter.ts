// Cuts a file's bytes into lines and tracks the file offset each line ends at, so the tailer can persist
// exactly how far it has delivered. Lines end at LF; a CR just before the LF is dropped (CRLF files).

const LF = 0x0a;
const CR = 0x0d;
const BOM = '\uFEFF';

export interface SplitLine {
  /** The line, decoded as UTF-8 (invalid bytes become U+FFFD), without its line ending. */
  text: string;
  /** File offset a restart resumes from once this line is delivered. */
  end: number;
  /** After this line, the bytes up to the next LF are the rest of a cut line and are to be discarded. */
  skipping: boolean;
  /** The line was longer than the limit and was cut. */
  truncated: boolean;
}

/**
 * Stateful splitter for one file. Holds a final partial line until its LF arrives, but never more than
 * `maxLineBytes + 1` bytes of it: a longer line is delivered cut as soon as it is known to be too long,
 * and the rest of it, up to its LF, is skipped.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** File offset of the next byte pushed. */
  private position: number;
  private skip: boolean;

  constructor(
    private readonly maxLineBytes: number,
    start = 0,
    skipping = false,
  ) {
    this.position = start;
    this.skip = skipping;
  }

  /** Offset up to which every byte has been emitted or discarded: where a restart would resume. */
  get committedOffset(): number {
    return this.skip ? this.position : this.position - this.partBytes;
  }

  /** True while discarding the rest of a line that was cut. */
  get skipping(): boolean {
    return this.skip;
  }

  /** Bytes of the partial line being held. */
  get pendingBytes(): number {
    return this.partBytes;
  }

  /** Starts over at `start` (the file was truncated); the held partial line is dropped. */
  reset(start: number, skipping = false): void {
    this.parts = [];
    this.partBytes = 0;
    this.position = start;
    this.skip = skipping;
  }

  /**
   * Feeds the next bytes of the file and returns the lines they complete. The chunk is not kept
   * (what must be held is copied), so the caller may reuse its read buffer.
   */
  push(chunk: Buffer): SplitLine[] {
    const out: SplitLine[] = [];
    const base = this.position;
    let i = 0;
    while (i < chunk.length) {
      const nl = chunk.indexOf(LF, i);
      if (this.skip) {
        if (nl < 0) break; // still inside the over-long line
        this.skip = false;
        i = nl + 1;
        continue;
      }
      if (nl < 0) {
        this.hold(chunk, i, base, out);
        break;
      }
      out.push(this.complete(chunk, i, nl, base));
      i = nl + 1;
    }
    this.position = base + chunk.length;
    return out;
  }

  /**
   * Delivers the held partial line as if its LF had arrived: used when the file was rotated away
   * and nothing more will be appended to it.
   */
  flush(): SplitLine | undefined {
    if (this.skip) {
      this.skip = false;
      return undefined;
    }
    if (this.partBytes === 0) return undefined;
    const line = Buffer.concat(this.parts);
    const start = this.position - this.partBytes;
    this.parts = [];
    this.partBytes = 0;
    let len = line.length;
    if (line[len - 1] === CR) len--;
    return { text: decodeLine(line, len, start), end: this.position, skipping: false, truncated: false };
  }

  /** A line whose LF is at `nl` in `chunk`, starting at `i` (plus any held bytes). */
  private complete(chunk: Buffer, i: number, nl: number, base: number): SplitLine {
    const total = this.partBytes + (nl - i);
    const start = base + i - this.partBytes;
    const end = base + nl + 1;
    // Only the first maxLineBytes + 2 bytes can end up in the text; do not copy the rest of a huge line.
    const keepTo = Math.min(nl, i + Math.max(0, this.maxLineBytes + 2 - this.partBytes));
    let lastByte: number | undefined;
    let line: Buffer;
    if (this.partBytes === 0) {
      line = chunk.subarray(i, keepTo);
      lastByte = nl > i ? chunk[nl - 1] : undefined;
    } else {
      const held = this.parts[this.parts.length - 1]!;
      lastByte = nl > i ? chunk[nl - 1] : held[held.length - 1];
      line = Buffer.concat([...this.parts, chunk.subarray(i, keepTo)]);
      this.parts = [];
      this.partBytes = 0;
    }
    const len = lastByte === CR ? total - 1 : total;
    if (len > this.maxLineBytes) {
      return { text: decodeLine(line, charBoundary(line, this.maxLineBytes), start), end, skipping: false, truncated: true };
    }
    return { text: decodeLine(line, len, start), end, skipping: false, truncated: false };
  }

  /** Keeps the unterminated tail of a chunk; delivers it cut if it is already over the limit. */
  private hold(chunk: Buffer, i: number, base: number, out: SplitLine[]): void {
    const avail = chunk.length - i;
    // A held line of maxLineBytes + 1 bytes may still fit: its last byte can be the CR of a CRLF.
    const take = Math.min(avail, this.maxLineBytes + 2 - this.partBytes);
    if (take > 0) {
      // Copy: the caller reuses its read buffer.
      this.parts.push(Buffer.from(chunk.subarray(i, i + take)));
      this.partBytes += take;
    }
    if (this.partBytes + (avail - take) <= this.maxLineBytes + 1) return;
    const start = base + i + take - this.partBytes;
    const line = Buffer.concat(this.parts);
    this.parts = [];
    this.partBytes = 0;
    this.skip = true;
    out.push({
      text: decodeLine(line, charBoundary(line, this.maxLineBytes), start),
      end: base + chunk.length,
      skipping: true,
      truncated: true,
    });
  }
}

/** Where to cut `buf` to at most `limit` bytes without splitting a UTF-8 sequence (RFC 3629 section 3). */
function charBoundary(buf: Buffer, limit: number): number {
  let cut = limit;
  // A continuation byte (10xxxxxx) at the cut belongs to a character that started before it; a
  // character is at most 4 bytes, so back off at most 3.
  for (let steps = 0; steps < 3 && cut > 0 && ((buf[cut] ?? 0) & 0xc0) === 0x80; steps++) cut--;
  return cut;
}

/** UTF-8 with replacement characters; a byte order mark at the very start of the file is dropped. */
function decodeLine(buf: Buffer, to: number, fileOffset: number): string {
  const text = buf.toString('utf8', 0, to);
  return fileOffset === 0 && text.startsWith(BOM) ? text.slice(1) : text;
}
