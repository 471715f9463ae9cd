// One error type for the whole of Vigil: a stable id, an HTTP status that fits it, a location where there is one.

export type ErrorId =
  | 'bad_request'
  | 'bad_json'
  | 'bad_query'
  | 'bad_config'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'too_large'
  | 'unsupported_media_type'
  | 'busy'
  | 'rate_limited'
  | 'locked'
  | 'unavailable'
  | 'conflict'
  | 'internal';

const STATUS: Record<ErrorId, number> = {
  bad_request: 400,
  bad_json: 400,
  bad_query: 400,
  bad_config: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  busy: 429,
  /** A client over its own limit (failed logins from one address). */
  rate_limited: 429,
  /** An account locked after failed logins (RFC 4918 §11.3); answered the same for names that do not exist. */
  locked: 423,
  unavailable: 503,
  internal: 500,
};

export interface ErrorOptions {
  /** Where the problem is: `file:line`, `line 3`, `query position 12`, a field name. */
  location?: string;
  cause?: unknown;
  /** Seconds a client should wait before retrying (429/503). */
  retryAfter?: number;
}

export class VigilError extends Error {
  readonly id: ErrorId;
  readonly status: number;
  readonly location: string | undefined;
  readonly retryAfter: number | undefined;

  constructor(id: ErrorId, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VigilError';
    this.id = id;
    this.status = STATUS[id];
    this.location = options.location;
    this.retryAfter = options.retryAfter;
  }

  /** The API's error body: `{ error: { id, message } }`, never internals. */
  toJSON(): { error: { id: string; message: string } } {
    return { error: { id: this.id, message: this.location ? `${this.message} (${this.location})` : this.message } };
  }
}

export function isVigilError(err: unknown): err is VigilError {
  return err instanceof VigilError;
}

/** A message safe to show for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
