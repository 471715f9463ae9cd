// `vigil rules validate [DIR…]` and `vigil rules test RULE EVENTS`: check rule files offline, without a server.
// validate lists every rejected rule with file:line and why, and the counts; test shows which events a rule
// matches and why, and when its correlations fire.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig } from '../config/config.js';
import type { Detection } from '../core/detection.js';
import { VigilError } from '../core/errors.js';
import type { EcsEvent } from '../core/event.js';
import { BUILTIN_RULES_DIR, RuleEngine, ruleEngineOptions, type RuleEngineOptions } from '../detect/rules/engine.js';
import type { LoadReport } from '../detect/rules/ruleset.js';
import { isFormat, parseLine } from '../parsers/index.js';
import { normalizeLine } from '../pipeline/normalize.js';
import { printable } from './search.js';

const show = (path: string): string => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
};

/** Groups reasons and counts them, most frequent first. */
function tally(reasons: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** The validate report as text. */
export function formatReport(report: LoadReport): string {
  const lines: string[] = [];
  for (const p of report.rejected) lines.push(`${show(p.file)}:${p.line}: ${p.message}${p.rule ? `  [${p.rule}]` : ''}`);
  if (report.rejected.length > 0) lines.push('');
  lines.push(`files:     ${report.files}`);
  lines.push(`compiled:  ${report.compiled} (${report.active} active, ${report.inactive.length} inactive)`);
  for (const [reason, n] of tally(report.inactive.map((i) => i.reason))) lines.push(`  inactive: ${n} × ${reason}`);
  lines.push(`rejected:  ${report.rejected.length}`);
  const kinds = report.rejected.map((p) => p.message.replace(/"[^"]*"/g, '"…"').replace(/^[^:]+: /, ''));
  for (const [reason, n] of tally(kinds).slice(0, 20)) lines.push(`  rejected: ${n} × ${reason}`);
  lines.push('by logsource:');
  for (const [ls, n] of Object.entries(report.byLogsource).sort((a, b) => b[1] - a[1])) lines.push(`  ${String(n).padStart(5)}  ${ls}`);
  return lines.join('\n');
}

function engineOptions(configFile: string | undefined, dirs: string[] | undefined, extra: Partial<RuleEngineOptions>): RuleEngineOptions {
  const base = configFile ? ruleEngineOptions(loadConfig(configFile).rules) : { dirs: [BUILTIN_RULES_DIR] };
  return { ...base, ...(dirs && dirs.length > 0 ? { dirs } : {}), watch: false, ...extra };
}

/** Reads events: NDJSON of ECS events, or raw log lines parsed in `format`. */
function readEvents(path: string, format: string, year: number | undefined): EcsEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new VigilError('not_found', `cannot read ${path}: ${(err as Error).message}`);
  }
  const events: EcsEvent[] = [];
  const ingested = new Date().toISOString();
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    if (format === 'ndjson') {
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch {
        throw new VigilError('bad_json', `${path}:${i + 1} is not JSON (use --format to read raw log lines)`);
      }
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new VigilError('bad_json', `${path}:${i + 1} is not a JSON object`);
      const event = doc as EcsEvent;
      event.event ??= { id: '', dataset: 'json' };
      if (!event.event.id) event.event.id = `line-${i + 1}`;
      event['@timestamp'] ??= ingested;
      events.push(event);
    } else {
      const ctx = year === undefined ? { now: Date.now() } : { now: Date.now(), year };
      const event = normalizeLine(line, parseLine(line, format, ctx), { format, input: 'cli' }, ingested, false).event;
      event.event.id = `line-${i + 1}`;
      events.push(event);
    }
  });
  return events;
}

function describe(d: Detection): string {
  const who = d.entity ? ` [${d.entity.field}=${d.entity.value}]` : '';
  const kind = d.source.kind === 'sigma' ? 'match' : 'FIRES';
  const silent = d.details?.silent ? ' (feeds a correlation)' : '';
  return `${kind}${silent}: ${printable(d.reason)}${who}`;
}

export function rulesCommand(): Command {
  const rules = new Command('rules').description('Check detection rules: validate rule folders, test a rule against events');

  rules
    .command('validate')
    .description('Load rule folders, print every rejected rule with file:line and why, and the counts; exit 1 if any is broken')
    .argument('[dir...]', 'rule folders or files (default: the built-in rules, or those of --config)')
    .option('--config <file>', 'Vigil configuration (rules.dirs, rules.mapping, rules.placeholders)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Examples:
  vigil rules validate
  vigil rules validate ./my-rules ../sigma/rules/linux
  vigil rules validate --config vigil.yaml`,
    )
    .action(async (dirs: string[], opts: { config?: string; json?: boolean }) => {
      const engine = await RuleEngine.load(engineOptions(opts.config, dirs, {}));
      const report = engine.report();
      engine.close();
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
      if (report.rejected.length > 0) process.exitCode = 1;
    });

  rules
    .command('test')
    .description('Run a rule file (or folder) over events and show which events match and why, and when correlations fire')
    .argument('<rule>', 'rule file or folder')
    .argument('<events>', 'events: NDJSON of ECS events, or raw log lines with --format')
    .addOption(new Option('--format <format>', 'how to read EVENTS').choices(['ndjson', 'auto', 'syslog', 'sshd', 'nginx', 'apache', 'json']).default('ndjson'))
    .option('--year <year>', 'year of syslog timestamps that have none')
    .option('--with <dir...>', 'more rule folders the tested rules reference')
    .option('--config <file>', 'Vigil configuration (rules.mapping, rules.placeholders)')
    .option('--quiet', 'only the summary')
    .addHelpText(
      'after',
      `
Examples:
  vigil rules test rules/auth/brute-force.yml rules/auth/brute-force.match.ndjson
  vigil rules test my-rule.yml /var/log/auth.log --format sshd --year 2024`,
    )
    .action(async (rule: string, eventsPath: string, opts: { format: string; year?: string; with?: string[]; config?: string; quiet?: boolean }) => {
      if (opts.format !== 'ndjson' && !isFormat(opts.format)) throw new VigilError('bad_request', `unknown format ${opts.format}`);
      const year = opts.year === undefined ? undefined : Number(opts.year);
      if (year !== undefined && !Number.isInteger(year)) throw new VigilError('bad_request', '--year must be a year');
      const engine = await RuleEngine.load(engineOptions(opts.config, [rule, ...(opts.with ?? [])], { emitSilent: true }));
      const report = engine.report();
      for (const p of report.rejected) console.log(`${show(p.file)}:${p.line}: ${p.message}`);
      for (const i of report.inactive) console.log(`${show(i.file)}: "${i.title}" is inactive: ${i.reason}`);
      const events = readEvents(eventsPath, opts.format, year);
      const perRule = new Map<string, { title: string; kind: string; count: number }>();
      events.forEach((event, i) => {
        for (const d of engine.process([event])) {
          const entry = perRule.get(d.source.id) ?? { title: d.source.title, kind: d.source.kind, count: 0 };
          entry.count++;
          perRule.set(d.source.id, entry);
          if (!opts.quiet) console.log(`event ${i + 1} (${event.event?.id ?? '?'} at ${event['@timestamp']}): ${describe(d)}`);
        }
      });
      engine.close();
      console.log(`\n${events.length} events`);
      for (const info of engine.list()) {
        const seen = perRule.get(info.id);
        const what = info.kind === 'sigma' ? 'matching events' : 'detections';
        console.log(`  ${String(seen?.count ?? 0).padStart(6)} ${what.padEnd(15)} ${info.title} (${info.id})${info.inactive ? ` — inactive: ${info.inactive}` : ''}`);
      }
      if (report.rejected.length > 0) process.exitCode = 1;
    });

  return rules;
}
