// Syslog framing: RFC 3164 (BSD syslog, with or without <PRI>, as in /var/log/auth.log), RFC 3164 headers with
// ISO 8601 timestamps (rsyslog's RSYSLOG_FileFormat / ForwardFormat) and RFC 5424. The message then goes to the
// parser of its program (see ./programs.ts); other lines get `event.dataset: syslog`.
// Year-less timestamps and timestamps without a zone are read as UTC: the line does not say otherwise.
import type { ParseContext, ParsedFields, Parser } from '../types.js';
import { digits, fractionMs, isoFromMs, isoTimestamp, monthIndex, offsetMinutes, utcMs, yearlessMs } from '../common/time.js';
import { prepareLine } from '../common/line.js';
import { parseProgramMessage } from './programs.js';

// RFC 5424 §6.2.1 facility keywords (codes 0-23) and RFC 5424 table 2 severities, as Filebeat names them.
const FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp',
  'ntp', 'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5',
  'local6', 'local7',
];
const SEVERITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'];

// `Mmm dd[ yyyy] hh:mm:ss[.frac]`: day space-padded (`Mar  7`), single-spaced (`Feb 7`) or zero-padded (`Jul 05`).
const BSD_TIME = /([A-Za-z]{3}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?: +|$)/y;
// RFC 3339 as rsyslog writes it (`2015-04-16T18:02:50.321974+00:00`); RFC 5424 uses the same form.
const ISO_TIME = /(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|z|[+-]\d{2}:?\d{2})?(?: +|$)/y;
// Solaris prefixes messages with their message id and facility.level: `[ID 800047 auth.info] `.
const SOLARIS_ID = /^\[ID \d{1,10} [a-z0-9]{1,12}\.[a-z]{1,8}\] /;

/** Longest program name accepted as a syslog tag (RFC 3164 allows 32; real ones are longer, e.g. D-Bus names). */
const MAX_TAG = 128;

/** Sets `log.syslog.{priority,facility,severity}` and `log.level` from a PRI value (facility × 8 + severity). */
export function priorityFields(fields: ParsedFields, pri: number): void {
  const facility = pri >> 3;
  const severity = pri & 7;
  const syslog = logSyslog(fields);
  syslog.priority = pri;
  syslog.facility = { code: facility, name: FACILITIES[facility] ?? String(facility) };
  syslog.severity = { code: severity, name: SEVERITIES[severity]! };
  (fields.log ??= {}).level = SEVERITIES[severity]!;
}

type SyslogFields = NonNullable<NonNullable<ParsedFields['log']>['syslog']>;

function logSyslog(fields: ParsedFields): SyslogFields {
  const log = (fields.log ??= {});
  return (log.syslog ??= {});
}

function setHost(fields: ParsedFields, name: string): void {
  fields.host = { hostname: name, name };
}

/** `<PRI>` at the start of a line: the priority (0-191) and where the header starts, or undefined. */
function readPri(line: string): { pri: number; next: number } | undefined {
  if (line.charCodeAt(0) !== 60 /* < */) return undefined;
  let pri = 0;
  let i = 1;
  for (; i < 5 && i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 62 /* > */) break;
    if (c < 48 || c > 57) return undefined;
    pri = pri * 10 + (c - 48);
  }
  if (i === 1 || line.charCodeAt(i) !== 62 || pri > 191) return undefined;
  return { pri, next: i + 1 };
}

/**
 * Reads the RFC 3164 TAG (`sshd[123]: `, `sudo: `, `postfix/smtpd[9]: `) at `pos`: sets process.name/pid
 * and returns where the message starts, or -1 when there is no tag. `bracketed` also accepts `[sshd]: `,
 * which some syslog-ng setups write in place of the hostname.
 */
function readTag(line: string, pos: number, fields: ParsedFields, bracketed: boolean): number {
  const n = line.length;
  let i = pos;
  let name: string;
  let pid: string | undefined;
  if (line.charCodeAt(i) === 91 /* [ */) {
    if (!bracketed) return -1;
    // A bracketed program name without pid (`[sshd]: msg`, `[sshd] msg`), seen in some syslog-ng setups.
    const close = line.indexOf(']', i + 1);
    if (close < 0 || close - i - 1 > MAX_TAG || close === i + 1) return -1;
    name = line.slice(i + 1, close);
    if (name.indexOf(' ') >= 0) return -1;
    i = close + 1;
    if (line.charCodeAt(i) === 58 /* : */) i++;
  } else {
    const limit = Math.min(n, pos + MAX_TAG);
    while (i < limit) {
      const c = line.charCodeAt(i);
      if (c === 32 || c === 91 || c === 58) break;
      i++;
    }
    if (i === pos || i >= n) return -1;
    name = line.slice(pos, i);
    const c = line.charCodeAt(i);
    if (c === 91) {
      const close = line.indexOf(']', i + 1);
      if (close < 0 || close - i > 24) return -1;
      pid = line.slice(i + 1, close);
      i = close + 1;
      if (line.charCodeAt(i) === 58) i++;
    } else if (c === 58) {
      i++;
    } else {
      return -1;
    }
  }
  // The tag must end the token: `name: msg`, `name[1]: msg`, or the end of the line.
  if (i < n && line.charCodeAt(i) !== 32) return -1;
  const process: NonNullable<ParsedFields['process']> = { name };
  const syslog = logSyslog(fields);
  syslog.appname = name;
  if (pid !== undefined && pid.length > 0) {
    syslog.procid = pid;
    const num = pidOf(pid);
    if (num !== undefined) process.pid = num;
  }
  fields.process = process;
  return i < n ? i + 1 : n;
}

function skipSpaces(line: string, pos: number): number {
  while (line.charCodeAt(pos) === 32) pos++;
  return pos;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isVersion(line: string, pos: number): boolean {
  const c = line.charCodeAt(pos);
  if (c < 49 || c > 57) return false;
  const next = line.charCodeAt(pos + 1);
  return next === 32 || (isDigit(next) && line.charCodeAt(pos + 2) === 32);
}

/** Process id of a syslog PROCID / `[pid]`: decimal digits only. */
function pidOf(text: string): number | undefined {
  if (text.length === 0 || text.length > 10) return undefined;
  const n = digits(text, 0, text.length);
  return n < 0 ? undefined : n;
}

/** RFC 3164 header after the optional PRI: timestamp, optional hostname, optional tag. */
function parse3164(line: string, start: number, ctx: ParseContext, fields: ParsedFields): boolean {
  let pos = start;
  BSD_TIME.lastIndex = pos;
  const bsd = BSD_TIME.exec(line);
  if (bsd !== null) {
    const month = monthIndex(bsd[1]!);
    if (month < 0) return false;
    const day = Number(bsd[2]);
    const hour = Number(bsd[4]);
    const minute = Number(bsd[5]);
    const second = Number(bsd[6]);
    const ms = fractionMs(bsd[7]);
    const t = bsd[3] !== undefined
      ? utcMs(Number(bsd[3]), month, day, hour, minute, second, ms, 0)
      : yearlessMs(month, day, hour, minute, second, ms, ctx);
    if (!Number.isNaN(t)) fields['@timestamp'] = isoFromMs(t);
    pos = BSD_TIME.lastIndex;
  } else {
    ISO_TIME.lastIndex = pos;
    const iso = ISO_TIME.exec(line);
    if (iso === null) return false;
    const t = utcMs(
      Number(iso[1]), Number(iso[2]) - 1, Number(iso[3]), Number(iso[4]), Number(iso[5]), Number(iso[6]),
      fractionMs(iso[7]), offsetMinutes(iso[8]),
    );
    if (!Number.isNaN(t)) fields['@timestamp'] = isoFromMs(t);
    pos = ISO_TIME.lastIndex;
  }

  // Hostname, unless the token after the time is already the tag (`Nov 23 21:50:19 sshd[8148]: …`).
  let msgStart = readTag(line, pos, fields, true);
  if (msgStart < 0) {
    let end = line.indexOf(' ', pos);
    if (end < 0) end = line.length;
    if (end > pos) {
      setHost(fields, line.slice(pos, end));
      pos = skipSpaces(line, end);
      msgStart = readTag(line, pos, fields, false);
      if (msgStart < 0) msgStart = pos;
    } else {
      msgStart = pos;
    }
  }
  let message = line.slice(skipSpaces(line, msgStart));
  if (message.charCodeAt(0) === 91 && message.startsWith('[ID ')) {
    const id = SOLARIS_ID.exec(message);
    if (id !== null) message = message.slice(id[0].length);
  }
  fields.message = message;
  return true;
}

/** Reads an RFC 5424 header field (space-terminated); `-` is the nil value. */
function token(line: string, pos: number): { value: string | undefined; next: number } | undefined {
  const end = line.indexOf(' ', pos);
  const stop = end < 0 ? line.length : end;
  if (stop === pos) return undefined;
  const text = line.slice(pos, stop);
  return { value: text === '-' ? undefined : text, next: end < 0 ? line.length : end + 1 };
}

/**
 * RFC 5424 §6.3 STRUCTURED-DATA at `pos`: `[id param="value" …]…`, with `\"`, `\\` and `\]` escaped in values.
 * Returns the elements and where the data ends, or undefined when malformed.
 */
function readStructuredData(
  line: string, pos: number,
): { data: Record<string, Record<string, string>>; next: number } | undefined {
  const data: Record<string, Record<string, string>> = {};
  const n = line.length;
  let i = pos;
  while (i < n && line.charCodeAt(i) === 91 /* [ */) {
    let j = i + 1;
    while (j < n) {
      const c = line.charCodeAt(j);
      if (c === 32 || c === 93 || c === 61 || c === 34) break;
      j++;
    }
    if (j === i + 1 || j >= n) return undefined;
    const id = line.slice(i + 1, j);
    const params: Record<string, string> = Object.hasOwn(data, id) ? data[id]! : {};
    i = j;
    while (i < n && line.charCodeAt(i) === 32) {
      const eq = line.indexOf('=', i + 1);
      if (eq < 0 || line.charCodeAt(eq + 1) !== 34) return undefined;
      const name = line.slice(i + 1, eq);
      if (name.length === 0 || name.length > 32 || name.indexOf(' ') >= 0) return undefined;
      let k = eq + 2;
      let value = '';
      let chunk = k;
      for (; k < n; k++) {
        const c = line.charCodeAt(k);
        if (c === 92 /* \ */) {
          const next = line.charCodeAt(k + 1);
          if (next === 34 || next === 92 || next === 93) {
            value += line.slice(chunk, k);
            chunk = k + 1;
            k++;
          }
        } else if (c === 34) {
          break;
        }
      }
      if (k >= n) return undefined;
      value += line.slice(chunk, k);
      if (name !== '__proto__') params[name] = value;
      i = k + 1;
    }
    if (line.charCodeAt(i) !== 93 /* ] */) return undefined;
    if (id !== '__proto__') data[id] = params;
    i++;
  }
  return { data, next: i };
}

/** RFC 5424 §6: `<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`. */
function parse5424(line: string, start: number, fields: ParsedFields): boolean {
  const space = line.indexOf(' ', start);
  if (space < 0 || space - start > 2) return false;
  const version = line.slice(start, space);
  const ts = token(line, space + 1);
  if (ts === undefined) return false;
  if (ts.value !== undefined) {
    const iso = isoTimestamp(ts.value);
    if (iso === undefined) return false;
    fields['@timestamp'] = iso;
  }
  const host = token(line, ts.next);
  const app = host && token(line, host.next);
  const procid = app && token(line, app.next);
  const msgid = procid && token(line, procid.next);
  if (host === undefined || app === undefined || procid === undefined || msgid === undefined) return false;
  const syslog = logSyslog(fields);
  syslog.version = version;
  if (host.value !== undefined) setHost(fields, host.value);
  if (app.value !== undefined || procid.value !== undefined) {
    const process: NonNullable<ParsedFields['process']> = {};
    if (app.value !== undefined) {
      process.name = app.value;
      syslog.appname = app.value;
    }
    if (procid.value !== undefined) {
      syslog.procid = procid.value;
      const num = pidOf(procid.value);
      if (num !== undefined) process.pid = num;
    }
    fields.process = process;
  }
  if (msgid.value !== undefined) syslog.msgid = msgid.value;

  let pos = msgid.next;
  if (line.charCodeAt(pos) === 45 /* - */) {
    pos++;
  } else if (line.charCodeAt(pos) === 91) {
    const sd = readStructuredData(line, pos);
    // Malformed structured data is kept as part of the message rather than losing the line.
    if (sd !== undefined) {
      syslog.structured_data = sd.data;
      pos = sd.next;
    }
  }
  if (line.charCodeAt(pos) === 32) pos++;
  // RFC 5424 §6.4: a UTF-8 MSG may start with a byte order mark.
  if (line.charCodeAt(pos) === 0xfeff) pos++;
  fields.message = line.slice(pos);
  return true;
}

/**
 * Frames one syslog line: header fields plus `message`, then the program's parser. Returns undefined when
 * the line is not syslog. `event.dataset` is `syslog` unless a program parser claims the message.
 */
export function parseSyslog(line: string, ctx: ParseContext): ParsedFields | undefined {
  const fields: ParsedFields = { event: { dataset: 'syslog' } };
  const pri = readPri(line);
  let start = 0;
  if (pri !== undefined) {
    start = pri.next;
    // RFC 5424: a version number (1-2 digits, not 0) follows the PRI directly (`<38>1 2019-…`).
    if (isVersion(line, start)) {
      if (!parse5424(line, start, fields)) return undefined;
      priorityFields(fields, pri.pri);
      parseProgramMessage(fields);
      return fields;
    }
  }
  if (!parse3164(line, start, ctx, fields)) return undefined;
  if (pri !== undefined) priorityFields(fields, pri.pri);
  parseProgramMessage(fields);
  return fields;
}

/** The `syslog` format: any syslog line; auth programs get their own datasets. */
export const syslogParser: Parser = {
  name: 'syslog',
  parse(line, ctx) {
    try {
      return parseSyslog(prepareLine(line), ctx);
    } catch {
      // Defensive: a parser bug must cost one line, not the pipeline.
      return undefined;
    }
  },
};
