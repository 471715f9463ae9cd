// Suppression rules an analyst adds: detections of a rule, about an entity, with a field value, until a time, are
// recorded as events but raise no alert.
import type { Detection } from '../core/detection.js';
import { VigilError } from '../core/errors.js';

export interface SuppressionInput {
  /** A rule or model id (or its title). */
  rule?: string;
  /** An entity value: an IP, a user, a host. */
  entity?: string;
  /** A group-by or entity field and the value it must have. */
  field?: string;
  value?: string;
  /** ISO 8601: detections with a later event time are no longer suppressed. */
  until?: string;
  reason?: string;
}

export interface Suppression extends SuppressionInput {
  id: string;
  created_by: string;
  created: string;
}

const MAX_TEXT = 1000;

export function validateSuppression(input: SuppressionInput): SuppressionInput {
  const out: SuppressionInput = {};
  for (const key of ['rule', 'entity', 'field', 'value', 'reason'] as const) {
    const v = input[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT) throw new VigilError('bad_request', `suppression ${key} must be a non-empty string of at most ${MAX_TEXT} characters`);
    out[key] = v;
  }
  if (input.until !== undefined) {
    if (typeof input.until !== 'string' || Number.isNaN(Date.parse(input.until))) throw new VigilError('bad_request', 'suppression until must be an ISO 8601 time');
    out.until = new Date(input.until).toISOString();
  }
  if ((out.field === undefined) !== (out.value === undefined)) throw new VigilError('bad_request', 'suppression field and value go together');
  if (out.rule === undefined && out.entity === undefined && out.field === undefined) {
    throw new VigilError('bad_request', 'a suppression needs at least one of rule, entity or field/value (it would silence everything)');
  }
  return out;
}

export function matchesSuppression(s: SuppressionInput, d: Detection): boolean {
  if (s.until !== undefined && d.timestamp > s.until) return false;
  if (s.rule !== undefined && s.rule !== d.source.id && s.rule !== d.source.title) return false;
  const values = { ...(d.entity ? { [d.entity.field]: d.entity.value } : {}), ...(d.group ?? {}) };
  if (s.entity !== undefined && !Object.values(values).includes(s.entity)) return false;
  if (s.field !== undefined && values[s.field] !== s.value) return false;
  return true;
}
