// Turns a parsed line or a received JSON document into a complete ECS event: id, timestamps, original, defaults, tags.
import { randomUUID } from 'node:crypto';
import { PARSE_ERROR_TAG, RESERVED_DATASET_TAG, TRUNCATED_TAG, type EcsEvent } from '../core/event.js';
import type { DocumentOptions, LineOptions } from '../core/ingest.js';
import type { ParseOutcome } from '../parsers/types.js';
import { parseLine } from '../parsers/index.js';
import { MAX_JSON_DEPTH, normalizeJsonObject, normalizeTimestamp } from '../parsers/json/json.js';

const MAX_ID_LENGTH = 128;

/** Cuts a line to `maxChars` UTF-16 units without splitting a surrogate pair. */
export function truncateLine(line: string, maxChars: number): string {
  let end = maxChars;
  const code = line.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return line.slice(0, end);
}

function addTag(event: EcsEvent, tag: string): void {
  if (!Array.isArray(event.tags)) event.tags = [];
  if (!event.tags.includes(tag)) event.tags.push(tag);
}

/**
 * Datasets under `vigil.` are Vigil's own records (its audit trail, its detections), made only server-side: a sent
 * event claiming one is kept, but renamed to `external.vigil.…` and tagged, so it can never pass for a real one.
 */
function guardReservedDataset(event: EcsEvent): void {
  const dataset = event.event.dataset;
  if (typeof dataset !== 'string' || !dataset.startsWith('vigil.')) return;
  event.event.dataset = `external.${dataset}`;
  addTag(event, RESERVED_DATASET_TAG);
}

function applyDefaults(event: EcsEvent, options: { hostName?: string; peer?: string }): void {
  if (options.hostName && !event.host?.name) event.host = { ...event.host, name: options.hostName };
  if (options.peer) {
    const log = (event.log ??= {});
    const source = (log.source ?? {}) as Record<string, unknown>;
    if (source.address === undefined) log.source = { ...source, address: options.peer };
  }
}

export interface NormalizedLine {
  event: EcsEvent;
  /** The parse failure reason, when no parser understood the line. */
  failure?: string;
}

/** Builds the event for one raw line from its parse outcome; `ingested` is the batch's arrival time (ISO 8601). */
export function normalizeLine(
  line: string,
  outcome: ParseOutcome,
  options: LineOptions,
  ingested: string,
  truncated: boolean,
): NormalizedLine {
  let event: EcsEvent;
  let failure: string | undefined;
  if (outcome.ok) {
    // A parser builds new objects for every line, so they are completed in place rather than copied.
    const fields = outcome.fields;
    fields['@timestamp'] ??= ingested;
    event = fields as unknown as EcsEvent;
  } else {
    failure = outcome.reason;
    event = {
      '@timestamp': ingested,
      event: { id: '', dataset: 'unparsed', kind: 'pipeline_error' },
      message: line,
      error: { type: 'parse_error', message: outcome.reason },
      tags: [PARSE_ERROR_TAG],
    };
  }
  event.event.id = randomUUID();
  event.event.original = line;
  event.event.ingested = ingested;
  if (truncated) addTag(event, TRUNCATED_TAG);
  guardReservedDataset(event);
  if (options.filePath) {
    const log = (event.log ??= {});
    log.file = { ...(log.file as Record<string, unknown> | undefined), path: options.filePath };
  }
  applyDefaults(event, options);
  return failure === undefined ? { event } : { event, failure };
}

/** `givenId`: the sender chose the event's id, so a retry of it must not be stored twice. */
export type NormalizedDocument = { ok: true; event: EcsEvent; givenId: boolean } | { ok: false; reason: string };

/**
 * Builds the event for one JSON document (API, `_bulk`). A document that carries only a raw `message`
 * (what Filebeat, Fluent Bit and Vector send for a log line) is parsed like a line, its own fields winning.
 */
export function normalizeDocument(
  raw: unknown,
  options: DocumentOptions,
  now: number,
  original: string | undefined,
  maxLineChars: number,
): NormalizedDocument {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, reason: `expected a JSON object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}` };
  }
  // The document was parsed from this request's body, so it is ours to rewrite in place.
  const doc = raw as Record<string, unknown>;
  // A metric (ECS `event.kind: metric`) is a measurement, not a log line: no raw text is made up for it.
  const metric = (doc.event as { kind?: unknown } | null | undefined)?.kind === 'metric';
  const rawText = metric ? undefined : (original ?? (typeof doc.message === 'string' ? undefined : JSON.stringify(doc)));
  if (!normalizeJsonObject(doc)) return { ok: false, reason: `nesting deeper than ${MAX_JSON_DEPTH} levels` };
  normalizeTimestamp(doc);

  const ingested = new Date(now).toISOString();
  const givenEvent = doc.event !== null && typeof doc.event === 'object' && !Array.isArray(doc.event) ? (doc.event as Record<string, unknown>) : {};
  const dataStream = doc.data_stream as Record<string, unknown> | undefined;
  let dataset = typeof givenEvent.dataset === 'string' && givenEvent.dataset !== '' ? givenEvent.dataset : undefined;
  if (dataset === undefined && dataStream && typeof dataStream.dataset === 'string') dataset = dataStream.dataset;

  let base: Record<string, unknown> = {};
  let parsedFrom: string | undefined;
  if (dataset === undefined && typeof doc.message === 'string' && doc.message.length > 0) {
    const message = doc.message.length > maxLineChars ? truncateLine(doc.message, maxLineChars) : doc.message;
    const outcome = parseLine(message, 'auto', { now });
    if (outcome.ok) {
      base = outcome.fields as Record<string, unknown>;
      dataset = outcome.fields.event.dataset;
      parsedFrom = message;
    }
  }
  const baseEvent = (base.event ?? {}) as Record<string, unknown>;
  const event = { ...base, ...doc } as EcsEvent;
  event.event = { ...baseEvent, ...givenEvent, id: '', dataset: dataset ?? options.defaultDataset ?? 'generic' };
  if (base.message !== undefined && parsedFrom !== undefined) event.message = base.message as string;

  event['@timestamp'] = (doc['@timestamp'] as string | undefined) ?? (base['@timestamp'] as string | undefined) ?? ingested;

  const id = givenEvent.id;
  const givenId = typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH;
  event.event.id = givenId ? id : randomUUID();
  if (typeof givenEvent.original !== 'string' && !metric) {
    event.event.original = parsedFrom ?? (typeof doc.message === 'string' ? doc.message : rawText);
  }
  event.event.ingested = ingested;
  if (options.trusted !== true) guardReservedDataset(event);
  applyDefaults(event, options);
  return { ok: true, event, givenId };
}
