// Sigma value modifiers (Sigma modifiers appendix v2.1): a detection item `field|mod…: values` becomes one check on
// an event. Transformations (contains, startswith, endswith, windash, base64, base64offset, utf16*, wide, expand)
// rewrite values at load time; type modifiers (re, cidr, lt/lte/gt/gte, neq, exists, fieldref, minute…year, and
// Vigil's `vigil.NAME` extensions) choose how a value is compared. Default comparison is case-insensitive.
import { parseCidr, parseIp, type IpRange } from '../../core/ip.js';
import type { LogsourceEntry } from './mapping.js';
import { resolveField } from './mapping.js';
import type { EvalContext, FieldTable } from './match.js';
import type { DetectionItem, RawValue } from './model.js';
import { compileRegex, type LinearRegex } from './regex.js';
import { ONE, shapeOf, SigmaString, STAR, type Part } from './sigma-string.js';

/** Vigil-specific value tests, by name: a rule writes `field|vigil.NAME: true`. A plain literal map. */
export type ExtensionRegistry = Readonly<Record<string, (value: string) => boolean>>;

export interface CompileEnv {
  table: FieldTable;
  /** The logsource the rule reads (undefined: an inactive logsource, fields pass through). */
  entry: LogsourceEntry | undefined;
  extensions: ExtensionRegistry;
  /** Values of `%name%` placeholders for the `expand` modifier. */
  placeholders: Readonly<Record<string, readonly string[]>>;
}

/** "The slot's text contains this literal": a necessary condition of a check, found by the automaton. */
export interface Need {
  slot: number;
  needle: number;
  /**
   * A rough chance that the literal occurs in an event's field, to choose the sharpest of an AND's literals: a long
   * literal is rare, a short one or a whole value of a categorical field (GET, 200) is common.
   */
  odds: number;
}

/** One compiled detection item. */
export interface Check {
  /** When set, the check can only hold if one of these literals was found (a prefilter for whole rules). */
  need?: Need[];
  test(ctx: EvalContext): boolean;
  /** What matched, for the detection's reason (only called when test is true). */
  explain(ctx: EvalContext): string;
  /** Rough relative cost, to test cheap checks first in an AND. */
  cost: number;
}

/** One value compared against one field slot. */
interface ValueTest {
  label: string;
  cost: number;
  test(ctx: EvalContext): boolean;
  /** Set for a case-insensitive equality: the lowered text, so long value lists become one Set lookup. */
  eq?: string;
  need?: Need;
}

const DEFAULT_KEYWORD_FIELDS = ['message', 'event.original'];
const TRANSFORMS = new Set(['contains', 'startswith', 'endswith', 'all', 'cased', 'windash', 'base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'expand', 'neq']);
const COMPARES = new Set(['lt', 'lte', 'gt', 'gte']);
const TIME_PARTS = new Set(['minute', 'hour', 'day', 'week', 'month', 'year']);
const RE_FLAGS = new Set(['i', 'm', 's']);
const MAX_VARIANTS = 4096;

export class ItemError extends Error {}

function fail(message: string): never {
  throw new ItemError(message);
}

function quote(text: string): string {
  const shown = text.length > 60 ? `${text.slice(0, 57)}…` : text;
  return `'${shown}'`;
}

// --- value transformations ------------------------------------------------------------------------------

function base64Of(text: string, binary: boolean): string {
  return Buffer.from(text, binary ? 'latin1' : 'utf8').toString('base64');
}

/** The three base64 forms of `text` at byte offsets 0, 1, 2 of a longer encoded string (as pySigma). */
function base64Offsets(text: string, binary: boolean): string[] {
  const bytes = Buffer.from(text, binary ? 'latin1' : 'utf8');
  const starts = [0, 2, 3];
  const ends = [undefined, -3, -2];
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const encoded = Buffer.concat([Buffer.alloc(i, 0x20), bytes]).toString('base64');
    const end = ends[(bytes.length + i) % 3];
    out.push(encoded.slice(starts[i], end));
  }
  return out;
}

/** UTF-16 code units as a byte string (one char per byte), little or big endian. */
function utf16Bytes(text: string, bigEndian: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    const lo = String.fromCharCode(u & 0xff);
    const hi = String.fromCharCode(u >> 8);
    out += bigEndian ? hi + lo : lo + hi;
  }
  return out;
}

const WINDASH = ['-', '/', '\u2013', '\u2014', '\u2015'];
const isWordChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** Every `-` or `/` that starts a command-line flag (`\B[-/]\b`, as pySigma) in each of the five dash forms. */
function windash(value: SigmaString): SigmaString[] {
  let variants: Part[][] = [[]];
  for (const part of value.parts) {
    if (typeof part !== 'string') {
      for (const v of variants) v.push(part);
      continue;
    }
    let texts = [''];
    for (let i = 0; i < part.length; i++) {
      const c = part[i]!;
      if ((c === '-' || c === '/') && !isWordChar(part[i - 1]) && isWordChar(part[i + 1])) {
        texts = texts.flatMap((t) => WINDASH.map((d) => t + d));
        if (texts.length * variants.length > MAX_VARIANTS) fail(`windash expands to more than ${MAX_VARIANTS} values`);
      } else {
        texts = texts.map((t) => t + c);
      }
    }
    variants = variants.flatMap((v) => texts.map((t) => [...v, t]));
  }
  return variants.map((parts) => new SigmaString(parts));
}

/** Replaces `%name%` placeholders (a `\%` is a plain percent) with each configured value (Sigma strings). */
function expandPlaceholders(raw: string, placeholders: CompileEnv['placeholders']): string[] {
  let results = [''];
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '\\' && raw[i + 1] === '%') {
      results = results.map((r) => r + '%');
      i += 2;
      continue;
    }
    if (c === '%') {
      const end = raw.indexOf('%', i + 1);
      if (end > i + 1) {
        const name = raw.slice(i + 1, end);
        const values = Object.hasOwn(placeholders, name) ? placeholders[name] : undefined;
        if (!values || values.length === 0) fail(`placeholder %${name}% has no values: set rules.placeholders.${name} in the configuration`);
        results = results.flatMap((r) => values.map((v) => r + v));
        if (results.length > MAX_VARIANTS) fail(`placeholders expand to more than ${MAX_VARIANTS} values`);
        i = end + 1;
        continue;
      }
    }
    results = results.map((r) => r + c);
    i++;
  }
  return results;
}

// --- value tests ------------------------------------------------------------------------------------------

function anyStartsWith(values: string[], text: string): boolean {
  for (let i = 0; i < values.length; i++) if (values[i]!.startsWith(text)) return true;
  return false;
}

function anyEndsWith(values: string[], text: string): boolean {
  for (let i = 0; i < values.length; i++) if (values[i]!.endsWith(text)) return true;
  return false;
}

function anyIncludes(values: string[], text: string): boolean {
  for (let i = 0; i < values.length; i++) if (values[i]!.includes(text)) return true;
  return false;
}

/**
 * A string value on one slot. Every literal test is guarded by its text's automaton hit (a value that starts,
 * ends with or matches a pattern containing X contains X), so a non-matching value costs one array read.
 */
function stringTest(env: CompileEnv, pattern: SigmaString, cased: boolean, slot: number, label: string): ValueTest {
  const shape = shapeOf(pattern, !cased);
  const guard = (text: string): number | undefined => (text.length > 0 ? env.table.needle(slot, text.toLowerCase()) : undefined);
  const odds = (text: string, whole: boolean): number => {
    const n = text.length;
    if (whole) return n <= 4 ? 0.5 : n <= 7 ? 0.1 : 0.01; // GET, 200, POST; application/json; a whole User-Agent
    return n <= 1 ? 1 : n === 2 ? 0.3 : n === 3 ? 0.02 : n <= 5 ? 0.01 : 0.001;
  };
  switch (shape.kind) {
    case 'equals': {
      const text = shape.text;
      // A value equal to the text contains it: the literal gates the rule like a `contains` one.
      const needle = guard(text);
      const need = needle === undefined ? {} : { need: { slot, needle, odds: odds(text, true) } };
      if (!cased) return { label, cost: 1, eq: text, ...need, test: (ctx) => ctx.lowered(slot).includes(text) };
      return { label, cost: 1, ...need, test: (ctx) => ctx.strings(slot).includes(text) };
    }
    case 'startswith':
    case 'endswith':
    case 'contains': {
      const text = shape.text;
      const needle = guard(text)!;
      const kind = shape.kind;
      const need = { slot, needle, odds: odds(text, false) };
      if (!cased) {
        if (kind === 'contains') return { label, cost: 1, need, test: (ctx) => ctx.has(slot, needle) };
        if (kind === 'startswith') return { label, cost: 2, need, test: (ctx) => ctx.has(slot, needle) && anyStartsWith(ctx.lowered(slot), text) };
        return { label, cost: 2, need, test: (ctx) => ctx.has(slot, needle) && anyEndsWith(ctx.lowered(slot), text) };
      }
      const check = kind === 'contains' ? anyIncludes : kind === 'startswith' ? anyStartsWith : anyEndsWith;
      return { label, cost: 3, need, test: (ctx) => ctx.has(slot, needle) && check(ctx.strings(slot), text) };
    }
    case 'any':
      return { label, cost: 1, test: (ctx) => ctx.strings(slot).length > 0 };
    case 'glob': {
      const glob = shape.glob;
      const needle = guard(glob.longestLiteral);
      const run = (values: string[]): boolean => {
        for (let i = 0; i < values.length; i++) if (glob.test(values[i]!)) return true;
        return false;
      };
      const pick = cased ? (ctx: EvalContext) => ctx.strings(slot) : (ctx: EvalContext) => ctx.lowered(slot);
      if (needle === undefined) return { label, cost: 6, test: (ctx) => run(pick(ctx)) };
      return { label, cost: 3, need: { slot, needle, odds: odds(glob.longestLiteral, false) }, test: (ctx) => ctx.has(slot, needle) && run(pick(ctx)) };
    }
  }
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function compare(op: string, a: number, b: number): boolean {
  switch (op) {
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'neq':
      return a !== b;
    default:
      return a === b;
  }
}

function valuesOf(ctx: EvalContext, slot: number): unknown[] {
  const v = ctx.value(slot);
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** ISO 8601 week number (1-53). */
function isoWeek(d: Date): number {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  return Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
}

function timePart(part: string, value: unknown): number | undefined {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) return undefined;
  const d = new Date(ms);
  switch (part) {
    case 'minute':
      return d.getUTCMinutes();
    case 'hour':
      return d.getUTCHours();
    case 'day':
      return d.getUTCDate();
    case 'week':
      return isoWeek(d);
    case 'month':
      return d.getUTCMonth() + 1;
    default:
      return d.getUTCFullYear();
  }
}

function inRanges(ranges: IpRange[], text: string): boolean {
  const ip = parseIp(text);
  if (ip === undefined) return false;
  for (const r of ranges) if (ip >= r.low && ip <= r.high) return true;
  return false;
}

// --- items -------------------------------------------------------------------------------------------------

/**
 * Compiles one detection item into a check. Throws ItemError with the reason (unknown modifier, unknown field,
 * a regex RE2 refuses, a placeholder without values …); the caller adds the file and line.
 */
export function compileItem(item: DetectionItem, env: CompileEnv): Check {
  const mods = item.modifiers;
  const seen = new Set<string>();
  let typeMod: string | undefined;
  let compareOp: string | undefined;
  const reFlags: string[] = [];
  let extension: ((value: string) => boolean) | undefined;
  let extensionName = '';
  for (const m of mods) {
    if (m === '') fail(`empty modifier in "${[item.field ?? '', ...mods].join('|')}"`);
    if (seen.has(m) && m !== 'base64offset') fail(`modifier "${m}" given twice`);
    seen.add(m);
    if (TRANSFORMS.has(m)) continue;
    if (RE_FLAGS.has(m)) {
      if (typeMod !== 're') fail(`modifier "${m}" must follow "re"`);
      reFlags.push(m);
      continue;
    }
    if (COMPARES.has(m)) {
      if (typeMod !== undefined && !TIME_PARTS.has(typeMod)) fail(`modifier "${m}" cannot be combined with "${typeMod}"`);
      if (compareOp !== undefined) fail(`modifiers "${compareOp}" and "${m}" cannot be combined`);
      compareOp = m;
      typeMod ??= m;
      continue;
    }
    const isType = m === 're' || m === 'cidr' || m === 'exists' || m === 'fieldref' || TIME_PARTS.has(m) || m.startsWith('vigil.');
    if (!isType) fail(`unknown modifier "${m}"`);
    if (typeMod !== undefined) fail(`modifiers "${typeMod}" and "${m}" cannot be combined`);
    typeMod = m;
    if (m.startsWith('vigil.')) {
      extensionName = m.slice('vigil.'.length);
      const fn = Object.hasOwn(env.extensions, extensionName) ? env.extensions[extensionName] : undefined;
      if (typeof fn !== 'function') {
        const known = Object.keys(env.extensions);
        fail(`unknown extension modifier "${m}"${known.length > 0 ? ` (known: ${known.map((k) => `vigil.${k}`).join(', ')})` : ': no extension modifiers are registered'}`);
      }
      extension = fn;
    }
  }
  if (compareOp !== undefined && typeMod === compareOp && seen.has('neq')) fail(`"neq" cannot be combined with "${compareOp}"`);
  const all = seen.has('all');
  const cased = seen.has('cased');
  const negate = seen.has('neq');
  if (all && item.values.length < 2 && item.field !== undefined) {
    // The specification forbids `all` on one value; it means the same as without, so accept it.
  }

  // Fields: mapped names, or the keyword fields of the logsource.
  let paths: string[];
  let valueMap: Record<string, string> | undefined;
  let fieldLabel: string;
  if (item.field === undefined) {
    paths = env.entry?.keywords ?? DEFAULT_KEYWORD_FIELDS;
    fieldLabel = 'keyword';
  } else {
    const resolved = resolveField(env.entry, item.field);
    if (!resolved.ok) fail(resolved.reason);
    paths = resolved.fields;
    valueMap = resolved.values;
    fieldLabel = paths.length === 1 && paths[0] === item.field ? item.field : `${item.field} (${paths.join(', ')})`;
  }
  const slots = paths.map((p) => env.table.slot(p));
  const display = `${item.field ?? ''}${mods.length > 0 ? `|${mods.join('|')}` : ''}`;

  // `exists`: a boolean per item.
  if (typeMod === 'exists') {
    if (item.values.length !== 1 || typeof item.values[0] !== 'boolean') fail('"exists" takes true or false');
    const want = item.values[0];
    const test = (ctx: EvalContext): boolean => slots.some((s) => ctx.value(s) !== undefined) === want;
    return { cost: 1, test, explain: () => `${fieldLabel} ${want ? 'exists' : 'is absent'}` };
  }

  const values = item.values;
  const perSlot: ValueTest[][] = slots.map(() => []);
  const perValue: ValueTest[][] = [];
  let nullCheck = false;
  for (const raw of values) {
    if (raw === null) {
      nullCheck = true;
      continue;
    }
    const group: ValueTest[] = [];
    for (let k = 0; k < slots.length; k++) {
      const ts = valueTests(raw, slots[k]!, k);
      perSlot[k]!.push(...ts);
      group.push(...ts);
    }
    perValue.push(group);
  }

  function valueTests(raw: Exclude<RawValue, null>, slot: number, k: number): ValueTest[] {
    const where = item.field === undefined ? `keyword in ${paths[k]}` : paths[k]!;
    if (typeMod === 're') {
      if (typeof raw !== 'string') fail('"re" values must be strings');
      const flags = reFlags.join('');
      const regex = compileRegex(raw, flags);
      if (typeof regex === 'string') fail(regex);
      const r: LinearRegex = regex;
      return [{ label: `${where} matches /${raw.length > 60 ? raw.slice(0, 57) + '…' : raw}/${flags}`, cost: 20, test: (ctx) => ctx.strings(slot).some((v) => r.test(v)) }];
    }
    if (typeMod === 'cidr') {
      const range = typeof raw === 'string' ? parseCidr(raw.trim()) : undefined;
      if (!range) fail(`"${String(raw)}" is not a CIDR block (10.0.0.0/8, 2001:db8::/32)`);
      return [{ label: `${where} in ${String(raw)}`, cost: 5, test: (ctx) => ctx.strings(slot).some((v) => inRanges([range], v)) }];
    }
    if (typeMod !== undefined && COMPARES.has(typeMod)) {
      const n = numberOf(raw);
      if (n === undefined) fail(`"${typeMod}" needs a number, got ${JSON.stringify(raw)}`);
      const op = typeMod;
      return [{ label: `${where} ${op} ${n}`, cost: 2, test: (ctx) => valuesOf(ctx, slot).some((v) => { const x = numberOf(v); return x !== undefined && compare(op, x, n); }) }];
    }
    if (typeMod !== undefined && TIME_PARTS.has(typeMod)) {
      const n = numberOf(raw);
      if (n === undefined) fail(`"${typeMod}" needs a number, got ${JSON.stringify(raw)}`);
      const part = typeMod;
      const op = compareOp ?? 'eq';
      return [{ label: `${part} of ${where} ${op} ${n}`, cost: 4, test: (ctx) => valuesOf(ctx, slot).some((v) => { const x = timePart(part, v); return x !== undefined && compare(op, x, n); }) }];
    }
    if (typeMod === 'fieldref') {
      if (typeof raw !== 'string') fail('"fieldref" values must be field names');
      const resolved = resolveField(env.entry, raw);
      if (!resolved.ok) fail(resolved.reason);
      const other = resolved.fields.map((p) => env.table.slot(p));
      const how = seen.has('contains') ? 'contains' : seen.has('startswith') ? 'startswith' : seen.has('endswith') ? 'endswith' : 'equals';
      const test = (ctx: EvalContext): boolean => {
        const mine = cased ? ctx.strings(slot) : ctx.lowered(slot);
        for (const o of other) {
          const theirs = cased ? ctx.strings(o) : ctx.lowered(o);
          for (const a of mine) for (const b of theirs) {
            if (how === 'equals' ? a === b : how === 'contains' ? a.includes(b) : how === 'startswith' ? a.startsWith(b) : a.endsWith(b)) return true;
          }
        }
        return false;
      };
      return [{ label: `${where} ${how} the value of ${raw}`, cost: 3, test }];
    }
    if (extension !== undefined) {
      if (typeof raw !== 'boolean') fail(`"vigil.${extensionName}" takes true or false`);
      const fn = extension;
      const want = raw;
      const flag = env.table.flag(slot, extensionName);
      const test = want ? (ctx: EvalContext) => ctx.flagged(flag, slot, fn) : (ctx: EvalContext) => !ctx.flagged(flag, slot, fn);
      return [{ label: `${where} ${want ? 'is' : 'is not'} flagged by vigil.${extensionName}`, cost: 50, test }];
    }
    // Strings: apply the transformations in the order written.
    let text = typeof raw === 'string' ? raw : String(raw);
    if (valueMap && Object.hasOwn(valueMap, text.toLowerCase())) text = valueMap[text.toLowerCase()]!;
    let strings: SigmaString[] = seen.has('expand') ? expandPlaceholders(text, env.placeholders).map((t) => SigmaString.parse(t)) : [SigmaString.parse(text)];
    let binary = false;
    let sawPosition = false;
    for (const m of mods) {
      switch (m) {
        case 'contains':
          strings = strings.map((s) => s.prepend(STAR).append(STAR));
          sawPosition = true;
          break;
        case 'startswith':
          strings = strings.map((s) => s.append(STAR));
          sawPosition = true;
          break;
        case 'endswith':
          strings = strings.map((s) => s.prepend(STAR));
          sawPosition = true;
          break;
        case 'windash':
          strings = strings.flatMap((s) => windash(s));
          break;
        case 'base64':
        case 'base64offset':
          strings = strings.flatMap((s) => {
            const plain = s.plain;
            if (plain === undefined) fail(`"${m}" cannot encode a value with wildcards (${s.toString()}); put "contains" after it`);
            return (m === 'base64' ? [base64Of(plain, binary)] : base64Offsets(plain, binary)).map((t) => SigmaString.literal(t));
          });
          binary = false;
          break;
        case 'utf16le':
        case 'wide':
        case 'utf16be':
        case 'utf16':
          strings = strings.map((s) => {
            const be = m === 'utf16be';
            const encoded = s.mapText((t) => utf16Bytes(t, be));
            return m === 'utf16' && encoded.parts.length > 0 ? new SigmaString(['\xff\xfe', ...encoded.parts]) : encoded;
          });
          binary = true;
          break;
        default:
          break;
      }
      if (strings.length > MAX_VARIANTS) fail(`modifiers expand to more than ${MAX_VARIANTS} values`);
    }
    // A keyword is searched for anywhere in its fields unless the rule anchored it.
    if (item.field === undefined && !sawPosition) strings = strings.map((s) => s.prepend(STAR).append(STAR));
    return strings.map((s) => stringTest(env, s, cased, slot, `${where} ${describe(s)}`));
  }

  function describe(s: SigmaString): string {
    const parts = s.parts;
    const texts = parts.filter((p) => typeof p === 'string');
    const core = new SigmaString(parts.filter((p, i) => !(p === STAR && (i === 0 || i === parts.length - 1))));
    if (!parts.includes(ONE) && texts.length === 1) {
      const lead = parts[0] === STAR;
      const trail = parts[parts.length - 1] === STAR && parts.length > 1;
      const t = quote(core.toString());
      if (lead && trail) return `contains ${t}`;
      if (lead) return `ends with ${t}`;
      if (trail) return `starts with ${t}`;
      return `= ${t}`;
    }
    return `matches ${quote(s.toString())}`;
  }

  const allTests = perSlot.flat();
  const costOf = (ts: ValueTest[]): number => ts.reduce((a, t) => a + t.cost, 0);

  // The fast test: OR (or AND with `all`) over values, each value on any of the field's slots.
  let positive: (ctx: EvalContext) => boolean;
  if (all && values.length > 1) {
    positive = (ctx) => perValue.every((alts) => alts.some((t) => t.test(ctx))) && (!nullCheck || allNull(ctx));
  } else {
    const fast = slots.map((slot, k) => fastOr(perSlot[k]!, slot));
    positive = (ctx) => {
      if (nullCheck && allNull(ctx)) return true;
      for (const f of fast) if (f(ctx)) return true;
      return false;
    };
  }
  function allNull(ctx: EvalContext): boolean {
    for (const s of slots) {
      const v = ctx.value(s);
      if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) return false;
    }
    return true;
  }
  const test = negate ? (ctx: EvalContext) => !positive(ctx) : positive;
  const explain = (ctx: EvalContext): string => {
    if (negate) return `${display}: ${fieldLabel} is none of ${values.length} value(s)`;
    if (nullCheck && allNull(ctx)) return `${fieldLabel} is empty`;
    const hits = allTests.filter((t) => t.test(ctx)).map((t) => t.label);
    return hits.length > 0 ? hits.slice(0, 3).join(all ? ' and ' : '; ') : display;
  };
  const check: Check = { test, explain, cost: Math.max(1, Math.min(100, costOf(allTests) / Math.max(1, all ? 1 : allTests.length) + (negate ? 1 : 0))) };
  // A necessary literal: with OR, every value must bring one; with `all`, one value's suffice.
  if (!negate && !nullCheck) {
    const needsOf = (ts: ValueTest[]): Need[] | undefined => (ts.length > 0 && ts.every((t) => t.need) ? ts.map((t) => t.need!) : undefined);
    const need = all && values.length > 1 ? sharpest(perValue.map(needsOf)) : needsOf(allTests);
    if (need) check.need = need;
  }
  return check;
}

/** The chance that one of `needs` occurs, roughly (their odds added up). */
export function needOdds(needs: readonly Need[]): number {
  let sum = 0;
  for (const n of needs) sum += n.odds;
  return sum;
}

/** Of alternatives that are all required, the need least likely to be met: the sharpest filter. */
export function sharpest(needs: readonly (Need[] | undefined)[]): Need[] | undefined {
  let best: Need[] | undefined;
  let bestOdds = Infinity;
  for (const n of needs) {
    if (n === undefined) continue;
    const o = needOdds(n);
    if (o < bestOdds) [best, bestOdds] = [n, o];
  }
  return best;
}

/**
 * An OR over many values of one slot, grouped by kind: equal values in one Set lookup, contains literals as
 * automaton hits, the rest one by one. Only string equality of non-cased literals is grouped; that covers the
 * long value lists of real rules.
 */
function fastOr(tests: ValueTest[], slot: number): (ctx: EvalContext) => boolean {
  if (tests.length === 0) return () => false;
  if (tests.length === 1) return tests[0]!.test;
  const equal = new Set(tests.filter((t) => t.eq !== undefined).map((t) => t.eq!));
  const rest = tests.filter((t) => t.eq === undefined).sort((a, b) => a.cost - b.cost);
  const tests2 = rest.map((t) => t.test);
  if (equal.size === 0) {
    return (ctx) => {
      for (const t of tests2) if (t(ctx)) return true;
      return false;
    };
  }
  return (ctx) => {
    for (const v of ctx.lowered(slot)) if (equal.has(v)) return true;
    for (const t of tests2) if (t(ctx)) return true;
    return false;
  };
}
