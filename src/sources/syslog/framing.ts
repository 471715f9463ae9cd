// Cuts a syslog byte stream into messages (RFC 6587 octet counting or non-transparent framing, chosen per message)
// and a UDP datagram into its lines (RFC 5426), holding at most `maxMessageBytes` of any one message in memory.

/** Receives one framed message; `truncated` is set when bytes of it were lost (cut at the limit, or the stream ended mid-frame). */
export type MessageSink = (text: string, truncated: boolean) => void;

const NUL = 0x00;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const ZERO = 0x30;
const ONE = 0x31;
const NINE = 0x39;

/**
 * The longest MSG-LEN read as an octet count: 9 digits, under 1 GB. A longer run of digits cannot be a frame any
 * sender means, so its bytes are read as the start of a newline-framed line instead, as rsyslog does with a frame
 * over its limit; waiting for 10^20 octets would wedge the connection for good.
 */
const MAX_LEN_DIGITS = 9;

type State =
  | 'start' // at a frame boundary: the next byte chooses the framing (RFC 6587 section 3.4)
  | 'digits' // reading MSG-LEN = NONZERO-DIGIT *DIGIT (section 3.4.1)
  | 'octets' // reading the counted SYSLOG-MSG
  | 'skip_octets' // discarding the rest of a counted frame over the limit
  | 'line' // reading a newline-framed message up to its trailer (section 3.4.2)
  | 'skip_line'; // discarding the rest of a line over the limit

/**
 * Frames one TCP or TLS connection. Feed it chunks in order with `push`, and call `end` once when the connection
 * closes. Never throws for any input: undecodable bytes become U+FFFD, oversized frames are cut and reported.
 */
export class StreamFramer {
  private state: State = 'start';
  /** Bytes of the message being read, from earlier chunks (the current chunk is sliced only at the end). */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** The octet count being read (in `digits`), then the octets still to read or to skip. */
  private count = 0;
  private digits = 0;
  /** Octets of a frame over the limit still to skip once its first `maxMessageBytes` have been read. */
  private excess = 0;
  // Positions of the next LF and NUL in the current chunk (chunk length when there is none), found once per
  // chunk and moved forward only, so that many short lines in one chunk cost one pass rather than one per line.
  private nextLf = -1;
  private nextNul = -1;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly sink: MessageSink,
  ) {}

  /** Bytes held for an unfinished message; never more than `maxMessageBytes` (plus the digits of a MSG-LEN). */
  get bufferedBytes(): number {
    return this.partsBytes;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    this.nextLf = -1;
    this.nextNul = -1;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case 'start': {
          const b = chunk[i]!;
          if (b === LF || b === NUL) {
            i++; // an empty message between two trailers, or a trailer some senders add after a counted frame
          } else if (b >= ONE && b <= NINE) {
            this.state = 'digits';
            this.count = b - ZERO;
            this.digits = 1;
            i++;
          } else {
            this.state = 'line'; // the byte is the first of the line; `line` reads it
          }
          break;
        }
        case 'digits': {
          const b = chunk[i]!;
          if (b >= ZERO && b <= NINE && this.digits < MAX_LEN_DIGITS) {
            this.count = this.count * 10 + (b - ZERO);
            this.digits++;
            i++;
          } else if (b === SP) {
            i++;
            this.beginCountedFrame();
          } else {
            // Not `MSG-LEN SP`: the digits begin a newline-framed line. With no leading zero and at most 9 digits,
            // the decimal form of the count is exactly the bytes that were read.
            this.append(Buffer.from(String(this.count), 'latin1'));
            this.state = 'line';
          }
          break;
        }
        case 'octets': {
          const take = Math.min(this.count, n - i);
          if (take < this.count) {
            this.append(chunk.subarray(i, n));
            this.count -= take;
            i = n;
            break;
          }
          const truncated = this.excess > 0;
          this.emit(chunk, i, i + take, truncated, true);
          i += take;
          if (truncated) {
            this.state = 'skip_octets';
            this.count = this.excess;
            this.excess = 0;
          } else {
            this.state = 'start';
          }
          break;
        }
        case 'skip_octets': {
          const take = Math.min(this.count, n - i);
          this.count -= take;
          i += take;
          if (this.count === 0) this.state = 'start';
          break;
        }
        case 'line': {
          const trailer = this.findTrailer(chunk, i);
          const stop = trailer < 0 ? n : trailer;
          const room = Math.max(0, this.maxMessageBytes - this.partsBytes);
          if (stop - i > room) {
            // Over the limit: deliver the first maxMessageBytes now and drop the rest of the line, so that a
            // sender that never sends a newline cannot make us buffer without end.
            this.emit(chunk, i, i + room, true, false);
            i += room;
            this.state = 'skip_line';
          } else if (trailer < 0) {
            this.append(chunk.subarray(i, n));
            i = n;
          } else {
            this.emit(chunk, i, trailer, false, false);
            i = trailer + 1;
            this.state = 'start';
          }
          break;
        }
        case 'skip_line': {
          const trailer = this.findTrailer(chunk, i);
          if (trailer < 0) {
            i = n;
          } else {
            i = trailer + 1;
            this.state = 'start';
          }
          break;
        }
      }
    }
  }

  /**
   * The connection closed. A newline-framed message without its trailer is complete as far as the sender is
   * concerned and is delivered as is; a counted frame cut short is delivered with what arrived and reported
   * truncated (with empty text when none of its octets arrived).
   */
  end(): void {
    const empty = Buffer.alloc(0);
    switch (this.state) {
      case 'digits':
        this.append(Buffer.from(String(this.count), 'latin1'));
        this.emit(empty, 0, 0, false, false);
        break;
      case 'line':
        this.emit(empty, 0, 0, false, false);
        break;
      case 'octets':
        this.emit(empty, 0, 0, true, true);
        break;
      default:
        break;
    }
    this.state = 'start';
    this.parts = [];
    this.partsBytes = 0;
    this.count = 0;
    this.excess = 0;
  }

  private beginCountedFrame(): void {
    if (this.count > this.maxMessageBytes) {
      this.excess = this.count - this.maxMessageBytes;
      this.count = this.maxMessageBytes;
    }
    this.state = 'octets';
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.partsBytes += bytes.length;
  }

  /** Index of the next LF or NUL at or after `from`, or -1. */
  private findTrailer(chunk: Buffer, from: number): number {
    const n = chunk.length;
    if (this.nextLf < from) {
      const at = chunk.indexOf(LF, from);
      this.nextLf = at < 0 ? n : at;
    }
    if (this.nextNul < from) {
      const at = chunk.indexOf(NUL, from);
      this.nextNul = at < 0 ? n : at;
    }
    const at = Math.min(this.nextLf, this.nextNul);
    return at === n ? -1 : at;
  }

  /** Delivers the held bytes plus chunk[from, to), then forgets them. */
  private emit(chunk: Buffer, from: number, to: number, truncated: boolean, counted: boolean): void {
    let bytes: Buffer;
    if (this.partsBytes === 0) {
      bytes = chunk.subarray(from, to); // the whole message is in this chunk: no copy
    } else {
      this.append(chunk.subarray(from, to));
      bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsBytes);
      this.parts = [];
      this.partsBytes = 0;
    }
    if (bytes.length > this.maxMessageBytes) {
      // Only the digits of a would-be MSG-LEN can take a line past the limit, and only with a tiny limit.
      bytes = bytes.subarray(0, this.maxMessageBytes);
      truncated = true;
    }
    const text = decodeMessage(bytes, truncated, counted);
    if (text !== '' || truncated) this.sink(text, truncated);
  }
}

/**
 * Splits one UDP datagram into messages and hands each to `sink`. RFC 5426 carries one message per datagram,
 * but relays such as rsyslog may pack several LF-separated lines into one; NUL is accepted as a trailer too.
 */
export function splitDatagram(datagram: Buffer, maxMessageBytes: number, sink: MessageSink): void {
  const n = datagram.length;
  let from = 0;
  while (from < n) {
    let to = from;
    while (to < n) {
      const b = datagram[to]!;
      if (b === LF || b === NUL) break;
      to++;
    }
    const truncated = to - from > maxMessageBytes;
    const text = decodeMessage(datagram.subarray(from, truncated ? from + maxMessageBytes : to), truncated, false);
    if (text !== '' || truncated) sink(text, truncated);
    from = to + 1;
  }
}

/**
 * Decodes a message's bytes as UTF-8 (invalid sequences become U+FFFD, never an error). A cut message loses a
 * multi-byte character split by the cut rather than ending in a replacement character; a complete one loses its
 * trailer: a CR before the LF (CRLF senders), and for a counted frame any trailing CR, LF or NUL a sender included.
 */
function decodeMessage(bytes: Buffer, truncated: boolean, counted: boolean): string {
  let end = bytes.length;
  if (truncated) {
    end = utf8SafeEnd(bytes, end);
  } else if (counted) {
    while (end > 0 && (bytes[end - 1] === LF || bytes[end - 1] === CR || bytes[end - 1] === NUL)) end--;
  } else if (end > 0 && bytes[end - 1] === CR) {
    end--;
  }
  return bytes.toString('utf8', 0, end);
}

/** The end of `bytes[0, end)` moved back before a UTF-8 sequence that the cut left incomplete. */
export function utf8SafeEnd(bytes: Buffer, end: number): number {
  let lead = end - 1;
  while (lead >= 0 && end - lead <= 3 && (bytes[lead]! & 0xc0) === 0x80) lead--;
  if (lead < 0) return end;
  const b = bytes[lead]!;
  const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  return end - lead < length ? lead : end;
}
