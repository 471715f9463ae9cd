// The HTTP parts of an access log entry shared by the text and JSON forms: the request line
// (`GET /a?b=1 HTTP/1.1`) to http.request.method / url.* / http.version, and durations to event.duration.
import type { ParsedFields } from '../types.js';

/** RFC 9110 §5.6.2 token characters, which an HTTP method is made of. */
function isTokenChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
    || c === 45 || c === 95 || c === 46 || c === 33 || c === 35 || c === 36 || c === 37 || c === 38
    || c === 39 || c === 42 || c === 43 || c === 94 || c === 96 || c === 124 || c === 126;
}

/** Longest method accepted: longer "methods" are garbage (a TLS handshake on a plain port, a probe). */
const MAX_METHOD = 32;

/**
 * Sets url.original/path/query (and url.scheme/domain/port for absolute-form targets) from a request target.
 * The target is kept as logged, escapes and all (Apache writes non-printable bytes as `\xNN`).
 */
export function setUrl(fields: ParsedFields, target: string): void {
  const url: NonNullable<ParsedFields['url']> = { original: target };
  let pathStart = -1;
  if (target.charCodeAt(0) === 47 /* / */) {
    pathStart = 0;
  } else if (target.startsWith('http://') || target.startsWith('https://')) {
    // Absolute form (proxies, scanners): RFC 9112 §3.2.2.
    const schemeEnd = target.indexOf('://');
    url['scheme'] = target.slice(0, schemeEnd);
    const authorityStart = schemeEnd + 3;
    let authorityEnd = authorityStart;
    while (authorityEnd < target.length) {
      const c = target.charCodeAt(authorityEnd);
      if (c === 47 || c === 63 || c === 35) break;
      authorityEnd++;
    }
    let host = target.slice(authorityStart, authorityEnd);
    const at = host.lastIndexOf('@');
    if (at >= 0) host = host.slice(at + 1);
    const colon = host.lastIndexOf(':');
    if (colon > 0 && host.indexOf(']') < colon) {
      const port = Number(host.slice(colon + 1));
      if (Number.isInteger(port) && port >= 0 && port <= 65535 && colon + 1 < host.length) url['port'] = port;
      host = host.slice(0, colon);
    }
    if (host.length > 0) url.domain = host;
    pathStart = authorityEnd < target.length ? authorityEnd : -1;
    if (pathStart < 0) url.path = '/';
  }
  if (pathStart >= 0) {
    const q = target.indexOf('?', pathStart);
    if (q < 0) {
      url.path = target.slice(pathStart);
    } else {
      url.path = q === pathStart ? '/' : target.slice(pathStart, q);
      url.query = target.slice(q + 1);
    }
  }
  fields.url = url;
}

/**
 * Reads a request line into method, URL and version. Returns false (and sets nothing) when it is not one:
 * `-`, an empty request, or bytes of another protocol (`\x16\x03\x01…`).
 */
export function setRequest(fields: ParsedFields, request: string): boolean {
  const n = request.length;
  let i = 0;
  while (i < n && i <= MAX_METHOD && isTokenChar(request.charCodeAt(i))) i++;
  if (i === 0 || i > MAX_METHOD || i >= n || request.charCodeAt(i) !== 32) return false;
  const method = request.slice(0, i);
  let targetEnd = n;
  let version: string | undefined;
  const lastSpace = request.lastIndexOf(' ');
  if (lastSpace > i && request.startsWith('HTTP/', lastSpace + 1)) {
    version = request.slice(lastSpace + 6);
    targetEnd = lastSpace;
  }
  const target = request.slice(i + 1, targetEnd);
  const http = (fields.http ??= {});
  (http.request ??= {}).method = method;
  if (version !== undefined && version.length > 0) http.version = version;
  // `GET  HTTP/1.1` (an empty target, as scanners send) still names a method.
  if (target.length > 0) setUrl(fields, target);
  return true;
}

/** Sets http.response.status_code and event.outcome (failure for 4xx/5xx, as Filebeat's nginx/apache modules). */
export function setStatus(fields: ParsedFields, status: number): void {
  if (!Number.isInteger(status) || status < 100 || status > 999) return;
  ((fields.http ??= {}).response ??= {}).status_code = status;
  fields.event.outcome = status >= 400 ? 'failure' : 'success';
}

/** event.duration (nanoseconds, ECS) from seconds with a fraction, as nginx `$request_time` logs them. */
export function durationFromSeconds(text: string): number | undefined {
  if (text.length === 0 || text.length > 16) return undefined;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  return Math.round(seconds * 1e9);
}
