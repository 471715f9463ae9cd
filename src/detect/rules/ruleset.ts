// A compiled rule set: Sigma rules dispatched by dataset (an event meets only rules whose logsource can select
// it), correlations and baseline detectors wired to the rules they reference, and the report of what loaded,
// what is inactive and what was rejected and why. Built whole, then swapped in at once by the engine.
import { DEFAULT_WINDOW_LIMITS, SigmaCorrelation, type RefBinding, type WindowLimits } from '../correlate/correlation.js';
import { ImpossibleTravel, type TravelBinding } from '../correlate/impossible-travel.js';
import { RateSpike, type RateSpikeBinding } from '../correlate/rate-spike.js';
import { compileSigmaRule, type CompiledRule } from './compile.js';
import type { LogsourceEntry, SigmaMapping } from './mapping.js';
import { describeLogsource, resolveField } from './mapping.js';
import { accessor, EvalContext, FieldTable } from './match.js';
import type { BaselineModel, CorrelationModel, RuleModel, RuleProblem, SigmaRuleModel, TravelModel } from './model.js';
import type { ExtensionRegistry } from './modifiers.js';
import type { RuleKind } from './info.js';

export interface RuleSetOptions {
  mapping: SigmaMapping;
  extensions: ExtensionRegistry;
  placeholders: Readonly<Record<string, readonly string[]>>;
  limits: WindowLimits;
}

/** A detector that takes matches of referenced rules: a Sigma correlation, a rate_spike or an impossible_travel. */
export type Stateful = SigmaCorrelation | RateSpike | ImpossibleTravel;


export interface RuleEntry {
  /** Stable id: the rule's `id`, else its `name`, else file:line. */
  key: string;
  model: RuleModel;
  kind: RuleKind;
  compiled?: CompiledRule;
  detector?: Stateful;
  /** Why it never matches here (inactive logsource, or references only inactive rules). */
  inactive?: string;
  /** False for a rule only used by correlations that do not `generate` it. */
  emits: boolean;
  /** Detectors fed by this rule's matches (ref = its index in their rules list), highest ref first. */
  listeners: { target: RuleEntry; ref: number }[];
}

/** A rule needing one of more literals than this is run on every event (its literals would be in most events anyway). */
const MAX_NEEDS = 1024;

/** Rules of one logsource entry, with the test that the event belongs to it. */
export interface DispatchGroup {
  entry: LogsourceEntry;
  gate: (ctx: EvalContext) => boolean;
  rules: RuleEntry[];
  /** Rules evaluated on every event of the group (no necessary literal known), and their indices in `rules`. */
  always: RuleEntry[];
  alwaysIndex: number[];
  /** Needle id → rules that can only match when it occurs. */
  byNeedle: (number[] | undefined)[];
  /** Slots whose automata must run before `byNeedle` is consulted. */
  scanSlots: number[];
  /** Per rule (by index in `rules`), the event stamp it was last picked at. */
  picked: Int32Array;
}

export interface LoadReport {
  files: number;
  /** Rules (Sigma, correlations, baselines) compiled. */
  compiled: number;
  active: number;
  /** Compiled rules that can never match here, with why. */
  inactive: { key: string; title: string; file: string; reason: string }[];
  /** Rejected documents and files: file, line, reason. */
  rejected: RuleProblem[];
  /** Compiled rules per logsource, for the report. */
  byLogsource: Record<string, number>;
}

export interface RuleSet {
  entries: RuleEntry[];
  byKey: Map<string, RuleEntry>;
  table: FieldTable;
  ctx: EvalContext;
  byDataset: Map<string, DispatchGroup[]>;
  anyDataset: DispatchGroup[];
  report: LoadReport;
}

/** The rule's `id`, else its `name`, else where it is (`file:line`, stable while the file is unchanged). */
function ruleKey(model: RuleModel, _index: number): string {
  return model.id ?? model.name ?? `${model.file}:${model.line}`;
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** What must be equal for a reloaded correlation to keep its windows. */
export function fingerprint(model: RuleModel): string {
  const { file: _file, line: _line, ...rest } = model;
  return stableJson(rest);
}

/** Compiles models into a rule set; `problems` are those found while reading files. */
export function buildRuleSet(models: RuleModel[], problems: RuleProblem[], files: number, options: RuleSetOptions): RuleSet {
  const table = new FieldTable();
  const scratch = new FieldTable();
  const rejected: RuleProblem[] = [...problems];
  const entries: RuleEntry[] = [];
  const byKey = new Map<string, RuleEntry>();
  const byRef = new Map<string, RuleEntry>();

  const register = (entry: RuleEntry): boolean => {
    const m = entry.model;
    const existing = byKey.get(entry.key);
    if (existing) {
      rejected.push({ file: m.file, line: m.line, message: `duplicate rule id "${entry.key}" (also in ${existing.model.file}:${existing.model.line})`, rule: m.title });
      return false;
    }
    byKey.set(entry.key, entry);
    entries.push(entry);
    if (m.id) byRef.set(m.id, entry);
    if (m.name) {
      const holder = byRef.get(m.name);
      if (holder && holder !== entry && holder.model !== m) {
        rejected.push({ file: m.file, line: m.line, message: `duplicate rule name "${m.name}"`, rule: m.title });
      } else byRef.set(m.name, entry);
    }
    return true;
  };

  // 1. Sigma rules.
  models.forEach((model, index) => {
    if (model.kind !== 'rule') return;
    const { rule, problems: ps } = compileSigmaRule(model, { table, mapping: options.mapping, extensions: options.extensions, placeholders: options.placeholders }, scratch);
    rejected.push(...ps);
    if (!rule) return;
    const entry: RuleEntry = { key: ruleKey(model, index), model, kind: 'sigma', compiled: rule, emits: true, listeners: [] };
    if (rule.inactive) entry.inactive = rule.inactive;
    register(entry);
  });

  // 2. Correlations and baselines, in an order where every reference is compiled first (chains allowed).
  const pending = models
    .map((model, index) => ({ model, index }))
    .filter((p): p is { model: CorrelationModel | BaselineModel | TravelModel; index: number } => p.model.kind !== 'rule');
  for (const p of pending) {
    // Register names first so that a correlation may reference one defined later in the same folder.
    if (p.model.name && !byRef.has(p.model.name)) byRef.set(p.model.name, placeholderEntry(p.model, ruleKey(p.model, p.index)));
    if (p.model.id && !byRef.has(p.model.id)) byRef.set(p.model.id, placeholderEntry(p.model, ruleKey(p.model, p.index)));
  }
  let progress = true;
  const done = new Set<RuleModel>();
  while (progress) {
    progress = false;
    for (const p of pending) {
      if (done.has(p.model)) continue;
      const refs = p.model.kind === 'baseline' ? [p.model.total, p.model.matching] : p.model.rules;
      const targets = refs.map((r) => byRef.get(r));
      const missing = refs.filter((_, i) => targets[i] === undefined);
      if (missing.length > 0) {
        rejected.push({ file: p.model.file, line: p.model.line, message: `references unknown rule${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`, rule: p.model.title });
        done.add(p.model);
        progress = true;
        continue;
      }
      if (targets.some((t) => t!.kind !== 'sigma' && t!.detector === undefined && t!.model !== p.model)) continue; // wait for inner correlations
      done.add(p.model);
      progress = true;
      if (targets.some((t) => t!.model === p.model)) {
        rejected.push({ file: p.model.file, line: p.model.line, message: 'a correlation cannot reference itself', rule: p.model.title });
        continue;
      }
      const key = ruleKey(p.model, p.index);
      const entry =
        p.model.kind === 'correlation'
          ? buildCorrelation(p.model, targets as RuleEntry[], key)
          : p.model.kind === 'travel'
            ? buildTravel(p.model, targets as RuleEntry[], key)
            : buildBaseline(p.model, targets as RuleEntry[], key);
      if (!entry || !register(entry)) {
        // Rules that reference this one now see it as unknown.
        for (const ref of [p.model.id, p.model.name]) if (ref !== undefined && byRef.get(ref)?.model === p.model) byRef.delete(ref);
        continue;
      }
      if (p.model.id) byRef.set(p.model.id, entry);
      if (p.model.name) byRef.set(p.model.name, entry);
      (targets as RuleEntry[]).forEach((t, ref) => t.listeners.push({ target: entry, ref }));
    }
  }
  for (const p of pending) {
    if (!done.has(p.model)) rejected.push({ file: p.model.file, line: p.model.line, message: 'correlation references form a cycle', rule: p.model.title });
  }
  for (const e of entries) e.listeners.sort((a, b) => b.ref - a.ref);

  // 3. Rules referenced only by correlations that do not `generate` them stay silent (Sigma correlation spec).
  for (const e of entries) {
    const correlations = e.listeners.filter((l) => l.target.kind === 'correlation').map((l) => l.target.model as CorrelationModel);
    const baselines = e.listeners.filter((l) => l.target.kind === 'baseline' || l.target.kind === 'travel');
    if ((correlations.length > 0 || baselines.length > 0) && !correlations.some((c) => c.generate)) e.emits = false;
  }

  function buildCorrelation(model: CorrelationModel, targets: RuleEntry[], key: string): RuleEntry | undefined {
    const problems: string[] = [];
    const groupFields = model.groupBy.map((g) => ecsName(targets[0]!, model.aliases[g]?.[refName(targets[0]!)] ?? g));
    const refs: RefBinding[] = targets.map((t) => {
      const group = model.groupBy.map((g) => reader(t, aliasFor(model, g, t) ?? g, problems, `group-by "${g}"`));
      const binding: RefBinding = { name: refName(t), group };
      if (model.condition.field) binding.value = rawReader(t, aliasFor(model, model.condition.field, t) ?? model.condition.field, problems, 'condition field');
      return binding;
    });
    if (problems.length > 0) {
      rejected.push({ file: model.file, line: model.line, message: problems.join('; '), rule: model.title });
      return undefined;
    }
    const entry: RuleEntry = { key, model, kind: 'correlation', detector: new SigmaCorrelation(model, refs, groupFields, options.limits), emits: true, listeners: [] };
    const inactive = targets.filter((t) => t.inactive);
    if (inactive.length === targets.length) entry.inactive = `references only inactive rules (${inactive[0]!.inactive})`;
    return entry;
  }

  function buildBaseline(model: BaselineModel, targets: RuleEntry[], key: string): RuleEntry | undefined {
    const problems: string[] = [];
    if (targets.some((t) => t.kind !== 'sigma')) problems.push('"total" and "matching" must name Sigma rules');
    const bind = (t: RuleEntry): RateSpikeBinding => ({ group: model.groupBy.map((g) => reader(t, g, problems, `group-by "${g}"`)) });
    const refs: [RateSpikeBinding, RateSpikeBinding] = [bind(targets[0]!), bind(targets[1]!)];
    if (problems.length > 0) {
      rejected.push({ file: model.file, line: model.line, message: problems.join('; '), rule: model.title });
      return undefined;
    }
    const groupFields = model.groupBy.map((g) => ecsName(targets[0]!, g));
    const entry: RuleEntry = { key, model, kind: 'baseline', detector: new RateSpike(model, refs, groupFields, options.limits), emits: true, listeners: [] };
    if (targets.every((t) => t.inactive)) entry.inactive = `references only inactive rules (${targets[0]!.inactive})`;
    return entry;
  }

  function buildTravel(model: TravelModel, targets: RuleEntry[], key: string): RuleEntry | undefined {
    const problems: string[] = [];
    if (targets.some((t) => t.kind !== 'sigma')) problems.push('"rules" must name Sigma rules (the successful logins)');
    const refs: TravelBinding[] = targets.map((t) => ({ group: model.groupBy.map((g) => reader(t, g, problems, `group-by "${g}"`)) }));
    if (problems.length > 0) {
      rejected.push({ file: model.file, line: model.line, message: problems.join('; '), rule: model.title });
      return undefined;
    }
    const groupFields = model.groupBy.map((g) => ecsName(targets[0]!, g));
    const entry: RuleEntry = { key, model, kind: 'travel', detector: new ImpossibleTravel(model, refs, groupFields, options.limits), emits: true, listeners: [] };
    if (targets.every((t) => t.inactive)) entry.inactive = `references only inactive rules (${targets[0]!.inactive})`;
    return entry;
  }

  // 4. Dispatch groups (their gates read fields too), then the field table, automata and evaluation context.
  const groups = new Map<LogsourceEntry, DispatchGroup>();
  for (const e of entries) {
    const entry = e.compiled?.entry;
    if (!entry || e.inactive) continue;
    let g = groups.get(entry);
    if (!g) groups.set(entry, (g = { entry, gate: gateFor(entry, table), rules: [], always: [], alwaysIndex: [], byNeedle: [], scanSlots: [], picked: new Int32Array(0) }));
    g.rules.push(e);
  }
  for (const g of groups.values()) {
    const slots = new Set<number>();
    g.rules.forEach((rule, index) => {
      const need = rule.compiled!.need;
      if (!need || need.length > MAX_NEEDS) {
        g.always.push(rule);
        g.alwaysIndex.push(index);
        return;
      }
      for (const n of need) {
        slots.add(n.slot);
        (g.byNeedle[n.needle] ??= []).push(index);
      }
    });
    g.scanSlots = [...slots];
    g.picked = new Int32Array(g.rules.length);
  }
  const byDataset = new Map<string, DispatchGroup[]>();
  const anyDataset: DispatchGroup[] = [];
  for (const g of groups.values()) {
    for (const ds of g.entry.datasets) {
      if (ds === '*') anyDataset.push(g);
      else {
        const list = byDataset.get(ds) ?? [];
        list.push(g);
        byDataset.set(ds, list);
      }
    }
  }

  table.finalize();
  const ctx = new EvalContext(table);

  const byLogsource: Record<string, number> = {};
  for (const e of entries) {
    const label = e.kind === 'sigma' ? describeLogsource((e.model as SigmaRuleModel).logsource) : e.kind;
    byLogsource[label] = (byLogsource[label] ?? 0) + 1;
  }
  const inactive = entries.filter((e) => e.inactive).map((e) => ({ key: e.key, title: e.model.title, file: e.model.file, reason: e.inactive! }));
  const report: LoadReport = { files, compiled: entries.length, active: entries.length - inactive.length, inactive, rejected, byLogsource };
  return { entries, byKey, table, ctx, byDataset, anyDataset, report };
}

function placeholderEntry(model: CorrelationModel | BaselineModel | TravelModel, key: string): RuleEntry {
  return { key, model, kind: model.kind, emits: true, listeners: [] };
}

function refName(t: RuleEntry): string {
  return t.model.name ?? t.model.id ?? t.model.title;
}

function aliasFor(model: CorrelationModel, field: string, t: RuleEntry): string | undefined {
  const alias = model.aliases[field];
  if (!alias) return undefined;
  return (t.model.name !== undefined ? alias[t.model.name] : undefined) ?? (t.model.id !== undefined ? alias[t.model.id] : undefined);
}

/** The ECS path(s) a correlation reads for `field` on events of rule `t` (mapped through its logsource). */
function pathsFor(t: RuleEntry, field: string, problems: string[], what: string): string[] {
  if (t.kind !== 'sigma') return [field];
  const resolved = resolveField(t.compiled?.entry, field);
  if (!resolved.ok) {
    problems.push(`${what}: ${resolved.reason} (rule "${t.model.title}")`);
    return [field];
  }
  return resolved.fields;
}

function ecsName(t: RuleEntry, field: string): string {
  return pathsFor(t, field, [], '')[0] ?? field;
}

function rawReader(t: RuleEntry, field: string, problems: string[], what: string): (doc: Record<string, unknown>) => unknown {
  const paths = pathsFor(t, field, problems, what);
  // A correlation's own detection carries its group values under the group-by name.
  const names = t.kind === 'sigma' ? paths : [field, ...paths];
  const readers = names.map(accessor);
  if (readers.length === 1) {
    const read = readers[0]!;
    return (doc) => read(doc) ?? undefined;
  }
  return (doc) => {
    for (const read of readers) {
      const v = read(doc);
      if (v !== undefined && v !== null) return v;
    }
    return undefined;
  };
}

function reader(t: RuleEntry, field: string, problems: string[], what: string): (doc: Record<string, unknown>) => string | undefined {
  const read = rawReader(t, field, problems, what);
  return (doc) => {
    let v = read(doc);
    if (Array.isArray(v)) v = v[0];
    if (v === undefined || v === null || typeof v === 'object') return undefined;
    return String(v);
  };
}

/** The `where` conditions of a logsource entry, compiled (values compared case-insensitively). */
function gateFor(entry: LogsourceEntry, table: FieldTable): (c: EvalContext) => boolean {
  const conditions = Object.entries(entry.where ?? {}).map(([field, values]) => ({ slot: table.slot(field), values: new Set(values.map((v) => v.toLowerCase())) }));
  if (conditions.length === 0) return () => true;
  return (c) => {
    for (const cond of conditions) {
      let ok = false;
      for (const v of c.lowered(cond.slot)) if (cond.values.has(v)) ok = true;
      if (!ok) return false;
    }
    return true;
  };
}
