// Audit records of API actions: who did it (the request's principal), how (dashboard session or API credential),
// from where (the peer address), and whether it worked. Routes call `audited` around what they change.
import type { FastifyRequest } from 'fastify';
import type { AuditActor, AuditRecord } from '../audit/event.js';
import type { AuditSink } from '../audit/trail.js';
import { isVigilError } from '../core/errors.js';

export type RequestAction = Omit<AuditRecord, 'actor' | 'via' | 'sourceIp' | 'outcome'> & { outcome?: AuditRecord['outcome'] };

/** The acting principal of an authenticated request, and how it came in. */
export function requestActor(request: FastifyRequest): { actor: AuditActor; via: 'dashboard' | 'api'; sourceIp: string } {
  const principal = request.principal;
  const actor: AuditActor = principal ? { name: principal.name, kind: principal.kind, role: principal.role } : { name: 'anonymous', kind: 'anonymous' };
  // A user without an Authorization header was authenticated by the dashboard's session cookie (auth/hook.ts).
  const via = principal?.kind === 'user' && request.headers.authorization === undefined ? 'dashboard' : 'api';
  return { actor, via, sourceIp: request.ip };
}

/** Records actions done by a request. */
export function recordRequest(audit: AuditSink | undefined, request: FastifyRequest, ...actions: RequestAction[]): void {
  if (!audit || actions.length === 0) return;
  const who = requestActor(request);
  audit.record(...actions.map((a) => ({ outcome: 'success' as const, ...a, ...who })));
}

/**
 * Runs an action and records it: success with what `describe` adds from the result, or failure with the error's
 * id as the reason (the error still goes to the client).
 */
export async function audited<T>(audit: AuditSink | undefined, request: FastifyRequest, action: RequestAction, run: () => T | Promise<T>, describe?: (result: T) => Partial<RequestAction>): Promise<T> {
  let result: T;
  try {
    result = await run();
  } catch (err) {
    recordRequest(audit, request, { ...action, outcome: 'failure', reason: isVigilError(err) ? err.id : 'internal', message: `${action.message} (failed: ${err instanceof Error ? err.message.slice(0, 200) : 'error'})` });
    throw err;
  }
  recordRequest(audit, request, { ...action, ...(describe ? describe(result) : {}) });
  return result;
}
