// Timestamp helpers shared by the parsers: syslog's year-less dates, the access log's [dd/Mon/yyyy:hh:mm:ss +zzzz],
// and ISO 8601. Every result is normalised to an ISO 8601 UTC string (`Date.prototype.toISOString`).
import type { ParseContext } from '../types.js';

const DAY_MS = 86_400_000;

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
// Both the usual `Jan` and lower case; other spellings (`JAN`) take the slower lower-casing path.
const MONTHS: ReadonlyMap<string, number> = new Map(
  MONTH_NAMES.flatMap((m, i) => [[m, i], [m[0]!.toUpperCase() + m.slice(1), i]] as Array<[string, number]>),
);

/** Month index (0-11) of a three-letter English month name in any case, or -1. */
export function monthIndex(name: string): number {
  if (name.length !== 3) return -1;
  return MONTHS.get(name) ?? MONTHS.get(name.toLowerCase()) ?? -1;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(year: number, month: number, day: number): boolean {
  if (month < 0 || month > 11 || day < 1) return false;
  if (month === 1 && day === 29) return isLeap(year);
  return day <= DAYS_IN_MONTH[month]!;
}

function validTime(hour: number, minute: number, second: number): boolean {
  // 60 is allowed for a leap second; Date.UTC rolls it into the next minute.
  return hour <= 23 && minute <= 59 && second <= 60;
}

// Consecutive lines usually share their second (one-entry cache) and their day (the cached date prefix), and
// Date.prototype.toISOString is the costly part of a timestamp.
let lastMs = Number.NaN;
let lastIso = '';
let dayStart = Number.NaN;
let dayPrefix = '';
/** 9999-12-31T23:59:59.999Z: beyond it toISOString writes six-digit years, which the fast path does not. */
const MAX_FAST_MS = 253_402_300_799_999;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}

/** ISO 8601 (UTC, millisecond precision) of an epoch time in ms, exactly as `Date.prototype.toISOString`. */
export function isoFromMs(ms: number): string {
  if (ms === lastMs) return lastIso;
  let iso: string;
  if (Number.isInteger(ms) && ms >= 0 && ms <= MAX_FAST_MS) {
    const day = ms - (ms % DAY_MS);
    if (day !== dayStart) {
      dayStart = day;
      dayPrefix = new Date(day).toISOString().slice(0, 11);
    }
    let rest = ms - day;
    const hours = Math.floor(rest / 3_600_000);
    rest -= hours * 3_600_000;
    const minutes = Math.floor(rest / 60_000);
    rest -= minutes * 60_000;
    const seconds = Math.floor(rest / 1000);
    iso = `${dayPrefix}${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${pad3(rest - seconds * 1000)}Z`;
  } else {
    iso = new Date(ms).toISOString();
  }
  lastMs = ms;
  lastIso = iso;
  return iso;
}

/** Milliseconds from a fraction-of-second digit string (`"321974"` → 321). */
export function fractionMs(digits: string | undefined): number {
  if (digits === undefined || digits.length === 0) return 0;
  if (digits.length >= 3) return Number(digits.slice(0, 3));
  return Number(digits) * (digits.length === 1 ? 100 : 10);
}

/**
 * Time of a year-less RFC 3164 timestamp (`Mar  7 18:53:20`), read as UTC since the line names no zone.
 * The year is `ctx.year` when forced, else the latest year that does not put the time more than a day
 * after `ctx.now` (so December lines read in January land in the previous year).
 * Returns NaN for an impossible date.
 */
export function yearlessMs(
  month: number, day: number, hour: number, minute: number, second: number, ms: number, ctx: ParseContext,
): number {
  if (!validTime(hour, minute, second) || month < 0 || month > 11 || day < 1 || day > 31) return Number.NaN;
  if (ctx.year !== undefined) {
    if (!validDate(ctx.year, month, day)) return Number.NaN;
    return Date.UTC(ctx.year, month, day, hour, minute, second, ms);
  }
  const limit = ctx.now + DAY_MS;
  // Start one year ahead: on 31 December, a line from 1 January (clock skew) belongs to next year.
  let year = new Date(ctx.now).getUTCFullYear() + 1;
  // At most 10 steps: a 29 February needs a leap year, which comes within 8 years.
  for (let i = 0; i < 10; i++, year--) {
    if (!validDate(year, month, day)) continue;
    const t = Date.UTC(year, month, day, hour, minute, second, ms);
    if (t <= limit) return t;
  }
  return Number.NaN;
}

/** Time of a date that names its year, or NaN when the fields are out of range. */
export function utcMs(
  year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number, offsetMinutes: number,
): number {
  if (!validDate(year, month, day) || !validTime(hour, minute, second)) return Number.NaN;
  return Date.UTC(year, month, day, hour, minute, second, ms) - offsetMinutes * 60_000;
}

/** Minutes east of UTC of `Z`, `+0300`, `-04:00`, `+05`; NaN when malformed; 0 when absent. */
export function offsetMinutes(zone: string | undefined): number {
  if (zone === undefined || zone === '' || zone === 'Z' || zone === 'z') return 0;
  const sign = zone.charCodeAt(0) === 45 /* - */ ? -1 : 1;
  const digits = zone.length === 6 ? zone.slice(1, 3) + zone.slice(4) : zone.slice(1);
  if (digits.length !== 2 && digits.length !== 4) return Number.NaN;
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length === 4 ? Number(digits.slice(2)) : 0;
  if (!Number.isInteger(hours) || !Number.isInteger(minutes) || hours > 23 || minutes > 59) return Number.NaN;
  return sign * (hours * 60 + minutes);
}

// ISO 8601 / RFC 3339 as written by rsyslog and RFC 5424 senders: 2015-04-16T18:02:50.321974+00:00
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** ISO 8601 string of an ISO 8601 / RFC 3339 timestamp (a missing zone is read as UTC), or undefined. */
export function isoTimestamp(text: string): string | undefined {
  if (text.length > 40) return undefined;
  const m = ISO_RE.exec(text);
  if (m === null) return undefined;
  const t = utcMs(
    Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]),
    fractionMs(m[7]), offsetMinutes(m[8]),
  );
  return Number.isNaN(t) ? undefined : isoFromMs(t);
}

/** ISO 8601 string of a Common Log Format time, `17/May/2015:10:05:03 +0000` (nginx `$time_local`), or undefined. */
export function clfTimestamp(text: string): string | undefined {
  // Fixed layout: dd/Mon/yyyy:hh:mm:ss +zzzz (26 characters).
  if (text.length !== 26 || text.charCodeAt(2) !== 47 || text.charCodeAt(6) !== 47 || text.charCodeAt(11) !== 58
    || text.charCodeAt(14) !== 58 || text.charCodeAt(17) !== 58 || text.charCodeAt(20) !== 32) return undefined;
  const month = monthIndex(text.slice(3, 6));
  if (month < 0) return undefined;
  const day = digits(text, 0, 2);
  const year = digits(text, 7, 11);
  const hour = digits(text, 12, 14);
  const minute = digits(text, 15, 17);
  const second = digits(text, 18, 20);
  const zone = offsetMinutes(text.slice(21));
  if (day < 0 || year < 0 || hour < 0 || minute < 0 || second < 0 || Number.isNaN(zone)) return undefined;
  const t = utcMs(year, month, day, hour, minute, second, 0, zone);
  return Number.isNaN(t) ? undefined : isoFromMs(t);
}

/** The non-negative integer written by the ASCII digits text[start..end), or -1. */
export function digits(text: string, start: number, end: number): number {
  if (end <= start) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
