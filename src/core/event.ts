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

/**
 * How getField walks one path, worked out once: at each step `k` (the start of the rest of the path) the rest as one
 * key, and the keys made of its leading segments, longest first, with the step each leads to.
 */
interface FieldPlan {
  rest: string[];
  heads: [key: string, next: number][][];
}

const plans = new Map<string, FieldPlan>();
/** Paths come from code, rules and configuration; a bound keeps odd callers from growing the cache. */
const MAX_PLANS = 4096;

function planFor(path: string): FieldPlan {
  let plan = plans.get(path);
  if (plan !== undefined) return plan;
  const dots: number[] = [];
  for (let i = path.indexOf('.'); i >= 0; i = path.indexOf('.', i + 1)) dots.push(i);
  const starts = [0, ...dots.map((d) => d + 1)];
  plan = { rest: [], heads: [] };
  for (let k = 0; k < starts.length; k++) {
    const start = starts[k]!;
    plan.rest.push(path.slice(start));
    const heads: [string, number][] = [];
    for (let j = dots.length - 1; j >= k; j--) if (dots[j]! > start) heads.push([path.slice(start, dots[j]), j + 1]);
    plan.heads.push(heads);
  }
  if (plans.size >= MAX_PLANS) plans.clear();
  plans.set(path, plan);
  return plan;
}

/**
 * Reads a dotted ECS field (`source.ip`) from a nested document; also accepts literal dotted keys. At each level the
 * rest of the path as a literal key wins, then the longest literal key made of its leading segments, so
 * `{"a.b": {"c": 1}}` resolves `a.b.c`.
 */
export function getField(doc: Record<string, unknown>, path: string): unknown {
  if (path in doc) return doc[path];
  const plan = planFor(path);
  let node: unknown = doc;
  for (let k = 0; ; ) {
    const rest = plan.rest[k]!;
    if (rest.length === 0) return node;
    if (node === null || typeof node !== 'object') return undefined;
    const obj = node as Record<string, unknown>;
    if (k > 0 && rest in obj) return obj[rest];
    let next = -1;
    for (const [head, step] of plan.heads[k]!) {
      if (head in obj) {
        node = obj[head];
        next = step;
        break;
      }
    }
    if (next < 0) return undefined;
    k = next;
  }
}
