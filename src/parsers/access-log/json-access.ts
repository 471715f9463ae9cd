// nginx access logs written as JSON (`log_format … escape=json '{"remote_addr":"$remote_addr",…}'`): the
// variables' names map to the same ECS fields as the text formats; other variables are kept under
// `<dataset>.<name>` (e.g. nginx.access.upstream_addr).
import { endpoint } from '../common/address.js';
import { clfTimestamp, isoFromMs, isoTimestamp } from '../common/time.js';
import type { ParsedFields } from '../types.js';
import { durationFromSeconds, setRequest, setStatus, setUrl } from './request.js';

/** True when a JSON object looks like an nginx access record: a client address and a request or status. */
export function isJsonAccessRecord(obj: Record<string, unknown>): boolean {
  return Object.hasOwn(obj, 'remote_addr') && (Object.hasOwn(obj, 'request') || Object.hasOwn(obj, 'status')
    || Object.hasOwn(obj, 'request_uri')) && !Object.hasOwn(obj, 'event');
}

/** A variable's value as text; nginx writes `-` or nothing for an unset variable. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length === 0 || value === '-' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function integer(value: unknown): number | undefined {
  const t = text(value);
  if (t === undefined || t.length > 15) return undefined;
  const n = Number(t);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

// nginx variables this module maps; the rest are kept as they are.
const MAPPED = new Set([
  'remote_addr', 'remote_user', 'time_local', 'time_iso8601', 'msec', 'request', 'request_method', 'request_uri',
  'server_protocol', 'status', 'body_bytes_sent', 'bytes_sent', 'request_length', 'request_time', 'http_referer',
  'http_user_agent', 'host', 'upstream_response_time',
]);

/** Maps one nginx JSON access record to ECS in `dataset`. */
export function mapJsonAccess(obj: Record<string, unknown>, dataset: string): ParsedFields {
  const fields: ParsedFields = { event: { dataset, category: ['web'], type: ['access'] } };
  const iso = text(obj['time_iso8601']);
  const local = text(obj['time_local']);
  const msec = text(obj['msec']);
  const timestamp = (iso !== undefined ? isoTimestamp(iso) : undefined)
    ?? (local !== undefined ? clfTimestamp(local) : undefined)
    ?? (msec !== undefined && Number.isFinite(Number(msec)) ? isoFromMs(Math.round(Number(msec) * 1000)) : undefined);
  if (timestamp !== undefined) fields['@timestamp'] = timestamp;

  const client = text(obj['remote_addr']);
  const source = client === undefined ? undefined : endpoint(client);
  if (source !== undefined) fields.source = source;
  const user = text(obj['remote_user']);
  if (user !== undefined) fields.user = { name: user };

  const request = text(obj['request']);
  if (request === undefined || !setRequest(fields, request)) {
    const method = text(obj['request_method']);
    const uri = text(obj['request_uri']);
    if (method !== undefined) fields.http = { ...fields.http, request: { ...fields.http?.request, method } };
    if (uri !== undefined) setUrl(fields, uri);
    const protocol = text(obj['server_protocol']);
    if (protocol !== undefined && protocol.startsWith('HTTP/')) fields.http = { ...fields.http, version: protocol.slice(5) };
  }
  const host = text(obj['host']);
  if (host !== undefined && fields.url !== undefined && fields.url.domain === undefined) fields.url.domain = host;

  const status = integer(obj['status']);
  if (status !== undefined) setStatus(fields, status);
  const http = (fields.http ??= {});
  const body = integer(obj['body_bytes_sent']);
  const sent = integer(obj['bytes_sent']);
  if (body !== undefined || sent !== undefined) {
    http.response = { ...http.response };
    if (body !== undefined) http.response.body = { bytes: body };
    if (sent !== undefined) http.response.bytes = sent;
  }
  const received = integer(obj['request_length']);
  if (received !== undefined) http.request = { ...http.request, bytes: received };
  const referrer = text(obj['http_referer']);
  if (referrer !== undefined) http.request = { ...http.request, referrer };
  const agent = text(obj['http_user_agent']);
  if (agent !== undefined) fields.user_agent = { original: agent };
  const requestTime = text(obj['request_time']);
  const duration = requestTime === undefined ? undefined : durationFromSeconds(requestTime);
  if (duration !== undefined) fields.event.duration = duration;

  // Everything else stays, under the dataset's namespace (`nginx.access.*`).
  const rest: Record<string, unknown> = {};
  let kept = 0;
  for (const key of Object.keys(obj)) {
    if (MAPPED.has(key) || key === '__proto__') continue;
    rest[key] = obj[key];
    kept++;
  }
  const upstream = text(obj['upstream_response_time']);
  if (upstream !== undefined) {
    const seconds = Number(upstream);
    rest['upstream_response_time'] = Number.isFinite(seconds) ? seconds : upstream;
    kept++;
  }
  if (kept > 0) {
    const dot = dataset.indexOf('.');
    const [module, set] = dot > 0 ? [dataset.slice(0, dot), dataset.slice(dot + 1)] : [dataset, 'access'];
    fields[module] = { [set]: rest };
  }
  return fields;
}
