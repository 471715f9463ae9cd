// Talking to a running Vigil from the command line: base URL, token, and errors turned into plain sentences.
import { VigilError } from '../core/errors.js';

export interface ServerOptions {
  server: string;
  token?: string;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:3000';

export async function callServer(options: ServerOptions, path: string, init: RequestInit = {}): Promise<Response> {
  if (!options.token) {
    throw new VigilError('unauthorized', 'no token: pass --token or set VIGIL_TOKEN (create one with `vigil token create --role viewer`)');
  }
  const url = new URL(path, options.server.endsWith('/') ? options.server : options.server + '/');
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { authorization: `Bearer ${options.token}`, ...(init.headers ?? {}) } });
  } catch (err) {
    throw new VigilError('unavailable', `cannot reach Vigil at ${options.server} (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}). Is \`vigil start\` running? Use --server to point elsewhere`);
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    let errorId: string | undefined;
    try {
      const body = (await response.json()) as { error?: { id?: string; message?: string } };
      if (body.error?.message) message = body.error.message;
      errorId = body.error?.id;
    } catch {
      // not JSON: keep the status line
    }
    if (response.status === 429) {
      // A full queue (`busy`) or this client over its rate limit (`rate_limited`): callers that retry wait Retry-After.
      const retryAfter = Number(response.headers.get('retry-after') ?? '1');
      throw new VigilError(errorId === 'rate_limited' ? 'rate_limited' : 'busy', message, { retryAfter: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : 1 });
    }
    const id = response.status === 401 ? 'unauthorized' : response.status === 403 ? 'forbidden' : response.status === 400 ? 'bad_request' : response.status === 404 ? 'not_found' : 'unavailable';
    throw new VigilError(id, message);
  }
  return response;
}
