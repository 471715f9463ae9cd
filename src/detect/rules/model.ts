// The rule model: Sigma rules, Sigma correlation rules and Vigil's baseline detectors as read from YAML, each part
// carrying the file and line it came from. Reading collects every problem instead of stopping at the first.
// Specifications: Sigma rules v2.1, Sigma correlation rules v2.1 (SigmaHQ/sigma-specification).
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { Severity } from '../../core/detection.js';
import { SEVERITIES } from '../../core/detection.js';
import type { Logsource } from './mapping.js';

/** Something wrong with a rule, where it is, and (for a rule that cannot apply here) the feature it needs. */
export interface RuleProblem {
  file: string;
  line: number;
  message: string;
  /** Title or id of the rule, when known. */
  rule?: string;
}

export type RawValue = string | number | boolean | null;

/** `field|mod1|mod2: values` (or a keyword search when `field` is undefined). Values are OR-ed unless `all`. */
export interface DetectionItem {
  field: string | undefined;
  modifiers: string[];
  values: RawValue[];
  line: number;
}

/** A map of detection items, AND-ed. */
export interface DetectionMap {
  items: DetectionItem[];
  line: number;
}

/** A search identifier: alternatives OR-ed (a list of maps, or keyword lists). */
export interface SearchIdentifier {
  name: string;
  line: number;
  alternatives: DetectionMap[];
}

export interface RuleMeta {
  file: string;
  line: number;
  title: string;
  id?: string;
  name?: string;
  author?: string;
  description?: string;
  status?: string;
  level?: Severity;
  tags: string[];
}

export interface SigmaRuleModel extends RuleMeta {
  kind: 'rule';
  logsource: Logsource;
  identifiers: SearchIdentifier[];
  conditions: { text: string; line: number }[];
}

export type CorrelationType =
  | 'event_count'
  | 'value_count'
  | 'temporal'
  | 'temporal_ordered'
  | 'value_sum'
  | 'value_avg'
  | 'value_percentile'
  | 'value_median';

export const CORRELATION_TYPES: readonly CorrelationType[] = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
  'value_median',
];

export type CompareOp = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'neq';
export const COMPARE_OPS: readonly CompareOp[] = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'];

export interface CorrelationCondition {
  /** Every comparison must hold (`gt: 100` with `lte: 200` is a range). */
  tests: { op: CompareOp; value: number }[];
  field?: string;
  /** value_percentile: which percentile (1-100). */
  percentile?: number;
}

export interface CorrelationModel extends RuleMeta {
  kind: 'correlation';
  type: CorrelationType;
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  timespan: string;
  /** alias → rule reference (name or id) → field. */
  aliases: Record<string, Record<string, string>>;
  condition: CorrelationCondition;
  generate: boolean;
}

/** Vigil's own detector form (`vigil:` section): a share of matching events against a rolling baseline. */
export interface BaselineModel extends RuleMeta {
  kind: 'baseline';
  type: 'rate_spike';
  /** Rule (name or id) matching every event counted. */
  total: string;
  /** Rule (name or id) matching the events whose share is watched. */
  matching: string;
  groupBy: string[];
  timespanMs: number;
  baselineMs: number;
  factor: number;
  minEvents: number;
  minShare: number;
}

/**
 * Vigil's `impossible_travel` detector (`vigil:` section): successful logins of one group (user) from places too far
 * apart for the time between them. Sigma cannot compute a distance between two events.
 */
export interface TravelModel extends RuleMeta {
  kind: 'travel';
  type: 'impossible_travel';
  /** Rules (names or ids) whose matches are the logins compared. */
  rules: string[];
  groupBy: string[];
  /** How far back a login is compared with the ones before it. */
  timespanMs: number;
  timespan: string;
  /** Fires above this speed (km/h) between two logins. */
  speedKmh: number;
  /** Logins closer than this (km, after allowing for country-level placement) are never compared. */
  minDistanceKm: number;
}

export type RuleModel = SigmaRuleModel | CorrelationModel | BaselineModel | TravelModel;

/** The types of Vigil's own detectors (`vigil: type:`). */
export const VIGIL_TYPES = ['rate_spike', 'impossible_travel'] as const;

/** Limits that keep a hostile file from using unbounded memory or time while it is read. */
export const LIMITS = {
  fileBytes: 1024 * 1024,
  documentsPerFile: 200,
  identifiersPerRule: 512,
  itemsPerMap: 512,
  valuesPerItem: 20_000,
  valueLength: 65_536,
};

const TIMESPAN = /^(\d{1,9})([smhdw])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90m`, `1h`, `7d` (Sigma correlation timespan) in milliseconds, or undefined. */
export function parseTimespan(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = TIMESPAN.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 ? ms : undefined;
}

class Reader {
  readonly problems: RuleProblem[] = [];
  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
    private readonly doc: Document,
  ) {}

  line(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }

  problem(node: Node | null | undefined | number, message: string, rule?: string): void {
    const line = typeof node === 'number' ? node : this.line(node);
    this.problems.push(rule === undefined ? { file: this.file, line, message } : { file: this.file, line, message, rule });
  }

  /** Follows an alias (`*name`) once; anchors are resolved by the YAML library, which caps their count. */
  deref(node: unknown): Node | undefined {
    if (isAlias(node)) return node.resolve(this.doc) ?? undefined;
    return (node ?? undefined) as Node | undefined;
  }
}

/** Reads every YAML document of one rule file. */
export function readRuleFile(text: string, file: string): { models: RuleModel[]; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const models: RuleModel[] = [];
  if (text.length > LIMITS.fileBytes) {
    problems.push({ file, line: 1, message: `file larger than ${LIMITS.fileBytes} bytes` });
    return { models, problems };
  }
  const lines = new LineCounter();
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  } catch (err) {
    problems.push({ file, line: 1, message: `not valid YAML: ${(err as Error).message}` });
    return { models, problems };
  }
  if (!Array.isArray(docs)) return { models, problems };
  if (docs.length > LIMITS.documentsPerFile) {
    problems.push({ file, line: 1, message: `more than ${LIMITS.documentsPerFile} YAML documents in one file` });
    return { models, problems };
  }
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors.slice(0, 3)) {
        const at = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
        problems.push({ file, line: at, message: `not valid YAML: ${e.message.split('\n')[0]}` });
      }
      continue;
    }
    if (doc.contents === null) continue; // an empty document (`---` at the end)
    const reader = new Reader(file, lines, doc as Document);
    try {
      const model = readDocument(reader, doc as Document);
      if (model) models.push(model);
    } catch (err) {
      // Defensive: reading is written not to throw, but a pathological document (alias bombs, stack depth) may.
      reader.problem(doc.contents as Node, `cannot read this document: ${(err as Error).message}`);
    }
    problems.push(...reader.problems);
  }
  return { models, problems };
}

function readDocument(r: Reader, doc: Document): RuleModel | undefined {
  const root = r.deref(doc.contents);
  if (!isMap(root)) {
    r.problem(root, 'a rule must be a YAML map (title, logsource, detection …)');
    return undefined;
  }
  const entries = new Map<string, Node | undefined>();
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key !== undefined) entries.set(key, r.deref(pair.value));
  }
  const get = (k: string): Node | undefined => entries.get(k);
  const scalar = (k: string): unknown => {
    const n = get(k);
    return isScalar(n) ? n.value : undefined;
  };
  const line = r.line(root);
  const title = scalar('title');
  if (typeof title !== 'string' || title.trim() === '') {
    const id = scalar('id');
    r.problem(get('title') ?? root, 'the rule has no title', typeof id === 'string' ? id : undefined);
    return undefined;
  }
  const label = title;
  const meta: RuleMeta = { file: r.file, line, title, tags: [] };
  for (const key of ['id', 'name', 'author', 'description', 'status'] as const) {
    const v = scalar(key);
    if (v !== undefined && v !== null) {
      if (typeof v !== 'string' && typeof v !== 'number') r.problem(get(key), `"${key}" must be a string`, label);
      else meta[key] = String(v);
    }
  }
  const level = scalar('level');
  if (level !== undefined && level !== null) {
    if (typeof level === 'string' && (SEVERITIES as readonly string[]).includes(level.toLowerCase())) meta.level = level.toLowerCase() as Severity;
    else r.problem(get('level'), `"level" must be one of ${SEVERITIES.join(', ')}`, label);
  }
  const tags = get('tags');
  if (isSeq(tags)) {
    for (const t of tags.items) {
      const n = r.deref(t);
      if (isScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number')) meta.tags.push(String(n.value));
    }
  }
  if (entries.has('action')) {
    r.problem(get('action'), 'Sigma 1 rule collections ("action: global/reset/repeat") are not supported: write one rule per document', label);
    return undefined;
  }
  if (entries.has('correlation')) return readCorrelation(r, meta, get('correlation'), label);
  if (entries.has('vigil')) return readVigil(r, meta, get('vigil'), label);
  if (entries.has('filter') && !entries.has('detection')) {
    r.problem(get('filter'), 'Sigma filter rules are not supported: add the exclusion to the rule itself', label);
    return undefined;
  }
  return readSigmaRule(r, meta, get('logsource'), get('detection'), label);
}

function readSigmaRule(r: Reader, meta: RuleMeta, lsNode: Node | undefined, detNode: Node | undefined, label: string): SigmaRuleModel | undefined {
  const logsource: Logsource = {};
  if (lsNode === undefined) {
    r.problem(meta.line, 'the rule has no logsource', label);
    return undefined;
  }
  if (!isMap(lsNode)) {
    r.problem(lsNode, '"logsource" must be a map of product, category, service', label);
    return undefined;
  }
  for (const pair of lsNode.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    const v = r.deref(pair.value);
    if ((k === 'product' || k === 'category' || k === 'service') && isScalar(v) && v.value !== null) logsource[k] = String(v.value).toLowerCase();
  }
  if (!isMap(detNode)) {
    r.problem(detNode ?? meta.line, 'the rule has no "detection" map', label);
    return undefined;
  }
  const identifiers: SearchIdentifier[] = [];
  const conditions: { text: string; line: number }[] = [];
  let ok = true;
  for (const pair of detNode.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : undefined;
    const value = r.deref(pair.value);
    if (name === undefined) {
      r.problem(pair.key as Node, 'a search identifier must be a plain name', label);
      ok = false;
      continue;
    }
    if (name === 'condition') {
      if (isScalar(value) && typeof value.value === 'string') conditions.push({ text: value.value, line: r.line(value) });
      else if (isSeq(value)) {
        for (const c of value.items) {
          const n = r.deref(c);
          if (isScalar(n) && typeof n.value === 'string') conditions.push({ text: n.value, line: r.line(n) });
          else {
            r.problem(n, 'each condition must be a string', label);
            ok = false;
          }
        }
      } else {
        r.problem(value ?? pair.key as Node, '"condition" must be a string or a list of strings', label);
        ok = false;
      }
      continue;
    }
    if (name === 'timeframe') continue; // Sigma 1: only meaningful with aggregations, which are refused in the condition
    if (identifiers.length >= LIMITS.identifiersPerRule) {
      r.problem(pair.key as Node, `more than ${LIMITS.identifiersPerRule} search identifiers`, label);
      ok = false;
      break;
    }
    const ident = readIdentifier(r, name, pair.key as Node, value, label);
    if (ident) identifiers.push(ident);
    else ok = false;
  }
  if (conditions.length === 0) {
    r.problem(detNode, 'the detection has no condition', label);
    ok = false;
  }
  if (!ok) return undefined;
  return { ...meta, kind: 'rule', logsource, identifiers, conditions };
}

function readScalarValue(r: Reader, node: Node | undefined, label: string): RawValue | undefined {
  if (!isScalar(node)) {
    r.problem(node, 'a value must be a string, number, boolean or null', label);
    return undefined;
  }
  const v = node.value;
  if (v === null || typeof v === 'boolean' || typeof v === 'string') {
    if (typeof v === 'string' && v.length > LIMITS.valueLength) {
      r.problem(node, `a value longer than ${LIMITS.valueLength} characters`, label);
      return undefined;
    }
    return v;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return String(v);
  // Dates and other tagged scalars: the text as written.
  return node.source ?? String(v);
}

function readIdentifier(r: Reader, name: string, keyNode: Node, value: Node | undefined, label: string): SearchIdentifier | undefined {
  const line = r.line(keyNode);
  const alternatives: DetectionMap[] = [];
  const keywords: RawValue[] = [];
  let ok = true;
  const addMap = (node: Node): void => {
    const map = readMap(r, node, label);
    if (map) alternatives.push(map);
    else ok = false;
  };
  if (isMap(value)) {
    addMap(value);
  } else if (isSeq(value)) {
    if (value.items.length > LIMITS.valuesPerItem) {
      r.problem(value, `more than ${LIMITS.valuesPerItem} values`, label);
      return undefined;
    }
    for (const raw of value.items) {
      const item = r.deref(raw);
      if (isMap(item)) addMap(item);
      else {
        const v = readScalarValue(r, item, label);
        if (v === undefined) ok = false;
        else keywords.push(v);
      }
    }
  } else if (isScalar(value)) {
    const v = readScalarValue(r, value, label);
    if (v === undefined) ok = false;
    else keywords.push(v);
  } else {
    r.problem(keyNode, `the search identifier "${name}" must be a map, a list of maps or a list of keywords`, label);
    return undefined;
  }
  if (keywords.length > 0) alternatives.push({ line, items: [{ field: undefined, modifiers: [], values: keywords, line }] });
  if (!ok) return undefined;
  if (alternatives.length === 0) {
    r.problem(keyNode, `the search identifier "${name}" is empty`, label);
    return undefined;
  }
  return { name, line, alternatives };
}

function readMap(r: Reader, node: Node, label: string): DetectionMap | undefined {
  if (!isMap(node)) return undefined;
  if (node.items.length > LIMITS.itemsPerMap) {
    r.problem(node, `more than ${LIMITS.itemsPerMap} fields in one map`, label);
    return undefined;
  }
  const items: DetectionItem[] = [];
  let ok = true;
  for (const pair of node.items) {
    const keyNode = pair.key as Node;
    const key = isScalar(keyNode) && keyNode.value !== null ? String(keyNode.value) : undefined;
    const line = r.line(keyNode);
    if (key === undefined) {
      r.problem(keyNode, 'a detection key must be "field" or "field|modifier…"', label);
      ok = false;
      continue;
    }
    const [field, ...modifiers] = key.split('|');
    const values: RawValue[] = [];
    const value = r.deref(pair.value);
    if (isSeq(value)) {
      if (value.items.length > LIMITS.valuesPerItem) {
        r.problem(value, `more than ${LIMITS.valuesPerItem} values`, label);
        ok = false;
        continue;
      }
      for (const raw of value.items) {
        const v = readScalarValue(r, r.deref(raw), label);
        if (v === undefined) ok = false;
        else values.push(v);
      }
      if (value.items.length === 0) {
        r.problem(value, `"${key}" has an empty list of values`, label);
        ok = false;
      }
    } else if (value === undefined || value === null) {
      values.push(null);
    } else {
      const v = readScalarValue(r, value, label);
      if (v === undefined) ok = false;
      else values.push(v);
    }
    items.push({ field: field === '' ? undefined : field, modifiers: modifiers.map((m) => m.trim()), values, line });
  }
  if (!ok) return undefined;
  return { items, line: r.line(node) };
}

function readStringList(r: Reader, node: Node | undefined, what: string, label: string): string[] | undefined {
  if (node === undefined) return [];
  if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) return [String(node.value)];
  if (!isSeq(node)) {
    r.problem(node, `"${what}" must be a list of strings`, label);
    return undefined;
  }
  const out: string[] = [];
  for (const raw of node.items) {
    const n = r.deref(raw);
    if (isScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number')) out.push(String(n.value));
    else {
      r.problem(n, `"${what}" must be a list of strings`, label);
      return undefined;
    }
  }
  return out;
}

function mapEntries(r: Reader, node: Node | undefined): Map<string, Node | undefined> {
  const out = new Map<string, Node | undefined>();
  if (isMap(node)) for (const pair of node.items) if (isScalar(pair.key)) out.set(String(pair.key.value), r.deref(pair.value));
  return out;
}

function readCorrelation(r: Reader, meta: RuleMeta, node: Node | undefined, label: string): CorrelationModel | undefined {
  if (!isMap(node)) {
    r.problem(node ?? meta.line, '"correlation" must be a map (type, rules, group-by, timespan, condition)', label);
    return undefined;
  }
  const c = mapEntries(r, node);
  const scalarOf = (k: string): unknown => {
    const n = c.get(k);
    return isScalar(n) ? n.value : undefined;
  };
  let ok = true;
  const type = scalarOf('type');
  if (typeof type !== 'string' || !(CORRELATION_TYPES as readonly string[]).includes(type)) {
    r.problem(c.get('type') ?? node, `correlation "type" must be one of ${CORRELATION_TYPES.join(', ')}`, label);
    return undefined;
  }
  const rules = readStringList(r, c.get('rules'), 'rules', label);
  if (!rules || rules.length === 0) {
    r.problem(c.get('rules') ?? node, 'a correlation needs "rules": the names or ids of the rules it correlates', label);
    ok = false;
  }
  const groupBy = readStringList(r, c.get('group-by'), 'group-by', label) ?? [];
  const timespanText = scalarOf('timespan');
  const timespanMs = parseTimespan(timespanText);
  if (timespanMs === undefined) {
    r.problem(c.get('timespan') ?? node, 'correlation "timespan" must be a number and a unit: 30s, 5m, 1h, 7d', label);
    ok = false;
  }
  const aliases: Record<string, Record<string, string>> = {};
  const aliasNode = c.get('aliases');
  if (aliasNode !== undefined) {
    if (!isMap(aliasNode)) {
      r.problem(aliasNode, '"aliases" must map each alias to { rule name: field }', label);
      ok = false;
    } else {
      for (const [alias, target] of mapEntries(r, aliasNode)) {
        const per: Record<string, string> = {};
        if (!isMap(target)) {
          r.problem(target ?? aliasNode, `alias "${alias}" must map rule names to fields`, label);
          ok = false;
          continue;
        }
        for (const [ruleRef, field] of mapEntries(r, target)) {
          if (isScalar(field) && typeof field.value === 'string') per[ruleRef] = field.value;
          else {
            r.problem(field ?? target, `alias "${alias}" for "${ruleRef}" must name a field`, label);
            ok = false;
          }
        }
        aliases[alias] = per;
      }
    }
  }
  const temporal = type === 'temporal' || type === 'temporal_ordered';
  const condition: CorrelationCondition = { tests: [] };
  const condNode = c.get('condition');
  if (condNode === undefined) {
    if (!temporal) {
      r.problem(node, `a ${type} correlation needs a "condition" (gte: N …)`, label);
      ok = false;
    } else condition.tests.push({ op: 'gte', value: rules?.length ?? 0 });
  } else if (!isMap(condNode)) {
    r.problem(condNode, 'correlation "condition" must be a map such as { gte: 10 } (extended string conditions are not supported)', label);
    ok = false;
  } else {
    for (const [k, v] of mapEntries(r, condNode)) {
      const value = isScalar(v) ? v.value : undefined;
      if ((COMPARE_OPS as readonly string[]).includes(k)) {
        if (typeof value === 'number' && Number.isFinite(value)) condition.tests.push({ op: k as CompareOp, value });
        else {
          r.problem(v ?? condNode, `condition "${k}" needs a number`, label);
          ok = false;
        }
      } else if (k === 'field') {
        if (typeof value === 'string' && value !== '') condition.field = value;
        else {
          r.problem(v ?? condNode, 'condition "field" must name one field', label);
          ok = false;
        }
      } else if (k === 'percentile') {
        if (typeof value === 'number' && value > 0 && value <= 100) condition.percentile = value;
        else {
          r.problem(v ?? condNode, 'condition "percentile" must be a number in (0, 100]', label);
          ok = false;
        }
      } else {
        r.problem(v ?? condNode, `unknown correlation condition "${k}": use gt, gte, lt, lte, eq, neq, field, percentile`, label);
        ok = false;
      }
    }
    if (condition.tests.length === 0) {
      r.problem(condNode, 'correlation "condition" needs a comparison (gt, gte, lt, lte, eq, neq)', label);
      ok = false;
    }
  }
  const needsField = type !== 'event_count' && !temporal;
  if (needsField && condition.field === undefined) {
    r.problem(condNode ?? node, `a ${type} correlation needs "field" in its condition`, label);
    ok = false;
  }
  if (!temporal && type !== 'event_count' && groupBy.length === 0 && c.get('group-by') === undefined) {
    // group-by is optional in practice (one global group); nothing to report.
  }
  const generate = scalarOf('generate');
  if (generate !== undefined && typeof generate !== 'boolean') {
    r.problem(c.get('generate'), '"generate" must be true or false', label);
    ok = false;
  }
  if (!ok || !rules || timespanMs === undefined) return undefined;
  return {
    ...meta,
    kind: 'correlation',
    type: type as CorrelationType,
    rules,
    groupBy,
    timespanMs,
    timespan: String(timespanText),
    aliases,
    condition,
    generate: generate === true,
  };
}

function readVigil(r: Reader, meta: RuleMeta, node: Node | undefined, label: string): BaselineModel | TravelModel | undefined {
  if (!isMap(node)) {
    r.problem(node ?? meta.line, `"vigil" must be a map with a "type" (${VIGIL_TYPES.join(', ')}) and its settings`, label);
    return undefined;
  }
  const c = mapEntries(r, node);
  const type = c.get('type');
  const value = isScalar(type) ? type.value : undefined;
  if (value === 'rate_spike') return readBaseline(r, meta, node, c, label);
  if (value === 'impossible_travel') return readTravel(r, meta, node, c, label);
  r.problem(type ?? node, `vigil "type" must be one of ${VIGIL_TYPES.join(', ')}`, label);
  return undefined;
}

function scalarOf(m: Map<string, Node | undefined>, k: string): unknown {
  const n = m.get(k);
  return isScalar(n) ? n.value : undefined;
}

function readTravel(r: Reader, meta: RuleMeta, node: Node, c: Map<string, Node | undefined>, label: string): TravelModel | undefined {
  let ok = true;
  const rules = readStringList(r, c.get('rules'), 'rules', label);
  if (!rules || rules.length === 0) {
    r.problem(c.get('rules') ?? node, 'impossible_travel needs "rules": the names or ids of the rules matching successful logins', label);
    ok = false;
  }
  const groupBy = readStringList(r, c.get('group-by'), 'group-by', label) ?? [];
  if (groupBy.length === 0) {
    r.problem(c.get('group-by') ?? node, 'impossible_travel needs "group-by": whose logins are compared (user.name)', label);
    ok = false;
  }
  const timespanText = scalarOf(c, 'timespan');
  const timespanMs = parseTimespan(timespanText);
  if (timespanMs === undefined) {
    r.problem(c.get('timespan') ?? node, 'vigil "timespan" must be a duration such as 24h', label);
    ok = false;
  }
  const cond = mapEntries(r, c.get('condition'));
  for (const k of cond.keys()) {
    if (k !== 'speed_kmh' && k !== 'min_distance_km') {
      r.problem(cond.get(k) ?? node, `unknown impossible_travel condition "${k}": use speed_kmh, min_distance_km`, label);
      ok = false;
    }
  }
  const num = (k: string, dflt: number, min: number): number => {
    const v = conditionNumber(r, cond, node, label, k, min);
    if (v === null) ok = false;
    return v ?? dflt;
  };
  const speedKmh = num('speed_kmh', 1000, 1);
  const minDistanceKm = num('min_distance_km', 500, 0);
  if (!ok || !rules || timespanMs === undefined) return undefined;
  return { ...meta, kind: 'travel', type: 'impossible_travel', rules, groupBy, timespanMs, timespan: String(timespanText), speedKmh, minDistanceKm };
}

/** A number of a vigil condition map: undefined when absent; null, reported, when it is not a number ≥ min. */
function conditionNumber(r: Reader, cond: Map<string, Node | undefined>, node: Node, label: string, k: string, min: number): number | null | undefined {
  const v = scalarOf(cond, k);
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v >= min) return v;
  r.problem(cond.get(k) ?? node, `vigil condition "${k}" must be a number ≥ ${min}`, label);
  return null;
}

function readBaseline(r: Reader, meta: RuleMeta, node: Node, c: Map<string, Node | undefined>, label: string): BaselineModel | undefined {
  let ok = true;
  const total = scalarOf(c, 'total');
  const matching = scalarOf(c, 'matching');
  for (const [k, v] of [['total', total], ['matching', matching]] as const) {
    if (typeof v !== 'string' || v === '') {
      r.problem(c.get(k) ?? node, `vigil "${k}" must name a rule (its name or id)`, label);
      ok = false;
    }
  }
  const groupBy = readStringList(r, c.get('group-by'), 'group-by', label) ?? [];
  const timespanMs = parseTimespan(scalarOf(c, 'timespan'));
  const baselineMs = parseTimespan(scalarOf(c, 'baseline'));
  if (timespanMs === undefined) {
    r.problem(c.get('timespan') ?? node, 'vigil "timespan" must be a duration such as 5m', label);
    ok = false;
  }
  if (baselineMs === undefined || (timespanMs !== undefined && baselineMs < timespanMs)) {
    r.problem(c.get('baseline') ?? node, 'vigil "baseline" must be a duration at least as long as "timespan", such as 1h', label);
    ok = false;
  }
  const cond = mapEntries(r, c.get('condition'));
  const num = (k: string, dflt: number, min: number): number => {
    const v = conditionNumber(r, cond, node, label, k, min);
    if (v === null) ok = false;
    return v ?? dflt;
  };
  const factor = num('factor', 3, 1);
  const minEvents = num('min_events', 20, 1);
  const minShare = num('min_share', 0.05, 0);
  if (!ok || timespanMs === undefined || baselineMs === undefined) return undefined;
  return { ...meta, kind: 'baseline', type: 'rate_spike', total: total as string, matching: matching as string, groupBy, timespanMs, baselineMs, factor, minEvents, minShare };
}
