// Rule evaluation alone: events/s through RuleEngine.process with every rule loaded (Vigil's built-in rules plus
// the SigmaHQ rules in ../shared/datasets/sigma), on real sshd and access-log lines parsed by Vigil's parsers,
// next to a bare loop over the same events (read the dataset, look it up) measured in the same run. Medians.
// Run: node --import tsx bench/rules.ts (datasets from ../shared/datasets or $VIGIL_DATASETS).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EcsEvent } from '../src/core/event.js';
import { BUILTIN_RULES_DIR, RuleEngine } from '../src/detect/rules/engine.js';
import { parseLine } from '../src/parsers/index.js';
import { normalizeLine } from '../src/pipeline/normalize.js';
import { datasetsRoot, median } from './datasets.js';

export interface RulesRow {
  input: string;
  events: number;
  rules_eps: number;
  /** Events per second of CPU time the process used: what a core does when other work on the machine is taken out. */
  rules_cpu_eps: number;
  floor_eps: number;
  ratio: number;
  detections: number;
}

export interface RulesBench {
  rows: RulesRow[];
  compiled: number;
  active: number;
  inactive: number;
  rejected: number;
}

/** Real lines parsed into events the way the pipeline makes them, repeated up to `count`. */
function events(file: string, format: string, count: number, year?: number): EcsEvent[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
    .filter((l) => l.length > 0);
  const ingested = new Date().toISOString();
  const parsed = lines.map((line) => {
    const outcome = parseLine(line, format, year === undefined ? { now: Date.now() } : { now: Date.now(), year });
    return normalizeLine(line, outcome, year === undefined ? { format, input: 'bench' } : { format, input: 'bench', year }, ingested, false).event;
  });
  const out: EcsEvent[] = [];
  for (let i = 0; out.length < count; i++) out.push(structuredClone(parsed[i % parsed.length]!));
  return out;
}

/** The floor: the least any per-event detector does — read the dataset and look it up. */
function floorRate(list: readonly EcsEvent[]): number {
  const known = new Set(['sshd', 'nginx.access']);
  const started = performance.now();
  let n = 0;
  for (const e of list) if (known.has(e.event.dataset)) n++;
  const seconds = (performance.now() - started) / 1000;
  return n >= 0 ? list.length / seconds : 0;
}

function engineRate(engine: RuleEngine, list: readonly EcsEvent[]): { eps: number; cpuEps: number; detections: number } {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let detections = 0;
  for (let i = 0; i < list.length; i += 1000) detections += engine.process(list.slice(i, i + 1000)).length;
  const used = process.cpuUsage(cpu);
  return { eps: list.length / ((performance.now() - started) / 1000), cpuEps: list.length / ((used.user + used.system) / 1e6), detections };
}

export async function benchRules(options: { root: string; events: number; runs: number }): Promise<RulesBench> {
  const sigma = join(options.root, 'sigma');
  const engine = await RuleEngine.load({ dirs: [BUILTIN_RULES_DIR, sigma], watch: false });
  const report = engine.report();
  const inputs: { input: string; list: EcsEvent[] }[] = [
    { input: 'sshd (auth-ssh/elastic-examples_auth.log)', list: events(join(options.root, 'auth-ssh/elastic-examples_auth.log'), 'sshd', options.events, 2017) },
    { input: 'nginx.access (web-access: apache combined + scanner logs)', list: [
      ...events(join(options.root, 'web-access/elastic-examples_apache_access.log'), 'nginx', options.events / 2),
      ...events(join(options.root, 'web-access/scanner-logs/acunetix.txt'), 'nginx', options.events / 4),
      ...events(join(options.root, 'web-access/scanner-logs/netsparker.txt'), 'nginx', options.events / 4),
    ] },
  ];
  const rows: RulesRow[] = [];
  for (const { input, list } of inputs) {
    engineRate(engine, list.slice(0, 5000)); // warm up
    const rules: number[] = [];
    const cpuRates: number[] = [];
    const floors: number[] = [];
    let detections = 0;
    for (let r = 0; r < options.runs; r++) {
      floors.push(floorRate(list));
      const run = engineRate(engine, list);
      rules.push(run.eps);
      cpuRates.push(run.cpuEps);
      detections = run.detections;
    }
    const rulesEps = median(rules);
    const floorEps = median(floors);
    rows.push({ input, events: list.length, rules_eps: rulesEps, rules_cpu_eps: median(cpuRates), floor_eps: floorEps, ratio: rulesEps / floorEps, detections });
  }
  engine.close();
  return { rows, compiled: report.compiled, active: report.active, inactive: report.inactive.length, rejected: report.rejected.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchRules({ root: datasetsRoot(), events: 100_000, runs: 5 });
  console.log(`rules: ${result.compiled} compiled (${result.active} active, ${result.inactive} inactive), ${result.rejected} rejected`);
  console.table(result.rows.map((r) => ({ input: r.input, events: r.events, 'rules events/s': Math.round(r.rules_eps), 'per CPU second': Math.round(r.rules_cpu_eps), 'floor events/s': Math.round(r.floor_eps), 'rules / floor': r.ratio.toFixed(4), detections: r.detections })));
}
