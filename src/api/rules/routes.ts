// Detection rules over the API: the list with hit counts, one rule with its text, enable/disable (admins manage
// rules), and a tester that runs posted rule YAML over posted events without touching the live rules.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { VigilError } from '../../core/errors.js';
import type { EcsEvent } from '../../core/event.js';
import { RuleEngine, type RuleEngineOptions } from '../../detect/rules/engine.js';
import { readJsonBody } from '../body.js';
import { audited } from '../audit.js';
import type { AuditSink } from '../../audit/trail.js';

export interface RuleRoutesDeps {
  rules: RuleEngine;
  audit?: AuditSink;
  /** Options for the tester's throwaway engine (mapping, extensions, placeholders): the live ones. */
  ruleTestOptions: RuleEngineOptions;
  /**
   * In a bus deployment the rules run in the analyze workers: switches are recorded for them (bus/rules.ts) and
   * hits are theirs, summed (bus/control.ts).
   */
  remoteRules?: RemoteRules;
}

export interface RemoteRules {
  set(id: string, enabled: boolean, by: string): Promise<void>;
  hits(): Promise<Record<string, number>>;
}

const MAX_TEST_EVENTS = 10_000;

const testSchema = z.strictObject({
  rule: z.string().min(1).max(1_000_000),
  events: z.array(z.record(z.string(), z.unknown())).max(MAX_TEST_EVENTS),
});

export function registerRuleRoutes(app: FastifyInstance, deps: RuleRoutesDeps): void {
  const { rules } = deps;

  app.get('/api/v1/rules', { config: { access: 'viewer' }, schema: { summary: 'Detection rules with their state and hits since start, the load report and engine counters.' } }, async () => {
    const list = rules.list();
    if (deps.remoteRules) {
      const hits = await deps.remoteRules.hits();
      for (const rule of list) rule.hits = hits[rule.id] ?? 0;
    }
    const { rejected, inactive, compiled, active, files } = rules.report();
    return { total: list.length, rules: list, report: { files, compiled, active, inactive, rejected }, stats: rules.stats() };
  });

  app.get<{ Params: { id: string } }>('/api/v1/rules/:id', { config: { access: 'viewer' }, schema: { summary: 'One rule, with the text of its file.' } }, async (request) => {
    const info = rules.get(request.params.id);
    if (!info) throw new VigilError('not_found', `no rule ${JSON.stringify(request.params.id.slice(0, 100))}`);
    if (deps.remoteRules) info.hits = (await deps.remoteRules.hits())[info.id] ?? 0;
    let text: string | null = null;
    try {
      text = readFileSync(info.path, 'utf8');
    } catch {
      // The file went away since loading; the rule still runs until the reload.
    }
    return { ...info, text };
  });

  app.patch<{ Params: { id: string } }>('/api/v1/rules/:id', { config: { access: 'admin' }, schema: { summary: 'Enable or disable a rule: `{"enabled": false}`.' } }, async (request) => {
    const { enabled } = readJsonBody(request.body, z.strictObject({ enabled: z.boolean() }));
    const id = request.params.id;
    const before = rules.get(id);
    const who = request.principal?.name ?? 'unknown';
    return audited(
      deps.audit,
      request,
      {
        action: enabled ? 'rule-enabled' : 'rule-disabled',
        category: 'configuration',
        type: ['change'],
        target: { kind: 'rule', id: id.slice(0, 200), ...(before ? { name: before.title } : {}) },
        message: `${who} ${enabled ? 'enabled' : 'disabled'} rule ${before ? `"${before.title}" ` : ''}(${id.slice(0, 200)})`,
        details: { enabled, was: before?.enabled ?? null },
      },
      async () => {
        if (!rules.get(id)) throw new VigilError('not_found', `no rule ${JSON.stringify(id.slice(0, 100))}`);
        // Recorded for the analyze workers first: a switch the bus did not take is not shown as made.
        await deps.remoteRules?.set(id, enabled, who);
        if (enabled) rules.enable(id);
        else rules.disable(id);
        return rules.get(id);
      },
    );
  });

  app.post('/api/v1/rules/test', { config: { access: 'analyst' }, schema: { summary: 'Run posted rule YAML over posted events: `{"rule": "title: …", "events": [ … ]}`.' } }, async (request) => {
    const body = readJsonBody(request.body, testSchema);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-rule-test-'));
    try {
      writeFileSync(join(dir, 'rule.yml'), body.rule);
      const engine = await RuleEngine.load({ ...deps.ruleTestOptions, dirs: [dir], watch: false, emitSilent: true });
      try {
        const report = engine.report();
        const matches = body.events.flatMap((doc, index) => {
          const event = { ...doc } as unknown as EcsEvent;
          event.event = { id: `event-${index}`, dataset: 'json', ...((doc.event as object | undefined) ?? {}) } as EcsEvent['event'];
          event['@timestamp'] ??= new Date().toISOString();
          return engine.process([event]).map((d) => ({ index, rule: d.source.title, kind: d.source.kind, reason: d.reason, entity: d.entity ?? null, silent: d.details?.silent === true }));
        });
        return { rules: engine.list(), problems: report.rejected.map((p) => ({ line: p.line, message: p.message })), inactive: report.inactive.map((i) => i.reason), matches };
      } finally {
        engine.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
