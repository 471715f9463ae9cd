// Matching events against the loaded indicators, and tagging a match in ECS: `threat.enrichments` (one per matched
// indicator, as Elastic's indicator match rules write them), `threat.indicator.*` and `threat.feed.name`.
// https://www.elastic.co/guide/en/ecs/current/ecs-threat.html
import type { EcsEvent } from '../../core/event.js';
import { confidenceWord, ecsIndicatorType, hashAlgorithm, type IndicatorKind } from './indicator.js';
import type { IndicatorHit, IndicatorIndex } from './indicator-index.js';

export interface IntelMatch {
  /** The event field that matched, e.g. `source.ip`. */
  field: string;
  /** Its value. */
  atomic: string;
  hits: IndicatorHit[];
}

/** The kind of indicator an event field holds, from its ECS name. */
export function fieldKind(field: string): IndicatorKind | undefined {
  if (field.endsWith('.ip')) return 'ip';
  if (field.endsWith('.domain') || field === 'dns.question.name' || field.endsWith('.registered_domain') || field.endsWith('.hostname')) return 'domain';
  if (field === 'url.full' || field === 'url.original' || field.endsWith('.url')) return 'url';
  if (field.includes('.hash.')) return 'hash';
  return undefined;
}

interface CompiledField {
  field: string;
  path: string[];
  kind: IndicatorKind;
}

/** ECS `threat.indicator` object for a hit (https://www.elastic.co/guide/en/ecs/current/ecs-threat.html). */
export function indicatorObject(hit: IndicatorHit): Record<string, unknown> {
  const { indicator } = hit;
  const out: Record<string, unknown> = { type: ecsIndicatorType(indicator), name: indicator.value, provider: hit.feed };
  switch (indicator.kind) {
    case 'ip':
      out.ip = indicator.value;
      break;
    case 'domain':
      out.url = { domain: indicator.value };
      break;
    case 'url':
      out.url = { original: indicator.value };
      break;
    case 'hash':
      out.file = { hash: { [hashAlgorithm(indicator.value) ?? 'unknown']: indicator.value } };
      break;
    case 'cidr':
      break;
  }
  const meta = indicator.meta;
  if (meta) {
    if (meta.description) out.description = meta.description;
    const confidence = confidenceWord(meta.confidence);
    if (confidence) out.confidence = confidence;
    if (meta.first_seen) out.first_seen = meta.first_seen;
    if (meta.last_seen) out.last_seen = meta.last_seen;
    if (meta.reference) out.reference = meta.reference;
    if (meta.id) out.id = [meta.id];
  }
  return out;
}

/** Addresses remembered with their answer per index: a real log repeats its addresses, and the trie walk is the cost. */
const IP_CACHE = 32_768;

export class IntelMatcher {
  private readonly fields: CompiledField[];
  private cachedIndex: IndicatorIndex | undefined;
  /** The ECS indicator object of each hit, built once: events listing the same indicator share it (never changed). */
  private readonly objects = new WeakMap<IndicatorHit, Record<string, unknown>>();
  private young = new Map<string, IndicatorHit[] | null>();
  private old = new Map<string, IndicatorHit[] | null>();

  constructor(
    fields: readonly string[],
    private readonly index: () => IndicatorIndex,
    private readonly descriptions: ReadonlyMap<string, string> = new Map(),
  ) {
    this.fields = fields.flatMap((field) => {
      const kind = fieldKind(field);
      return kind ? [{ field, path: field.split('.'), kind }] : [];
    });
  }

  private matchIp(index: IndicatorIndex, ip: string): IndicatorHit[] | undefined {
    if (index !== this.cachedIndex) {
      // A refreshed feed: answers from the old index no longer hold.
      this.cachedIndex = index;
      this.young = new Map();
      this.old = new Map();
    }
    let hits = this.young.get(ip);
    if (hits === undefined) {
      hits = this.old.get(ip);
      if (hits === undefined) hits = index.matchIp(ip) ?? null;
      if (this.young.size >= IP_CACHE) {
        this.old = this.young;
        this.young = new Map();
      }
      this.young.set(ip, hits);
    }
    return hits ?? undefined;
  }

  /** The event's matches, or undefined; never throws. */
  match(event: EcsEvent): IntelMatch[] | undefined {
    const index = this.index();
    if (index.size === 0) return undefined;
    let found: IntelMatch[] | undefined;
    for (const f of this.fields) {
      let node: unknown = event;
      for (let i = 0; i < f.path.length && node !== undefined && node !== null; i++) node = typeof node === 'object' ? (node as Record<string, unknown>)[f.path[i]!] : undefined;
      if (typeof node !== 'string' || node.length === 0) continue;
      const hits = f.kind === 'ip' ? this.matchIp(index, node) : index.match(f.kind, node);
      if (hits && hits.length > 0) (found ??= []).push({ field: f.field, atomic: node, hits });
    }
    return found;
  }

  /** Writes the matches into the event's `threat` fields. */
  tag(event: EcsEvent, matches: readonly IntelMatch[], occurred: string): void {
    const enrichments: Record<string, unknown>[] = [];
    const feeds: string[] = [];
    for (const m of matches) {
      for (const hit of m.hits) {
        let indicator = this.objects.get(hit);
        if (!indicator) {
          indicator = indicatorObject(hit);
          if (indicator.description === undefined) {
            const description = this.descriptions.get(hit.feed);
            if (description) indicator.description = description;
          }
          this.objects.set(hit, indicator);
        }
        enrichments.push({ indicator, matched: { atomic: m.atomic, field: m.field, type: 'indicator_match_rule', index: hit.feed, occurred } });
        if (!feeds.includes(hit.feed)) feeds.push(hit.feed);
      }
    }
    const existing = event.threat !== null && typeof event.threat === 'object' ? (event.threat as Record<string, unknown>) : {};
    event.threat = {
      ...existing,
      enrichments,
      indicator: (enrichments[0] as { indicator: unknown }).indicator,
      feed: { name: feeds.length === 1 ? feeds[0] : feeds },
    };
  }
}
