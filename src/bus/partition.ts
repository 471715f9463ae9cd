// Which partition an event belongs to: the hash of its entity (source IP, else user, else host), so that every event
// about one attacker, account or machine reaches the same analyze worker, in order, and its windows live there.
import type { EcsEvent } from '../core/event.js';

/** FNV-1a (32 bit) over UTF-16 code units: cheap, stable across processes and versions, spreads short keys well. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function partitionOfKey(key: string, partitions: number): number {
  return hashKey(key) % partitions;
}

/**
 * The entity key of an event, in the order detections name their entity (engine.ts `entityOf`): most correlations
 * group by one of these, and those that group differently have their inputs forwarded (see analyze.ts).
 */
export function entityKey(event: EcsEvent): string | undefined {
  const ip = event.source?.ip;
  if (typeof ip === 'string' && ip !== '') return ip;
  const user = event.user?.name;
  if (typeof user === 'string' && user !== '') return user;
  const host = event.host?.name;
  if (typeof host === 'string' && host !== '') return host;
  return undefined;
}

/** An event without any entity is spread by its id: no window can be keyed on it anyway. */
export function partitionOf(event: EcsEvent, partitions: number): number {
  return partitionOfKey(entityKey(event) ?? event.event.id, partitions);
}
