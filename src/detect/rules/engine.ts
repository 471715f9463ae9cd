// The rule engine, a Detector: Sigma rules, Sigma correlations and Vigil's baseline detectors loaded from
// folders, run on every batch of events. Rule folders are watched; a change recompiles everything and swaps the
// new set in at once, keeping the windows of correlations that did not change, and each rule's switch and count.
import { watch, type FSWatcher } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config/config.js';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { Detection, Detector, Severity } from '../../core/detection.js';
import type { EcsEvent } from '../../core/event.js';
import type { DetectionState } from '../../core/telemetry.js';
import { DEFAULT_WINDOW_LIMITS, type CorrelationFire, type CorrelationInput, type WindowLimits } from '../correlate/correlation.js';
import { loadRuleFiles, type LoadedFiles } from './load.js';
import { DEFAULT_MAPPING, describeLogsource, extendMapping, type MappingExtension, type SigmaMapping } from './mapping.js';
import type { RuleModel, SigmaRuleModel } from './model.js';
import type { ExtensionRegistry } from './modifiers.js';
import { webDetectors } from '../web/index.js';
import { buildRuleSet, fingerprint, type DispatchGroup, type LoadReport, type RuleEntry, type RuleSet } from './ruleset.js';
import type { RuleInfo } from './info.js';

type RulesConfig = Config['rules'];

/** The rules Vigil ships (`rules/` of the installation). */
export const BUILTIN_RULES_DIR = fileURLToPath(new URL('../../../rules', import.meta.url));

export interface RuleEngineOptions {
  /** Rule folders or files; default: the built-in `rules/` folder. */
  dirs?: string[];
  /** The shipped mapping is used when absent; `mappingExtension` adds to it. */
  mapping?: SigmaMapping;
  mappingExtension?: MappingExtension;
  /** Vigil-specific value modifiers (`field|vigil.NAME: true`); default: the web attack detectors of detect/web. */
  extensions?: ExtensionRegistry;
  /** Values of `%name%` placeholders for the `expand` modifier. */
  placeholders?: Record<string, string[]>;
  /** Rule ids switched off at start. */
  disabled?: string[];
  limits?: Partial<WindowLimits>;
  /** Time for events without a readable `@timestamp`. */
  clock?: Clock;
  /** Watch the folders and reload on change (default true). */
  watch?: boolean;
  /** Debounce of reloads after a change, ms. */
  debounceMs?: number;
  /** Called after every reload (also a failed one, with `error`). */
  onReload?: (report: LoadReport, error?: Error) => void;
  /** Also emit rules that only feed correlations (marked `details.silent`), for `vigil rules test`. */
  emitSilent?: boolean;
}

/** Engine options from the `rules` section of the configuration. */
export function ruleEngineOptions(config: RulesConfig, extra: Partial<RuleEngineOptions> = {}): RuleEngineOptions {
  const dirs = [...(config.builtin ? [BUILTIN_RULES_DIR] : []), ...config.dirs];
  const options: RuleEngineOptions = {
    dirs,
    placeholders: config.placeholders,
    disabled: config.disabled,
    limits: { maxGroups: config.max_groups_per_rule, maxEventsPerGroup: config.max_events_per_group },
    ...extra,
  };
  if (config.mapping) options.mappingExtension = config.mapping;
  return options;
}


export interface EngineStats {
  events: number;
  /** Events that threw inside a rule (skipped, counted). */
  failed: number;
  detections: number;
  /** Correlation groups evicted by the per-rule cap, total and per rule id. */
  evictions: number;
  evictionsByRule: Record<string, number>;
  /** Open correlation groups, in all rules and in the rule holding most; each rule keeps at most `groupLimit`. */
  groups: number;
  largestGroups: number;
  groupLimit: number;
  /** Events dropped from full correlation windows. */
  truncated: number;
  /** Logins impossible_travel rules could not place (no GeoIP location or country): not compared. */
  unplaced: number;
  reloads: number;
}

const SWEEP_EVERY = 4096;

/**
 * Where correlation inputs go when events are partitioned over several processes (src/bus): a correlation's windows
 * live in the partition of its group-by key, so an input whose group belongs to another partition is sent there
 * and offered again on arrival (`offerForwarded`). Absent in single-process mode, where every group is local.
 */
export interface CorrelationRouter {
  /** True to offer the input here; false when it was taken to be forwarded (copy what is kept: `input` is reused). */
  route(rule: string, groupKey: string, input: CorrelationInput): boolean;
}

export class RuleEngine implements Detector {
  readonly name = 'rules';
  private set: RuleSet;
  private loaded: LoadedFiles;
  private readonly disabled = new Set<string>();
  private readonly hits = new Map<string, number>();
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private counters = { events: 0, failed: 0, detections: 0, reloads: 0 };
  private newest = -Infinity;
  private sinceSweep = 0;
  private readonly mapping: SigmaMapping;
  private readonly limits: WindowLimits;
  private readonly clock: Clock;
  private closed = false;
  private router: CorrelationRouter | undefined;

  private constructor(
    private readonly dirs: string[],
    private readonly options: RuleEngineOptions,
  ) {
    this.mapping = extendMapping(options.mapping ?? DEFAULT_MAPPING, options.mappingExtension);
    this.limits = { ...DEFAULT_WINDOW_LIMITS, ...options.limits };
    this.clock = options.clock ?? systemClock;
    for (const id of options.disabled ?? []) this.disabled.add(id);
    this.loaded = loadRuleFiles(dirs);
    this.set = this.build(this.loaded);
  }

  /** Loads and compiles the rules; starts watching their folders unless `watch: false`. */
  static async load(options: RuleEngineOptions = {}): Promise<RuleEngine> {
    const engine = new RuleEngine(options.dirs ?? [BUILTIN_RULES_DIR], options);
    if (options.watch !== false) engine.startWatching();
    return engine;
  }

  private build(loaded: LoadedFiles): RuleSet {
    return buildRuleSet(loaded.models, loaded.problems, loaded.files.length, {
      mapping: this.mapping,
      extensions: this.options.extensions ?? webDetectors,
      placeholders: this.options.placeholders ?? {},
      limits: this.limits,
    });
  }

  /** What the last load compiled, left inactive and rejected. */
  report(): LoadReport {
    return this.set.report;
  }

  /** Re-reads the folders and swaps the new rule set in; unchanged correlations keep their windows. */
  reload(): LoadReport {
    const loaded = loadRuleFiles(this.dirs, this.loaded);
    const next = this.build(loaded);
    for (const entry of next.entries) {
      const old = this.set.byKey.get(entry.key);
      if (old?.detector && entry.detector && old.kind === entry.kind && fingerprint(old.model) === fingerprint(entry.model)) {
        // Same rule text: keep its windows. (Both are the same class when the fingerprints agree.)
        (entry.detector as { adopt(o: unknown): void }).adopt(old.detector);
      }
    }
    this.loaded = loaded;
    this.set = next;
    this.counters.reloads++;
    return next.report;
  }

  private startWatching(): void {
    for (const dir of this.dirs) {
      try {
        const w = watch(dir, { recursive: true }, () => this.scheduleReload());
        w.on('error', () => this.scheduleReload());
        this.watchers.push(w);
      } catch {
        // A folder that does not exist (yet) is not watched; `reload()` still reads it.
      }
    }
  }

  private scheduleReload(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      try {
        const report = this.reload();
        this.options.onReload?.(report);
      } catch (err) {
        this.options.onReload?.(this.set.report, err as Error);
      }
    }, this.options.debounceMs ?? 300);
    this.timer.unref?.();
  }

  /** Stops watching. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
  }

  // --- rules as the API sees them ----------------------------------------------------------------------

  list(): RuleInfo[] {
    return this.set.entries.map((e) => this.info(e));
  }

  get(id: string): RuleInfo | undefined {
    const e = this.set.byKey.get(id);
    return e ? this.info(e) : undefined;
  }

  private info(e: RuleEntry): RuleInfo {
    const m = e.model;
    const info: RuleInfo = {
      id: e.key,
      title: m.title,
      kind: e.kind,
      level: severityOf(m),
      path: m.file,
      line: m.line,
      enabled: !this.disabled.has(e.key),
      hits: this.hits.get(e.key) ?? 0,
      silent: !e.emits,
    };
    if (m.status) info.status = m.status;
    if (m.author) info.author = m.author;
    if (m.kind === 'rule') info.logsource = describeLogsource(m.logsource);
    if (e.inactive) info.inactive = e.inactive;
    return info;
  }

  /** Switches a rule on; false when no rule has that id. */
  enable(id: string): boolean {
    if (!this.set.byKey.has(id)) return false;
    this.disabled.delete(id);
    return true;
  }

  /** Switches a rule off (it is not evaluated; correlations fed by it get nothing from it). */
  disable(id: string): boolean {
    if (!this.set.byKey.has(id)) return false;
    this.disabled.add(id);
    return true;
  }

  stats(): EngineStats {
    let evictions = 0;
    let groups = 0;
    let truncated = 0;
    let unplaced = 0;
    let largestGroups = 0;
    const evictionsByRule: Record<string, number> = {};
    for (const e of this.set.entries) {
      if (!e.detector) continue;
      evictions += e.detector.groups.evictions;
      groups += e.detector.groups.size;
      if (e.detector.groups.size > largestGroups) largestGroups = e.detector.groups.size;
      if ('truncated' in e.detector) truncated += e.detector.truncated;
      if ('unplaced' in e.detector) unplaced += e.detector.unplaced;
      if (e.detector.groups.evictions > 0) evictionsByRule[e.key] = e.detector.groups.evictions;
    }
    return { ...this.counters, evictions, evictionsByRule, groups, largestGroups, groupLimit: this.limits.maxGroups, truncated, unplaced };
  }

  /** The correlation state for `vigil_detection_state_*`: groups of every stateful rule against their summed caps. */
  state(): DetectionState[] {
    let stateful = 0;
    for (const e of this.set.entries) if (e.detector) stateful++;
    const { groups, evictions } = this.stats();
    return [{ detector: 'rules', entries: groups, limit: stateful * this.limits.maxGroups, evictions }];
  }

  // --- the stream ----------------------------------------------------------------------------------------

  /** Sends correlation inputs whose group lives elsewhere to `router` (undefined: keep every group here). */
  setRouter(router: CorrelationRouter | undefined): void {
    this.router = router;
  }

  /** Offers an input forwarded by another partition's engine to correlation `rule`; answers what that raises. */
  offerForwarded(rule: string, input: CorrelationInput): Detection[] {
    const target = this.set.byKey.get(rule);
    const out: Detection[] = [];
    if (!target?.detector) return out;
    const time = input.time;
    if (time > this.newest) this.newest = time;
    this.offerTo(target, input, out);
    this.counters.detections += out.length;
    return out;
  }

  process(events: readonly EcsEvent[]): Detection[] {
    const out: Detection[] = [];
    const set = this.set;
    const ctx = set.ctx;
    for (const event of events) {
      this.counters.events++;
      try {
        const stamp = event['@timestamp'];
        let time = typeof stamp === 'string' ? Date.parse(stamp) : NaN;
        if (!Number.isFinite(time)) time = this.clock.now();
        if (time > this.newest) this.newest = time;
        ctx.reset(event, time);
        const dataset = event.event?.dataset;
        const groups = typeof dataset === 'string' ? set.byDataset.get(dataset) : undefined;
        if (groups) for (const g of groups) this.runGroup(g, out);
        for (const g of set.anyDataset) this.runGroup(g, out);
      } catch {
        // One bad event (or a rule bug it triggers) never stops the stream: skip and count.
        this.counters.failed++;
      }
    }
    if ((this.sinceSweep += events.length) >= SWEEP_EVERY) {
      this.sinceSweep = 0;
      for (const e of set.entries) e.detector?.sweep(this.newest);
    }
    this.counters.detections += out.length;
    return out;
  }

  /**
   * Runs the rules of one logsource group: those without a necessary literal always, the others only when one of
   * their literals occurs in the event (found by one automaton pass per field), in rule order.
   */
  private runGroup(group: DispatchGroup, out: Detection[]): void {
    const ctx = this.set.ctx;
    if (!group.gate(ctx)) return;
    if (group.scanSlots.length > 0) {
      for (const slot of group.scanSlots) ctx.scan(slot);
      const stamp = ctx.current;
      let picked: number[] | undefined;
      for (const id of ctx.found) {
        const indices = group.byNeedle[id];
        if (!indices) continue;
        for (const i of indices) {
          if (group.picked[i] === stamp) continue;
          group.picked[i] = stamp;
          (picked ??= []).push(i);
        }
      }
      if (picked) {
        for (const i of group.alwaysIndex) picked.push(i);
        picked.sort((a, b) => a - b);
        for (const i of picked) this.runRule(group.rules[i]!, out);
        return;
      }
    }
    for (const rule of group.always) this.runRule(rule, out);
  }

  private runRule(rule: RuleEntry, out: Detection[]): void {
    const ctx = this.set.ctx;
    if ((this.disabled.size > 0 && this.disabled.has(rule.key)) || !rule.compiled!.match(ctx)) return;
    this.hits.set(rule.key, (this.hits.get(rule.key) ?? 0) + 1);
    if (rule.emits || this.options.emitSilent) out.push(this.sigmaDetection(rule));
    if (rule.listeners.length > 0) {
      const event = ctx.event;
      this.feed(rule, { ref: 0, time: ctx.time, timestamp: event['@timestamp'], id: event.event.id, doc: ctx.doc }, out);
    }
  }

  private feed(rule: RuleEntry, input: CorrelationInput, out: Detection[]): void {
    for (const { target, ref } of rule.listeners) {
      if (this.disabled.size > 0 && this.disabled.has(target.key)) continue;
      input.ref = ref; // detectors read the input during offer() and keep none of it
      if (this.router) {
        const key = target.detector!.groupKey(input);
        if (key !== undefined && !this.router.route(target.key, key, input)) continue;
      }
      this.offerTo(target, input, out);
    }
  }

  private offerTo(target: RuleEntry, input: CorrelationInput, out: Detection[]): void {
    if (this.disabled.size > 0 && this.disabled.has(target.key)) return;
    const fire = target.detector!.offer(input);
    if (!fire) return;
    this.hits.set(target.key, (this.hits.get(target.key) ?? 0) + 1);
    if (target.emits || this.options.emitSilent) out.push(this.correlationDetection(target, fire));
    if (target.listeners.length > 0) {
      // A chained correlation sees this one's detection as an event carrying the group values.
      const doc: Record<string, unknown> = { '@timestamp': fire.timestamp, event: { id: fire.evidence[fire.evidence.length - 1] ?? '' } };
      const model = target.model;
      if (model.kind === 'correlation') model.groupBy.forEach((name, i) => (doc[name] = Object.values(fire.group)[i]));
      Object.assign(doc, fire.group);
      this.feed(target, { ref: 0, time: fire.time, timestamp: fire.timestamp, id: fire.evidence[fire.evidence.length - 1] ?? '', doc }, out);
    }
  }

  private sigmaDetection(rule: RuleEntry): Detection {
    const ctx = this.set.ctx;
    const model = rule.model as SigmaRuleModel;
    const event = ctx.event;
    const detection: Detection = {
      source: source(rule),
      severity: severityOf(model),
      timestamp: event['@timestamp'],
      evidence: event.event?.id ? [event.event.id] : [],
      reason: `${model.title}: ${rule.compiled!.explain(ctx)}`,
      details: { logsource: describeLogsource(model.logsource), line: model.line },
    };
    if (!rule.emits) detection.details!.silent = true;
    if (model.tags.length > 0) detection.tags = model.tags;
    const entity = entityOf(event);
    if (entity) detection.entity = entity;
    return detection;
  }

  private correlationDetection(rule: RuleEntry, fire: CorrelationFire): Detection {
    const model = rule.model;
    const detection: Detection = {
      source: source(rule),
      severity: severityOf(model),
      timestamp: fire.timestamp,
      evidence: fire.evidence,
      reason: `${model.title}: ${fire.reason}`,
      group: fire.group,
      details: { type: model.kind === 'rule' ? 'sigma' : model.type, value: fire.value, line: model.line, ...fire.details },
    };
    if (!rule.emits) detection.details!.silent = true;
    const first = Object.entries(fire.group)[0];
    if (first) detection.entity = { field: first[0], value: first[1] };
    if (model.tags.length > 0) detection.tags = model.tags;
    return detection;
  }
}

function source(rule: RuleEntry): Detection['source'] {
  const m = rule.model;
  const s: Detection['source'] = { kind: rule.kind === 'sigma' ? 'sigma' : 'correlation', id: rule.key, title: m.title, path: m.file };
  if (m.author) s.author = m.author;
  return s;
}

/** Sigma's `level` is Vigil's severity; a rule without one is medium. */
export function severityOf(model: RuleModel): Severity {
  return model.level ?? 'medium';
}

const ENTITY_FIELDS = ['source.ip', 'user.name', 'host.name'] as const;

/** Whom a single-event detection is about: the source address, else the user, else the host. */
function entityOf(event: EcsEvent): { field: string; value: string } | undefined {
  const candidates: [string, unknown][] = [
    [ENTITY_FIELDS[0], event.source?.ip],
    [ENTITY_FIELDS[1], event.user?.name],
    [ENTITY_FIELDS[2], event.host?.name],
  ];
  for (const [field, value] of candidates) if (typeof value === 'string' && value !== '') return { field, value };
  return undefined;
}

export type { RuleInfo } from './info.js';
