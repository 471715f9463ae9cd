// Query-string and body helpers shared by the alert and incident routes.
import { VigilError } from '../../core/errors.js';
import { parseTime } from '../../core/time.js';

export function list<T extends string>(text: string | undefined, allowed: readonly T[], name: string): T[] | undefined {
  if (text === undefined || text === '') return undefined;
  const values = text.split(',').map((v) => v.trim());
  for (const v of values) if (!allowed.includes(v as T)) throw new VigilError('bad_request', `${name} must be among ${allowed.join(', ')}; got ${JSON.stringify(v.slice(0, 50))}`);
  return values as T[];
}

export function integer(text: string | undefined, name: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,7}$/.test(text)) throw new VigilError('bad_request', `${name} must be a whole number`);
  return Math.min(max, Number(text));
}

/** Drops absent keys, which zod reports as present-but-undefined. */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** `from`/`to` of a list request (ISO 8601, epoch ms or `now-24h`) in ms, for "active in this range". */
export function range(q: { from?: string; to?: string }, now: number): { from?: number; to?: number } {
  const out: { from?: number; to?: number } = {};
  if (q.from) out.from = parseTime(q.from, now, 'from');
  if (q.to) out.to = parseTime(q.to, now, 'to');
  if (out.from !== undefined && out.to !== undefined && out.from >= out.to) throw new VigilError('bad_request', '"from" must be before "to"');
  return out;
}
