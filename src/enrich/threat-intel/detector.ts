// The `threat-intel` detector: an event the enrichment stage matched against a feed becomes a detection about the
// matched value (one per feed, field and value in a batch, with its evidence events), alerting at the feed's severity.
import type { Detection, Detector, Severity } from '../../core/detection.js';
import type { EcsEvent } from '../../core/event.js';
import { ecsIndicatorType } from './indicator.js';
import { indicatorObject, type IntelMatch } from './match.js';

/** Evidence ids kept per detection. */
const MAX_EVIDENCE = 20;

export interface ThreatIntelDetectorOptions {
  /** The matches the enrichment stage found in an event (not fields a sender could forge). */
  matchesOf(event: EcsEvent): readonly IntelMatch[] | undefined;
  severityOf(feed: string): Severity;
}

export class ThreatIntelDetector implements Detector {
  readonly name = 'threat-intel';

  constructor(private readonly options: ThreatIntelDetectorOptions) {}

  process(events: readonly EcsEvent[]): Detection[] {
    const found = new Map<string, Detection & { details: Record<string, unknown> }>();
    for (const event of events) {
      const matches = this.options.matchesOf(event);
      if (!matches) continue;
      const id = event.event?.id;
      const timestamp = typeof event['@timestamp'] === 'string' ? event['@timestamp'] : new Date(0).toISOString();
      for (const m of matches) {
        for (const hit of m.hits) {
          const key = `${hit.feed}\u0000${m.field}\u0000${m.atomic}`;
          let d = found.get(key);
          if (!d) {
            const listed = hit.indicator.value === m.atomic ? '' : ` (${hit.indicator.value})`;
            d = {
              source: { kind: 'intel', id: `threat-intel/${hit.feed}`, title: `Threat intelligence match: ${hit.feed}` },
              severity: this.options.severityOf(hit.feed),
              timestamp,
              entity: { field: m.field, value: m.atomic },
              evidence: [],
              reason: `${m.field} ${m.atomic} is listed by the ${hit.feed} feed as ${ecsIndicatorType(hit.indicator)}${listed}`,
              tags: ['threat-intel'],
              details: { feed: hit.feed, field: m.field, atomic: m.atomic, indicator: indicatorObject(hit), events: 0 },
            };
            found.set(key, d);
          }
          (d.details.events as number)++;
          if (timestamp > d.timestamp) d.timestamp = timestamp;
          if (id && d.evidence.length < MAX_EVIDENCE && !d.evidence.includes(id)) d.evidence.push(id);
        }
      }
    }
    return [...found.values()];
  }
}
