// Common and combined access log lines (Apache `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`, nginx
// `combined`), optionally preceded by a virtual host (`vhost_combined`) and followed by timing fields: decimal
// seconds (nginx `$request_time`, then `$upstream_response_time`) or integer microseconds (Apache `%D`).
// A hand-written scanner, linear in the line length; field choices follow Filebeat's nginx/apache modules.
import { endpoint } from '../common/address.js';
import { clfTimestamp, digits, isoTimestamp } from '../common/time.js';
import type { ParsedFields } from '../types.js';
import { durationFromSeconds, setRequest, setStatus } from './request.js';

/** How far into a line the `[time]` may start: client, ident, user (and vhost) are short. */
const MAX_HEAD = 1024;
/** Timing fields read after the user agent; anything beyond is ignored. */
const MAX_EXTRA_TOKENS = 8;

/**
 * Index of the quote closing a quoted field whose content starts at `start`, or -1 when the line ends first
 * (a truncated line). Backslash escapes (`\"`, `\\`, as Apache writes them) are skipped. With `beforeStatus`
 * the quote must be followed by ` <digit>` or ` -` (the request is followed by the status), so a stray quote
 * inside a request does not end it early.
 */
function closingQuote(line: string, start: number, beforeStatus: boolean, escapes: boolean): number {
  const n = line.length;
  for (let i = start; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c === 92 /* \ */ && escapes) {
      i++;
      continue;
    }
    if (c !== 34 /* " */) continue;
    if (i + 1 === n) return i;
    if (line.charCodeAt(i + 1) !== 32) continue;
    if (!beforeStatus) return i;
    const after = line.charCodeAt(i + 2);
    if ((after >= 48 && after <= 57) || after === 45) return i;
  }
  return -1;
}

function tokenEnd(line: string, pos: number): number {
  const end = line.indexOf(' ', pos);
  return end < 0 ? line.length : end;
}

/** A numeric count of a CLF field: digits, or `-` for none. */
function count(text: string): number | undefined {
  if (text.length === 0 || text.length > 15) return undefined;
  const n = digits(text, 0, text.length);
  return n < 0 ? undefined : n;
}

function isDecimal(text: string): boolean {
  const dot = text.indexOf('.');
  return dot > 0 && dot < text.length - 1 && digits(text, 0, dot) >= 0 && digits(text, dot + 1, text.length) >= 0;
}

function readHead(line: string, bracket: number, fields: ParsedFields): boolean {
  const head = line.slice(0, bracket).split(' ');
  if (head.length < 3) return false;
  let client: string;
  let user: string;
  let vhost: string | undefined;
  if (head.length === 4 && endpoint(head[1]!)?.ip !== undefined) {
    // vhost_combined: `%v:%p %h %l %u`
    vhost = head[0]!;
    client = head[1]!;
    user = head[3]!;
  } else {
    client = head[0]!;
    // %u is the rest: a user name may hold spaces.
    user = head.length === 3 ? head[2]! : head.slice(2).join(' ');
  }
  if (client.length === 0 || client.indexOf('"') >= 0) return false;
  const source = endpoint(client);
  if (source !== undefined) fields.source = source;
  if (user.length > 0 && user !== '-') fields.user = { name: user };
  if (vhost !== undefined) {
    const colon = vhost.lastIndexOf(':');
    const port = colon > 0 ? count(vhost.slice(colon + 1)) : undefined;
    const destination: NonNullable<ParsedFields['destination']> = { domain: port !== undefined ? vhost.slice(0, colon) : vhost };
    if (port !== undefined && port <= 65535) destination.port = port;
    fields.destination = destination;
  }
  return true;
}

/** The trailing timing fields: the first decimal is the request time, the second the upstream time. */
function readExtras(line: string, pos: number, fields: ParsedFields): void {
  let decimals = 0;
  for (let t = 0; t < MAX_EXTRA_TOKENS && pos < line.length; t++) {
    while (line.charCodeAt(pos) === 32) pos++;
    if (pos >= line.length) return;
    if (line.charCodeAt(pos) === 34) {
      const close = closingQuote(line, pos + 1, false, true);
      if (close < 0) return;
      pos = close + 1;
      continue;
    }
    const end = tokenEnd(line, pos);
    const token = line.slice(pos, end);
    pos = end;
    if (isDecimal(token)) {
      const ns = durationFromSeconds(token);
      if (decimals === 0 && ns !== undefined && fields.event.duration === undefined) {
        fields.event.duration = ns;
      } else if (decimals === 1) {
        const upstream = Number(token);
        if (Number.isFinite(upstream)) fields['nginx'] = { access: { upstream_response_time: upstream } };
      }
      decimals++;
    } else if (token === '-') {
      decimals++;
    } else if (fields.event.duration === undefined) {
      // Apache %D: microseconds, a bare integer.
      const us = count(token);
      if (us !== undefined) fields.event.duration = us * 1000;
    }
  }
}

/** Parses a common/combined access log line into `dataset`, or returns undefined when it is not one. */
export function parseClf(line: string, dataset: string): ParsedFields | undefined {
  const bracket = line.indexOf(' [');
  if (bracket <= 0 || bracket > MAX_HEAD) return undefined;
  const timeEnd = line.indexOf(']', bracket + 2);
  if (timeEnd < 0 || timeEnd - bracket > 40) return undefined;
  const timeText = line.slice(bracket + 2, timeEnd);
  const timestamp = clfTimestamp(timeText) ?? isoTimestamp(timeText);
  if (timestamp === undefined) return undefined;
  if (line.charCodeAt(timeEnd + 1) !== 32 || line.charCodeAt(timeEnd + 2) !== 34) return undefined;

  const fields: ParsedFields = {
    '@timestamp': timestamp,
    event: { dataset, category: ['web'], type: ['access'] },
  };
  if (!readHead(line, bracket, fields)) return undefined;

  const requestStart = timeEnd + 3;
  let requestEnd = closingQuote(line, requestStart, true, true);
  if (requestEnd < 0) requestEnd = closingQuote(line, requestStart, true, false);
  if (requestEnd < 0) {
    // Truncated inside the request: keep what there is.
    setRequest(fields, line.slice(requestStart));
    return fields;
  }
  setRequest(fields, line.slice(requestStart, requestEnd));

  let pos = requestEnd + 2;
  let end = tokenEnd(line, pos);
  const status = count(line.slice(pos, end));
  if (status !== undefined) setStatus(fields, status);
  if (end >= line.length) return fields;
  pos = end + 1;
  end = tokenEnd(line, pos);
  const bytes = count(line.slice(pos, end));
  if (bytes !== undefined) ((fields.http ??= {}).response ??= {}).body = { bytes };
  if (end >= line.length) return fields;

  // Combined format: "referrer" "user agent", each possibly cut short by a truncated line.
  pos = end + 1;
  if (line.charCodeAt(pos) !== 34) {
    readExtras(line, pos, fields);
    return fields;
  }
  let close = closingQuote(line, pos + 1, false, true);
  const referrer = line.slice(pos + 1, close < 0 ? line.length : close);
  if (referrer.length > 0 && referrer !== '-') ((fields.http ??= {}).request ??= {}).referrer = referrer;
  if (close < 0 || close + 2 >= line.length) return fields;
  pos = close + 2;
  if (line.charCodeAt(pos) !== 34) {
    readExtras(line, pos, fields);
    return fields;
  }
  close = closingQuote(line, pos + 1, false, true);
  const agent = line.slice(pos + 1, close < 0 ? line.length : close);
  if (agent.length > 0 && agent !== '-') fields.user_agent = { original: agent };
  if (close >= 0) readExtras(line, close + 1, fields);
  return fields;
}
