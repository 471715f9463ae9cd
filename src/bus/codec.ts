// What travels on the bus, as JSON: normalized events and forwarded correlation inputs on `vigil.raw.<partition>`,
// analyzed events with their detections on `vigil.analyzed`; and how lists are cut into messages under the size limit.
import { Counter } from 'prom-client';
import type { Detection } from '../core/detection.js';
import type { EcsEvent } from '../core/event.js';
import type { Telemetry } from '../core/telemetry.js';

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

// --- reading messages: anything may be published on a subject, so a message is checked before it is used ---------

/** Why a message was skipped (a bounded label of `vigil_bus_invalid_messages_total`). */
export type InvalidReason = 'not_json' | 'bad_shape';

export type Read<T> = { ok: true; message: T } | { ok: false; reason: InvalidReason; detail: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An event as the roles exchange them: normalized, so with its id and time (normalize.ts sets both). */
function eventProblem(e: unknown): string | undefined {
  if (!isObject(e)) return 'an event is not an object';
  if (!isObject(e.event) || typeof e.event.id !== 'string' || e.event.id === '') return 'an event has no event.id';
  if (typeof e['@timestamp'] !== 'string' || Number.isNaN(Date.parse(e['@timestamp']))) return 'an event has no valid @timestamp';
  return undefined;
}

function positionsProblem(u: unknown, length: number, name: string): string | undefined {
  if (u === undefined) return undefined;
  if (!Array.isArray(u) || !u.every((i) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < length)) return `"${name}" is not a list of positions in "e"`;
  return undefined;
}

function hitProblem(h: unknown): string | undefined {
  if (!isObject(h)) return 'a forwarded input is not an object';
  for (const key of ['k', 'r', 's', 'i'] as const) if (typeof h[key] !== 'string') return `a forwarded input has no string "${key}"`;
  if (!Number.isInteger(h.f) || !Number.isFinite(h.t)) return 'a forwarded input has no numeric "f" and "t"';
  if (!isObject(h.d)) return 'a forwarded input has no document "d"';
  return undefined;
}

function detectionProblem(d: unknown): string | undefined {
  if (!isObject(d) || typeof d.id !== 'string' || !isObject(d.detection)) return 'a detection is not {id, detection}';
  const det = d.detection;
  if (!isObject(det.source) || typeof det.source.id !== 'string' || typeof det.source.title !== 'string') return 'a detection has no source';
  if (typeof det.severity !== 'string' || typeof det.timestamp !== 'string' || typeof det.reason !== 'string') return 'a detection has no severity, timestamp or reason';
  if (!Array.isArray(det.evidence) || !det.evidence.every((x) => typeof x === 'string')) return 'a detection has no evidence ids';
  return undefined;
}

function parse(data: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

/** A message of `vigil.raw.<p>`, or why it cannot be one. */
export function readRawMessage(data: Uint8Array): Read<RawMessage> {
  const parsed = parse(data);
  if (!parsed.ok) return { ok: false, reason: 'not_json', detail: 'not JSON' };
  const body = parsed.value;
  if (!isObject(body)) return { ok: false, reason: 'bad_shape', detail: 'not a JSON object' };
  let problem: string | undefined;
  if (body.e !== undefined) {
    if (!Array.isArray(body.e)) problem = '"e" is not a list';
    else problem = body.e.map(eventProblem).find((p) => p !== undefined) ?? positionsProblem(body.u, body.e.length, 'u');
  } else if (body.u !== undefined) problem = '"u" without "e"';
  if (problem === undefined && body.h !== undefined) {
    if (!Array.isArray(body.h)) problem = '"h" is not a list';
    else problem = body.h.map(hitProblem).find((p) => p !== undefined);
  }
  return problem === undefined ? { ok: true, message: body as RawMessage } : { ok: false, reason: 'bad_shape', detail: problem };
}

/** A message of `vigil.analyzed`, or why it cannot be one. */
export function readAnalyzedMessage(data: Uint8Array): Read<AnalyzedMessage> {
  const parsed = parse(data);
  if (!parsed.ok) return { ok: false, reason: 'not_json', detail: 'not JSON' };
  const body = parsed.value;
  if (!isObject(body)) return { ok: false, reason: 'bad_shape', detail: 'not a JSON object' };
  let problem: string | undefined;
  if (!Array.isArray(body.e)) problem = '"e" is not a list';
  else if (body.d !== undefined && !Array.isArray(body.d)) problem = '"d" is not a list';
  else if (body.a !== undefined && body.a !== 1) problem = '"a" is not 1';
  else {
    problem = body.e.map(eventProblem).find((p) => p !== undefined) ?? positionsProblem(body.u, body.e.length, 'u') ?? ((body.d as unknown[] | undefined) ?? []).map(detectionProblem).find((p) => p !== undefined);
    // A detection names its detection event, which travels in the same message.
    if (problem === undefined && body.d !== undefined) {
      const ids = new Set((body.e as { event: { id: string } }[]).map((e) => e.event.id));
      if ((body.d as { id: string }[]).some((d) => !ids.has(d.id))) problem = 'a detection names an event the message does not hold';
    }
  }
  return problem === undefined ? { ok: true, message: body as unknown as AnalyzedMessage } : { ok: false, reason: 'bad_shape', detail: problem };
}

const invalidCounters = new WeakMap<Telemetry, Counter<'stream' | 'reason'>>();

/** `vigil_bus_invalid_messages_total{stream, reason}`: messages of the wrong shape, skipped. */
export function invalidMessages(telemetry: Telemetry): Counter<'stream' | 'reason'> {
  let counter = invalidCounters.get(telemetry);
  if (!counter) {
    counter = new Counter({
      name: 'vigil_bus_invalid_messages_total',
      help: 'Bus messages of the wrong shape, skipped (never analyzed or stored), by stream and reason.',
      labelNames: ['stream', 'reason'],
      registers: [telemetry.registry],
    });
    invalidCounters.set(telemetry, counter);
  }
  return counter;
}
