// Formatting for people: numbers, bytes, times, durations; and the one place where event data may become a link.
export function num(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function pct(n: number): string {
  return `${Math.round(n * 100)}%`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local time, to the millisecond: log lines are read at that precision. */
export function time(iso: string | undefined, withMs = false): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}

export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '–';
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '–';
  const s = Math.round(ms / 1000);
  if (s < 0) return 'in the future';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function label(text: string): string {
  return text.replace(/_/g, ' ');
}

/**
 * An href for a URL found in event data, or undefined when it is not plain http(s): `javascript:`, `data:` and
 * every other scheme stay text. (The CSP would block a javascript: URL anyway; this keeps it from being a link.)
 */
export function safeHref(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a dotted ECS field from a document (nested objects, or a flattened key). */
export function field(doc: Record<string, unknown>, path: string): unknown {
  if (path in doc) return doc[path];
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Every leaf of a document as [dotted name, value], sorted by name. */
export function flatten(doc: Record<string, unknown>, prefix = '', out: [string, unknown][] = []): [string, unknown][] {
  for (const [k, v] of Object.entries(doc)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, name, out);
    else out.push([name, v]);
  }
  if (!prefix) out.sort((a, b) => a[0].localeCompare(b[0]));
  return out;
}

export function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(show).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A query term matching a value exactly: quoted, with `"` and `\` escaped as the query language expects. */
export function term(fieldName: string, value: unknown): string {
  return `${fieldName}:"${show(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Combines the page's query with the host filter. */
export function effectiveQuery(q: string | null, host: string | null): string {
  const parts: string[] = [];
  if (q && q.trim()) parts.push(host ? `(${q.trim()})` : q.trim());
  if (host) parts.push(term('host.name', host));
  return parts.join(' AND ');
}
