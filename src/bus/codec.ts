// What travels on the bus, as JSON: normalized events and forwarded correlation inputs on `vigil.raw.<partition>`,
// analyzed events with their detections on `vigil.analyzed`; and how lists are cut into messages under the size limit.
import type { Detection } from '../core/detection.js';
import type { EcsEvent } from '../core/event.js';

/** A correlation input whose group lives in another partition (see CorrelationRouter in detect/rules/engine.ts). */
export interface ForwardedHit {
  /** Dedupe key: rule, ref and event id; a hit reprocessed after a takeover is offered once. */
  k: string;
  /** The correlation's rule key. */
  r: string;
  /** Index of the referenced rule in the correlation. */
  f: number;
  /** Event time, ms. */
  t: number;
  /** `@timestamp`. */
  s: string;
  /** The event id (evidence). */
  i: string;
  /** The event (or the inner correlation's detection document) the correlation reads its group and value from. */
  d: Record<string, unknown>;
}

/** A message on `vigil.raw.<p>`: events, or forwarded hits. */
export interface RawMessage {
  e?: EcsEvent[];
  /** Positions in `e` of events whose id the sender chose (an agent's retry, a `_bulk` `_id`): the store checks them. */
  u?: number[];
  h?: ForwardedHit[];
}

/**
 * A message on `vigil.analyzed`: events to store (enriched events and detection events) and the detections among
 * them. The store checks ids only where a copy may already be stored (`u`, or every event when `a` is set), so that
 * the common path is a plain append as in single-process mode.
 */
export interface AnalyzedMessage {
  e: EcsEvent[];
  /** Each detection with the `event.id` of its detection event in `e`. */
  d: { id: string; detection: Detection }[];
  /** Positions in `e` of events whose id the sender chose. */
  u?: number[];
  /** Every event may have been stored already (outputs redone after a takeover or a restart, leases.ts `pending`). */
  a?: 1;
}

/** Groups serialized items into lists whose JSON stays under `maxBytes` (an item over it goes alone). */
export function chunkSerialized(items: readonly string[], maxBytes: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = Buffer.byteLength(item) + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export function rawEventsBody(serialized: readonly string[], unique?: readonly number[]): string {
  return `{"e":[${serialized.join(',')}]${unique && unique.length > 0 ? `,"u":[${unique.join(',')}]` : ''}}`;
}

export function rawHitsBody(serialized: readonly string[]): string {
  return `{"h":[${serialized.join(',')}]}`;
}
