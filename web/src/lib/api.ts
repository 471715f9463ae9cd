// Talks to Vigil's API from the page: same-origin fetch with the session cookie, the CSRF token on every change,
// errors as ApiError (status, id, message), and a 401 anywhere sending the user back to the login page.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
  ) {
    super(message);
  }
  /** The endpoint does not exist (yet) on this server. */
  get missing(): boolean {
    return this.status === 404 && this.id === 'not_found' && this.message.startsWith('no route');
  }
}

let csrf = '';
let onUnauthorized: () => void = () => undefined;

export function setCsrf(token: string): void {
  csrf = token;
}

export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const method = init.method ?? 'GET';
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}), ...(init.signal ? { signal: init.signal } : {}) });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Vigil cannot be reached: is it running?');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const error = (body as { error?: { id?: string; message?: string } } | undefined)?.error;
    if (res.status === 401 && !path.startsWith('/api/v1/session')) onUnauthorized();
    throw new ApiError(res.status, error?.id ?? 'http', error?.message ?? `${res.status} ${res.statusText}`);
  }
  return body as T;
}

/** A query string from a record, leaving out empty values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : '';
}
