// The role matrix: every route of the API, tried with no credential and with a token of every role. A route
// answers 401 without a credential (health excepted), 403 to a role below the one it declares, and lets the rest in.
// The declarations themselves are checked against the policy: writes need analyst or more, but for ingestion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROLES, roleAllows, type Role } from './auth/credentials.js';
import { startTestVigil } from '../testing/runtime.js';

/** API routes anyone may call: health, and logging in (which answers for the caller's own session). */
const PUBLIC = new Set(['GET /api/v1/health', 'POST /api/v1/session', 'GET /api/v1/session']);
/** The dashboard's pages and assets hold no data (it comes from the API), so they are open: `/login` must be. */
const isPage = (method: string, url: string) => method === 'GET' && !/^\/(api|es|metrics)(\/|$)/.test(url);
/** Changes to one's own session, open to every role. */
const OWN = new Set(['DELETE /api/v1/session']);
/** Routes that take data in (and the Elasticsearch API shippers call): the ingest role's. */
const INGEST = /^(POST \/api\/v1\/events|[A-Z]+ \/es(\/|$))/;

test('every route enforces its role, and the declared roles follow the policy', { timeout: 120_000 }, async () => {
  const vigil = await startTestVigil();
  try {
    const tokens = Object.fromEntries(ROLES.map((role) => [role, vigil.runtime.credentials.createToken(`matrix ${role}`, role).token])) as Record<Role, string>;
    const routes = vigil.runtime.api.routeTable.filter((r) => !r.url.includes('*'));
    assert.ok(routes.length >= 15, `found ${routes.length} routes`);
    const problems: string[] = [];
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      // The policy for declarations.
      if (route.access === 'public' && !PUBLIC.has(key) && !isPage(route.method, route.url)) problems.push(`${key} is public`);
      if (route.method !== 'GET' && route.access !== 'public' && !OWN.has(key)) {
        if (!INGEST.test(key) && (route.access === 'viewer' || route.access === 'ingest')) problems.push(`${key} changes state with only the ${route.access} role`);
      }
      const url = route.url.replace(/:[A-Za-z_]+/g, 'matrix-probe');
      const init = (token: string | null): RequestInit & { token: string | null } =>
        route.method === 'GET' || route.method === 'DELETE' ? { method: route.method, token } : { method: route.method, token, headers: { 'content-type': 'application/json' }, body: '{}' };
      const anonymous = await vigil.call(url, init(null));
      await anonymous.body?.cancel();
      if (route.access === 'public') continue; // open by design; what such a route answers is its own test's
      if (anonymous.status !== 401) problems.push(`${key}: ${anonymous.status} without a credential`);
      for (const role of ROLES) {
        const response = await vigil.call(url, init(tokens[role]));
        await response.body?.cancel(); // the status is the answer; a stream would never end
        const allowed = roleAllows(role, route.access);
        if (allowed && (response.status === 401 || response.status === 403)) problems.push(`${key}: ${role} refused with ${response.status}`);
        if (!allowed && response.status !== 403) problems.push(`${key}: ${role} got ${response.status}, expected 403`);
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    await vigil.close();
  }
});
