// Time expressions users type: ISO 8601, epoch milliseconds, and Elasticsearch-style date math (`now-15m`, `now-7d`).
import { VigilError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  M: 30 * 86_400_000,
  y: 365 * 86_400_000,
};

const RELATIVE = /^now(?:([+-])(\d{1,9})(ms|s|m|h|d|w|M|y))?$/;
const DURATION = /^(\d{1,9})(ms|s|m|h|d|w|M|y)$/;

/** Parses `now`, `now-15m`, an ISO 8601 date or epoch milliseconds into ms since the epoch. */
export function parseTime(text: string, now: number, name = 'time'): number {
  const trimmed = text.trim();
  const rel = RELATIVE.exec(trimmed);
  if (rel) {
    if (rel[1] === undefined) return now;
    const delta = Number(rel[2]) * UNIT_MS[rel[3]!]!;
    return rel[1] === '-' ? now - delta : now + delta;
  }
  if (/^\d{10,16}$/.test(trimmed)) return Number(trimmed);
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) {
    throw new VigilError('bad_request', `${name} "${text.slice(0, 64)}" is not a time: use ISO 8601 (2024-05-01T12:00:00Z), epoch milliseconds, or now-15m / now-24h / now-7d`);
  }
  return ms;
}

/** Parses a duration such as `30s`, `5m`, `1h` or a number of milliseconds. */
export function parseDuration(text: string, name = 'duration'): number {
  const trimmed = text.trim();
  if (/^\d{1,12}$/.test(trimmed)) return Number(trimmed);
  const m = DURATION.exec(trimmed);
  if (!m) throw new VigilError('bad_request', `${name} "${text.slice(0, 32)}" is not a duration: use 30s, 5m, 1h, 1d or milliseconds`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
