// Timestamps as microseconds since the epoch, the precision DuckDB's TIMESTAMPTZ and ECS's `@timestamp` both carry.
// ISO 8601 / RFC 3339 §5.6 is read by hand so sub-millisecond digits survive (Date.parse keeps milliseconds only).

export const MICROS_PER_MS = 1000n;
export const MICROS_PER_DAY = 86_400_000_000n;

function digits(text: string, start: number, count: number): number {
  if (start + count > text.length) return -1;
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/**
 * `2024-05-01`, `2024-05-01T10:20:30Z`, `2024-05-01 10:20:30.123456+02:00` … to µs since the epoch.
 * A missing offset means UTC (Vigil stores UTC). Answers undefined for anything else.
 */
export function parseIsoMicros(text: string): bigint | undefined {
  const year = digits(text, 0, 4);
  if (year < 0 || text[4] !== '-') return undefined;
  const month = digits(text, 5, 2);
  if (month < 1 || month > 12 || text[7] !== '-') return undefined;
  const day = digits(text, 8, 2);
  if (day < 1 || day > 31) return undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let micros = 0;
  let offsetMinutes = 0;
  let i = 10;
  if (i < text.length) {
    const sep = text[i];
    if (sep !== 'T' && sep !== 't' && sep !== ' ') return undefined;
    hour = digits(text, i + 1, 2);
    if (hour < 0 || hour > 23 || text[i + 3] !== ':') return undefined;
    minute = digits(text, i + 4, 2);
    if (minute < 0 || minute > 59) return undefined;
    i += 6;
    if (text[i] === ':') {
      second = digits(text, i + 1, 2);
      if (second < 0 || second > 60) return undefined; // 60: a leap second, folded into the next minute
      i += 3;
      if (text[i] === '.' || text[i] === ',') {
        i++;
        let scale = 100000;
        const start = i;
        while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) {
          micros += (text.charCodeAt(i) - 48) * scale;
          scale = Math.floor(scale / 10);
          i++;
        }
        if (i === start) return undefined;
      }
    }
    if (i < text.length) {
      const z = text[i];
      if ((z === 'Z' || z === 'z') && i === text.length - 1) {
        i++;
      } else if (z === '+' || z === '-') {
        const oh = digits(text, i + 1, 2);
        let om: number;
        if (text[i + 3] === ':') {
          om = digits(text, i + 4, 2);
          if (i + 6 !== text.length) return undefined;
        } else {
          om = text.length === i + 3 ? 0 : digits(text, i + 3, 2);
          if (text.length !== i + 3 && text.length !== i + 5) return undefined;
        }
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
        offsetMinutes = (z === '-' ? -1 : 1) * (oh * 60 + om);
      } else {
        return undefined;
      }
    }
  }
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  // It rolls 2024-02-31 over into March; refuse that instead.
  if (date.getUTCDate() !== day) return undefined;
  const dayMs = date.getTime();
  const ms = dayMs + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000;
  return BigInt(ms) * MICROS_PER_MS + BigInt(micros);
}

/** True for a bare calendar date (`2024-05-01`), which a query reads as the whole UTC day. */
export function isDateOnly(text: string): boolean {
  return text.length === 10 && parseIsoMicros(text) !== undefined;
}

/** A time as users write it in a query or API: ISO 8601, or epoch milliseconds as digits. */
export function parseTimeMicros(text: string): bigint | undefined {
  const trimmed = text.trim();
  if (trimmed.length > 0 && trimmed.length <= 16 && /^-?\d+$/.test(trimmed)) return BigInt(trimmed) * MICROS_PER_MS;
  const iso = parseIsoMicros(trimmed);
  if (iso !== undefined) return iso;
  const ms = Date.parse(trimmed);
  return Number.isFinite(ms) ? BigInt(ms) * MICROS_PER_MS : undefined;
}

/** µs since the epoch to RFC 3339 UTC, with microseconds only when they are not zero. */
export function formatMicros(micros: bigint): string {
  const ms = micros / MICROS_PER_MS - (micros % MICROS_PER_MS < 0n ? 1n : 0n);
  const rest = Number(micros - ms * MICROS_PER_MS);
  const iso = new Date(Number(ms)).toISOString();
  if (rest === 0) return iso;
  return `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}
