// Reading events for features: numbers from fields that may hold strings, event time, and compiled field filters.
import type { EcsEvent } from '../../../core/event.js';
import { getField } from '../../../core/event.js';
import type { FieldFilter } from '../../../config/ml.js';

export function field(event: EcsEvent, path: string): unknown {
  return getField(event as unknown as Record<string, unknown>, path);
}

/** A finite number from a number or a numeric string; undefined otherwise (absent, text, NaN, infinite). */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function numberField(event: EcsEvent, path: string): number | undefined {
  return toNumber(field(event, path));
}

/** Event time in ms, or undefined when `@timestamp` is missing or not a date. */
export function eventTime(event: EcsEvent): number | undefined {
  const ts = event['@timestamp'];
  if (typeof ts !== 'string') return undefined;
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A field's value as text for distinct counts and entity keys (arrays: their first element). */
export function textField(event: EcsEvent, path: string): string | undefined {
  let v = field(event, path);
  if (Array.isArray(v)) v = v[0];
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export type EventPredicate = (event: EcsEvent) => boolean;

function equalsValue(value: unknown, wanted: ReadonlySet<string>): boolean {
  if (Array.isArray(value)) return value.some((v) => equalsValue(v, wanted));
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return wanted.has(String(value));
  return false;
}

/** Compiles filters (all must hold) into one predicate, once, at load time. */
export function compileFilters(filters: readonly FieldFilter[] | undefined): EventPredicate {
  if (!filters || filters.length === 0) return () => true;
  const checks = filters.map((f): EventPredicate => {
    const wanted = f.equals === undefined ? undefined : new Set((Array.isArray(f.equals) ? f.equals : [f.equals]).map(String));
    return (event) => {
      const value = field(event, f.field);
      if (f.exists !== undefined && (value !== undefined && value !== null) !== f.exists) return false;
      if (wanted && !equalsValue(value, wanted)) return false;
      if (f.min !== undefined || f.max !== undefined) {
        const n = toNumber(value);
        if (n === undefined) return false;
        if (f.min !== undefined && n < f.min) return false;
        if (f.max !== undefined && n >= f.max) return false;
      }
      return true;
    };
  });
  return (event) => {
    for (const check of checks) if (!check(event)) return false;
    return true;
  };
}

/** Selects events by dataset (any of `datasets`, or all when empty) and filters. */
export function compileSelection(datasets: readonly string[] | undefined, filters: readonly FieldFilter[] | undefined): EventPredicate {
  const wanted = datasets && datasets.length > 0 ? new Set(datasets) : undefined;
  const match = compileFilters(filters);
  return (event) => (wanted === undefined || wanted.has(event.event?.dataset)) && match(event);
}
