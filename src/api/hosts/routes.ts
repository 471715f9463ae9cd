// /api/v1/hosts: every host that sends Vigil anything, with its latest collector figures and whether it went quiet,
// for the dashboard's system-health page.
import type { FastifyInstance } from 'fastify';
import { VigilError } from '../../core/errors.js';
import type { HostRegistry } from './registry.js';

export interface HostRoutesDeps {
  hosts?: HostRegistry;
}

export function registerHostRoutes(app: FastifyInstance, deps: HostRoutesDeps): void {
  const registry = deps.hosts;
  if (!registry) return;

  app.get(
    '/api/v1/hosts',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Hosts that sent events: last seen, latest CPU/memory/disk/network from the host collectors, and `stale` when a collecting host has sent nothing for `collect.stale_after_intervals` intervals (null for hosts that only send logs).',
      },
    },
    async () => {
      const hosts = registry.list();
      return { total: hosts.length, stale: hosts.filter((h) => h.stale === true).length, hosts, ...(registry.seeded ? { seeded: registry.seeded } : {}) };
    },
  );

  app.get<{ Params: { name: string } }>(
    '/api/v1/hosts/:name',
    { config: { access: 'viewer' }, schema: { summary: 'One host by `host.name`.', params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } } },
    async (request) => {
      const host = registry.get(request.params.name);
      if (!host) throw new VigilError('not_found', `no host named "${request.params.name.slice(0, 200)}" has sent events`);
      return host;
    },
  );
}
