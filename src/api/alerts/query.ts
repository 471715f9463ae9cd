// Query-string and body helpers shared by the alert and incident routes.
import { VigilError } from '../../core/errors.js';

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
