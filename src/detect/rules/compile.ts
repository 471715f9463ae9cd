// Compiles a Sigma rule model into a predicate over one event: search identifiers become AND/OR trees of checks
// (cheapest first), the condition a tree of closures. Field names go through the logsource mapping; every
// problem names the file and line. Nothing here runs per event except the closures it returns.
import { ConditionError, identifierMatches, parseCondition, type ConditionNode } from './condition.js';
import type { LogsourceEntry, SigmaMapping } from './mapping.js';
import { findLogsource, inactiveReason } from './mapping.js';
import type { EvalContext, FieldTable } from './match.js';
import type { RuleProblem, SigmaRuleModel } from './model.js';
import { compileItem, ItemError, sharpest, type Check, type ExtensionRegistry, type Need } from './modifiers.js';

export interface CompileOptions {
  table: FieldTable;
  mapping: SigmaMapping;
  extensions: ExtensionRegistry;
  placeholders: Readonly<Record<string, readonly string[]>>;
}

export interface CompiledRule {
  model: SigmaRuleModel;
  /** The logsource entry it reads; undefined when Vigil has no events of that kind. */
  entry: LogsourceEntry | undefined;
  /** Why it can never match here ("no Vigil source for product windows"). */
  inactive?: string;
  match(ctx: EvalContext): boolean;
  /** Which selections and fields matched (call only after match returned true). */
  explain(ctx: EvalContext): string;
  /** When set, the rule can only match if one of these literals occurs (the engine indexes rules by them). */
  need?: Need[];
}

interface Selection {
  name: string;
  test(ctx: EvalContext): boolean;
  explain(ctx: EvalContext): string;
  cost: number;
  need?: Need[];
}

interface Node {
  test(ctx: EvalContext): boolean;
  cost: number;
  /** Literals one of which must occur for the node to hold (undefined: no such guarantee). */
  need?: Need[];
}

/** AND needs what any part needs: the part whose literals are least likely to occur is the sharpest filter. */
function andNeed(parts: Node[]): Need[] | undefined {
  return sharpest(parts.map((p) => p.need));
}

/** OR needs something only when every part does. */
function orNeed(parts: Node[]): Need[] | undefined {
  if (parts.length === 0 || parts.some((p) => !p.need)) return undefined;
  return parts.flatMap((p) => p.need!);
}

function withNeed(node: Node, need: Need[] | undefined): Node {
  if (need) node.need = need;
  return node;
}

function andOf(parts: Node[]): Node {
  const sorted = [...parts].sort((a, b) => a.cost - b.cost);
  if (sorted.length === 1) return sorted[0]!;
  const tests = sorted.map((p) => p.test);
  if (tests.length === 2) {
    const [a, b] = tests as [Node['test'], Node['test']];
    return withNeed({ cost: sorted[0]!.cost + sorted[1]!.cost, test: (ctx) => a(ctx) && b(ctx) }, andNeed(parts));
  }
  return withNeed(
    {
      cost: sorted.reduce((n, p) => n + p.cost, 0),
      test: (ctx) => {
        for (const t of tests) if (!t(ctx)) return false;
        return true;
      },
    },
    andNeed(parts),
  );
}

function orOf(parts: Node[]): Node {
  const sorted = [...parts].sort((a, b) => a.cost - b.cost);
  if (sorted.length === 1) return sorted[0]!;
  const tests = sorted.map((p) => p.test);
  return withNeed(
    {
      cost: sorted.reduce((n, p) => n + p.cost, 0),
      test: (ctx) => {
        for (const t of tests) if (t(ctx)) return true;
        return false;
      },
    },
    orNeed(parts),
  );
}

/**
 * Compiles one rule. A rule whose logsource Vigil has no events for is compiled all the same (so its mistakes are
 * reported) against a scratch field table, and marked inactive.
 */
export function compileSigmaRule(model: SigmaRuleModel, options: CompileOptions, scratch: FieldTable): { rule?: CompiledRule; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const entry = findLogsource(options.mapping, model.logsource);
  const inactive = entry === undefined ? inactiveReason(options.mapping, model.logsource) : undefined;
  const table = entry === undefined ? scratch : options.table;
  const env = { table, entry, extensions: options.extensions, placeholders: options.placeholders };
  const label = model.title;

  const selections = new Map<string, Selection>();
  for (const ident of model.identifiers) {
    const alternatives: { checks: Check[]; node: Node }[] = [];
    let ok = true;
    for (const alt of ident.alternatives) {
      const checks: Check[] = [];
      for (const item of alt.items) {
        try {
          checks.push(compileItem(item, env));
        } catch (err) {
          if (!(err instanceof ItemError)) throw err;
          const key = [item.field ?? '', ...item.modifiers].join('|');
          problems.push({ file: model.file, line: item.line, message: `${ident.name}: ${key === '' ? 'keyword' : `"${key}"`}: ${err.message}`, rule: label });
          ok = false;
        }
      }
      if (!ok) continue;
      const node: Node = checks.length === 0 ? { cost: 0, test: () => true } : andOf(checks);
      alternatives.push({ checks: [...checks].sort((a, b) => a.cost - b.cost), node });
    }
    if (!ok) continue;
    const combined = orOf(alternatives.map((a) => a.node));
    selections.set(ident.name, {
      name: ident.name,
      cost: combined.cost,
      test: combined.test,
      ...(combined.need ? { need: combined.need } : {}),
      explain: (ctx) => {
        const alt = alternatives.find((a) => a.node.test(ctx));
        return alt ? alt.checks.map((c) => c.explain(ctx)).join(', ') : '';
      },
    });
  }
  if (problems.length > 0) return { problems };

  const names = model.identifiers.map((i) => i.name);
  const trees: { tree: ConditionNode; node: Node }[] = [];
  for (const cond of model.conditions) {
    try {
      const tree = parseCondition(cond.text);
      trees.push({ tree, node: build(tree) });
    } catch (err) {
      if (!(err instanceof ConditionError)) throw err;
      problems.push({ file: model.file, line: cond.line, message: `condition: ${err.message}`, rule: label });
    }
  }
  if (problems.length > 0) return { problems };

  function build(n: ConditionNode): Node {
    switch (n.type) {
      case 'id': {
        const sel = selections.get(n.name);
        if (!sel) throw new ConditionError(`"${n.name}" is not a search identifier of this rule (it has ${names.join(', ')})`);
        return sel;
      }
      case 'not': {
        const inner = build(n.arg);
        return { cost: inner.cost, test: (ctx) => !inner.test(ctx) };
      }
      case 'and':
        return andOf(n.args.map(build));
      case 'or':
        return orOf(n.args.map(build));
      case 'of': {
        const matched = names.filter((name) => identifierMatches(n.pattern, name)).map((name) => selections.get(name)!);
        if (matched.length === 0) throw new ConditionError(`"${n.quantifier === 'all' ? 'all' : '1'} of ${n.pattern}" matches no search identifier`);
        return n.quantifier === 'all' ? andOf(matched) : orOf(matched);
      }
    }
  }

  const root = orOf(trees.map((t) => t.node));
  /** Identifiers that count for a match: those reached without a `not` above them. */
  const positive = new Set<string>();
  const walk = (n: ConditionNode, negated: boolean): void => {
    if (n.type === 'id') {
      if (!negated) positive.add(n.name);
    } else if (n.type === 'not') walk(n.arg, !negated);
    else if (n.type === 'of') {
      if (!negated) for (const name of names) if (identifierMatches(n.pattern, name)) positive.add(name);
    } else for (const a of n.args) walk(a, negated);
  };
  for (const t of trees) walk(t.tree, false);

  const rule: CompiledRule = {
    model,
    entry,
    match: root.test,
    explain: (ctx) => {
      const parts: string[] = [];
      for (const name of positive) {
        const sel = selections.get(name)!;
        if (sel.test(ctx)) parts.push(`${name}: ${sel.explain(ctx)}`);
      }
      return parts.length > 0 ? parts.join('; ') : 'condition holds';
    },
  };
  if (inactive !== undefined) rule.inactive = inactive;
  if (root.need) rule.need = dedupe(root.need);
  return { rule, problems };
}

function dedupe(needs: Need[]): Need[] {
  const seen = new Set<number>();
  return needs.filter((n) => (seen.has(n.needle) ? false : (seen.add(n.needle), true)));
}
