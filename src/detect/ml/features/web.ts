// Per-event features of a web request (access logs: nginx.access, apache.access): response time, status class,
// bytes, URL length, query parameters, the query's character classes and entropy, and the method.
import type { EcsEvent } from '../../../core/event.js';
import type { WebFeature } from '../../../config/ml.js';
import { field, numberField } from './read.js';

/** Methods by how common they are, so that rare ones sit at the end of the range the forest splits. */
const METHOD_CODES: Record<string, number> = { GET: 0, HEAD: 1, POST: 2, PUT: 3, DELETE: 4, OPTIONS: 5, PATCH: 6 };
const OTHER_METHOD = 7;

function query(event: EcsEvent): string {
  const q = field(event, 'url.query');
  if (typeof q === 'string') return q;
  const original = field(event, 'url.original');
  if (typeof original === 'string') {
    const at = original.indexOf('?');
    if (at >= 0) return original.slice(at + 1);
  }
  return '';
}

interface CharClasses {
  letters: number;
  digits: number;
  special: number;
}

function classes(text: string): CharClasses {
  let letters = 0;
  let digits = 0;
  let special = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letters++;
    else if (c >= 48 && c <= 57) digits++;
    else special++;
  }
  return { letters, digits, special };
}

/** Shannon entropy of the text's characters, in bits per character (0 for empty text). */
export function entropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    h -= p * Math.log2(p);
  }
  return h;
}

type WebFn = (event: EcsEvent) => number | undefined;

export const WEB_FEATURE_FNS: Record<WebFeature, WebFn> = {
  /** event.duration is in nanoseconds (ECS). */
  response_time_ms: (e) => {
    const ns = numberField(e, 'event.duration');
    return ns === undefined ? undefined : ns / 1e6;
  },
  status_class: (e) => {
    const status = numberField(e, 'http.response.status_code');
    return status === undefined ? undefined : Math.floor(status / 100);
  },
  response_bytes: (e) => numberField(e, 'http.response.body.bytes') ?? numberField(e, 'http.response.bytes'),
  url_length: (e) => {
    const original = field(e, 'url.original');
    if (typeof original === 'string') return original.length;
    const path = field(e, 'url.path');
    if (typeof path !== 'string') return undefined;
    const q = query(e);
    return path.length + (q.length > 0 ? q.length + 1 : 0);
  },
  query_params: (e) => {
    const q = query(e);
    if (q.length === 0) return 0;
    let n = 0;
    for (const part of q.split('&')) if (part.length > 0) n++;
    return n;
  },
  query_letters: (e) => {
    const q = query(e);
    return q.length === 0 ? 0 : classes(q).letters / q.length;
  },
  query_digits: (e) => {
    const q = query(e);
    return q.length === 0 ? 0 : classes(q).digits / q.length;
  },
  query_special: (e) => {
    const q = query(e);
    return q.length === 0 ? 0 : classes(q).special / q.length;
  },
  /** Percent-encoded bytes (%XX) in the whole target: encoded quotes, spaces and slashes are an injection's tools. */
  query_encoded: (e) => {
    const original = field(e, 'url.original');
    const text = typeof original === 'string' ? original : query(e);
    const found = text.match(/%[0-9A-Fa-f]{2}/g);
    return found ? found.length : 0;
  },
  query_entropy: (e) => entropy(query(e)),
  method: (e) => {
    const m = field(e, 'http.request.method');
    if (typeof m !== 'string' || m.length === 0) return undefined;
    return METHOD_CODES[m.toUpperCase()] ?? OTHER_METHOD;
  },
};
