// Test helpers: a rule from YAML text, compiled with the real mapping and matched against events.
import type { EcsEvent } from '../../core/event.js';
import { compileSigmaRule, type CompiledRule } from './compile.js';
import { DEFAULT_MAPPING, type SigmaMapping } from './mapping.js';
import { EvalContext, FieldTable } from './match.js';
import { readRuleFile, type RuleProblem, type SigmaRuleModel } from './model.js';
import type { ExtensionRegistry } from './modifiers.js';

export interface TestRule {
  rule?: CompiledRule;
  problems: RuleProblem[];
  /** True when the event matches. */
  matches(event: Record<string, unknown>): boolean;
  explain(event: Record<string, unknown>): string;
}

let counter = 0;

/** An event with the fields given and the required ones filled in. */
export function makeEvent(fields: Record<string, unknown>): EcsEvent {
  const event = { '@timestamp': '2025-01-20T10:00:00.000Z', ...fields } as Record<string, unknown>;
  const meta = (event.event ?? {}) as Record<string, unknown>;
  event.event = { id: `t-${++counter}`, dataset: 'json', ...meta };
  return event as unknown as EcsEvent;
}

export function compileYaml(
  yaml: string,
  options: { mapping?: SigmaMapping; extensions?: ExtensionRegistry; placeholders?: Record<string, string[]> } = {},
): TestRule {
  const { models, problems } = readRuleFile(yaml, 'test.yml');
  const model = models.find((m): m is SigmaRuleModel => m.kind === 'rule');
  if (!model) return { problems, matches: () => false, explain: () => '' };
  const table = new FieldTable();
  const { rule, problems: more } = compileSigmaRule(
    model,
    { table, mapping: options.mapping ?? DEFAULT_MAPPING, extensions: options.extensions ?? {}, placeholders: options.placeholders ?? {} },
    table,
  );
  table.finalize();
  const ctx = new EvalContext(table);
  const run = (fields: Record<string, unknown>): boolean => {
    ctx.reset(makeEvent(fields), 0);
    return rule!.match(ctx);
  };
  const result: TestRule = {
    problems: [...problems, ...more],
    matches: (e) => (rule ? run(e) : false),
    explain: (e) => (rule && run(e) ? rule.explain(ctx) : ''),
  };
  if (rule) result.rule = rule;
  return result;
}

/** A one-selection rule on `logsource` (default: webserver) with the given detection body. */
export function ruleWith(detection: string, logsource = 'category: webserver'): string {
  return `title: test rule\nid: test-1\nlogsource:\n    ${logsource}\ndetection:\n${detection}\nlevel: high\n`;
}
