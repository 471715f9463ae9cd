// Deterministic ids for what the analyze role makes: the same input always gives the same id, so that when a batch is
// processed twice (a worker died after publishing, before its checkpoint) the store keeps one copy.
import { createHash } from 'node:crypto';
import type { Detection } from '../core/detection.js';

/** A UUID-shaped id from a hash (RFC 9562 version 8, "custom"), so it fits wherever event ids go. */
export function hashId(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\u0000');
  const b = h.digest();
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/**
 * A detection's id: its rule or model, its group and its evidence (event ids, fixed at ingest) and event time. Two
 * runs over the same events in the same order raise the same detections, hence the same ids.
 */
export function detectionId(d: Detection): string {
  const group = d.group ? JSON.stringify(Object.entries(d.group).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : '';
  return hashId('detection', d.source.kind, d.source.id, group, d.timestamp, d.evidence.join(','));
}
