// The one event type every stage passes: an Elastic Common Schema (ECS) document in its nested JSON form.
// https://www.elastic.co/guide/en/ecs/current/ecs-field-reference.html

export type EventOutcome = 'success' | 'failure' | 'unknown';

export interface EcsGeo {
  /** Set by enrichment for addresses no database places: `private`, `loopback`, `documentation` … */
  name?: string;
  country_iso_code?: string;
  country_name?: string;
  city_name?: string;
  location?: { lat: number; lon: number };
}

export interface EcsEndpoint {
  ip?: string;
  port?: number;
  domain?: string;
  address?: string;
  bytes?: number;
  geo?: EcsGeo;
  as?: { number?: number; organization?: { name?: string } };
}

/** Fields Vigil reads or writes by name; any other ECS (or custom) field may be present too. */
export interface EcsEvent {
  '@timestamp': string;
  event: {
    id: string;
    dataset: string;
    kind?: 'event' | 'alert' | 'metric' | 'state' | 'pipeline_error';
    module?: string;
    category?: string[];
    type?: string[];
    action?: string;
    outcome?: EventOutcome;
    original?: string;
    ingested?: string;
    duration?: number;
    severity?: number;
    reason?: string;
    [key: string]: unknown;
  };
  message?: string;
  tags?: string[];
  labels?: Record<string, string>;
  host?: { name?: string; hostname?: string; ip?: string[]; [key: string]: unknown };
  source?: EcsEndpoint;
  destination?: EcsEndpoint;
  client?: EcsEndpoint;
  user?: { name?: string; id?: string; effective?: { name?: string }; target?: { name?: string }; [key: string]: unknown };
  process?: { name?: string; pid?: number; executable?: string; command_line?: string; [key: string]: unknown };
  url?: { original?: string; path?: string; query?: string; domain?: string; [key: string]: unknown };
  http?: {
    version?: string;
    request?: { method?: string; referrer?: string; bytes?: number };
    response?: { status_code?: number; bytes?: number; body?: { bytes?: number } };
    [key: string]: unknown;
  };
  user_agent?: { original?: string };
  log?: {
    level?: string;
    file?: { path?: string };
    syslog?: {
      facility?: { code?: number; name?: string };
      severity?: { code?: number; name?: string };
      priority?: number;
      appname?: string;
      hostname?: string;
      procid?: string;
      msgid?: string;
      version?: string;
      structured_data?: Record<string, Record<string, string>>;
    };
    [key: string]: unknown;
  };
  error?: { message?: string; type?: string; code?: string };
  [key: string]: unknown;
}

/** Tag set on an event whose line no parser understood; the line is kept in `event.original`. */
export const PARSE_ERROR_TAG = '_parse_failure';
/** Tag set on an event whose `@timestamp` could not be read; it carries the time it was received instead. */
export const TIMESTAMP_ERROR_TAG = '_timestamp_invalid';
/** Tag set on a line that was cut to the configured maximum length. */
export const TRUNCATED_TAG = '_truncated';
/** Tag set on a sent event that claimed a dataset only Vigil writes (`vigil.*`); it is stored as `external.vigil.…`. */
export const RESERVED_DATASET_TAG = '_vigil_reserved_dataset';

/** Reads a dotted ECS field (`source.ip`) from a nested document; also accepts literal dotted keys. */
export function getField(doc: Record<string, unknown>, path: string): unknown {
  if (path in doc) return doc[path];
  let node: unknown = doc;
  let rest = path;
  while (rest.length > 0) {
    if (node === null || typeof node !== 'object') return undefined;
    const obj = node as Record<string, unknown>;
    if (rest in obj) return obj[rest];
    const dot = rest.indexOf('.');
    if (dot < 0) return undefined;
    // Try the longest literal key first so `{"a.b": {"c": 1}}` resolves `a.b.c`.
    let found = false;
    for (let cut = rest.lastIndexOf('.'); cut > 0; cut = rest.lastIndexOf('.', cut - 1)) {
      const head = rest.slice(0, cut);
      if (head in obj) {
        node = obj[head];
        rest = rest.slice(cut + 1);
        found = true;
        break;
      }
    }
    if (!found) return undefined;
  }
  return node;
}
