// The Compose deployment (docker-compose.yml, deploy/, Dockerfile) checked with the real tools that need no Docker
// engine: Compose's own `config` (parse, interpolate, validate, normalise) and `nats-server -t` for the NATS config.
// The images are not built or run here (no Docker engine on this machine).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, parseConfig } from '../../src/config/config.js';
import { parseClickHouseUrl } from '../../src/store/clickhouse/connection.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SECRETS = { CLICKHOUSE_PASSWORD: 'ch-secret-1', VIGIL_ADMIN_PASSWORD: 'admin-secret-2', VIGIL_ADMIN_TOKEN: 'vgl_token-secret-3' };
const VIGIL_SERVICES = ['ingest', 'analyze-1', 'analyze-2', 'store', 'api'];
const NATS_SERVICES = ['nats-1', 'nats-2', 'nats-3'];

/** `docker compose` (v2 plugin) when the Docker CLI has it, else `docker-compose` (Debian 12 packages v1.29). */
function composeCommand(): string[] | undefined {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    const result = spawnSync(command[0]!, [...command.slice(1), 'version'], { encoding: 'utf8' });
    if (result.status === 0) return command;
  }
  return undefined;
}

function compose(args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const command = composeCommand()!;
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !(key in SECRETS)) base[key] = value;
  const result = spawnSync(command[0]!, [...command.slice(1), '--project-directory', root, '-f', join(root, 'docker-compose.yml'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...base, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Service {
  image?: string;
  build?: { context: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: (string | { source: string; target: string; read_only?: boolean })[];
  ports?: unknown[];
}

/** A volume as `source:target[:ro]`, in the short form v1 prints or the long form v2 prints. */
function volumeText(volume: NonNullable<Service['volumes']>[number]): string {
  if (typeof volume === 'string') return volume.replace(/:rw$/, '');
  return `${volume.source}:${volume.target}${volume.read_only ? ':ro' : ''}`;
}

const tool = composeCommand();

describe('docker-compose.yml', { skip: tool ? false : 'no `docker compose` or `docker-compose` (npm test installs Debian docker-compose as root)' }, () => {
  let services: Record<string, Service> | undefined;
  const normalised = (): Record<string, Service> => {
    if (services === undefined) {
      const result = compose(['config'], SECRETS);
      assert.equal(result.status, 0, result.stderr);
      services = (parseYaml(result.stdout) as { services: Record<string, Service> }).services;
    }
    return services;
  };

  test('Compose accepts it: a 3-node NATS cluster, ClickHouse, one ingest, two analyze, one store and one api Vigil', () => {
    const services = normalised();
    assert.deepEqual(Object.keys(services).sort(), [...NATS_SERVICES, 'clickhouse', ...VIGIL_SERVICES].sort());
    const roles = new Map<string, string[]>();
    for (const name of VIGIL_SERVICES) {
      const service = services[name]!;
      const command = service.command ?? [];
      assert.deepEqual(command.slice(0, 3), ['start', '--config', '/etc/vigil/vigil.yaml'], name);
      const role = command[command.indexOf('--role') + 1];
      assert.ok(role !== undefined && command.includes('--role'), `${name} runs one role`);
      roles.set(role, [...(roles.get(role) ?? []), name]);
      assert.equal(service.image, 'vigil:local');
      assert.equal(service.build?.context.replace(/\/$/, ''), root.replace(/\/$/, ''));
      const volumes = (service.volumes ?? []).map(volumeText);
      assert.ok(volumes.includes(`${join(root, 'deploy/vigil.yaml')}:/etc/vigil/vigil.yaml:ro`), `${name} mounts deploy/vigil.yaml: ${volumes.join(', ')}`);
      assert.ok(volumes.some((v) => v.endsWith(':/var/lib/vigil')), `${name} keeps its state in a volume`);
      // Secrets come from the environment of `docker compose`, never from the files.
      assert.deepEqual(service.environment, SECRETS);
    }
    assert.deepEqual(Object.fromEntries([...roles].map(([role, names]) => [role, names.length])), { ingest: 1, analyze: 2, store: 1, api: 1 });
    assert.equal(services['clickhouse']!.environment?.CLICKHOUSE_PASSWORD, SECRETS.CLICKHOUSE_PASSWORD);
    assert.ok(services['api']!.ports?.length, 'the dashboard is published');
    assert.equal(services['store']!.ports, undefined, 'the store role is reached over NATS, not published');
    assert.ok(services['ingest']!.ports?.length, 'the inputs are published');
  });

  test('start order: every Vigil waits for a healthy NATS cluster; store and api for a healthy ClickHouse', () => {
    const services = normalised();
    for (const name of VIGIL_SERVICES) {
      const depends = services[name]!.depends_on ?? {};
      for (const nats of NATS_SERVICES) assert.equal(depends[nats]?.condition, 'service_healthy', `${name} on ${nats}`);
      assert.equal(depends['clickhouse']?.condition, name === 'store' || name === 'api' ? 'service_healthy' : undefined, `${name} on clickhouse`);
    }
    // Whatever is waited on as healthy has a health check, and so does every service with an HTTP endpoint.
    for (const [name, service] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        if (condition === 'service_healthy') assert.ok(services[target]?.healthcheck?.test?.length, `${target} (waited on by ${name}) has a health check`);
      }
    }
    for (const name of ['ingest', 'store', 'api']) assert.match(services[name]!.healthcheck!.test.join(' '), /\/api\/v1\/health/, name);
    for (const name of NATS_SERVICES) assert.match(services[name]!.healthcheck!.test.join(' '), /healthz\?js-enabled-only=true/, name);
    assert.match(services['clickhouse']!.healthcheck!.test.join(' '), /8123\/ping/);
  });

  test('a missing secret stops Compose with its name', () => {
    const { CLICKHOUSE_PASSWORD: _, ...others } = SECRETS;
    const result = compose(['config'], others);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /set CLICKHOUSE_PASSWORD/);
  });

  test('the NATS servers are one cluster: distinct names, one config naming all three routes', () => {
    const services = normalised();
    const names = NATS_SERVICES.map((name) => services[name]!.environment?.SERVER_NAME);
    assert.deepEqual(names, NATS_SERVICES);
    for (const name of NATS_SERVICES) {
      assert.ok((services[name]!.volumes ?? []).map(volumeText).includes(`${join(root, 'deploy/nats.conf')}:/etc/nats/vigil.conf:ro`));
    }
    const conf = readFileSync(join(root, 'deploy/nats.conf'), 'utf8');
    for (const name of NATS_SERVICES) assert.match(conf, new RegExp(`nats://${name}:6222`));
  });
});

test('deploy/nats.conf is valid for nats-server', { skip: spawnSync('nats-server', ['--version']).status === 0 ? false : 'no nats-server here' }, () => {
  for (const name of NATS_SERVICES) {
    const result = spawnSync('nats-server', ['-t', '-c', join(root, 'deploy/nats.conf')], { encoding: 'utf8', env: { ...process.env, SERVER_NAME: name } });
    assert.equal(result.status, 0, result.stderr);
  }
});

test('deploy/vigil.yaml is a valid Vigil configuration pointing at the cluster and ClickHouse', () => {
  const raw = parseYaml(readFileSync(join(root, 'deploy/vigil.yaml'), 'utf8')) as Record<string, unknown> & { bus: { servers: string[] } };
  assert.deepEqual(raw.bus.servers, NATS_SERVICES.map((name) => `nats://${name}:4222`));
  // `bus` is read by the roles (`vigil start --role`); on a tree without them the rest must still be valid.
  const known = Object.hasOwn(configSchema.shape, 'bus') ? raw : Object.fromEntries(Object.entries(raw).filter(([key]) => key !== 'bus'));
  const config = parseConfig(known, 'deploy/vigil.yaml');
  const target = parseClickHouseUrl(config.store.url, '/unused');
  assert.deepEqual([target.kind, target.location, target.database, target.username], ['http', 'http://clickhouse:8123', 'vigil', 'vigil']);
  assert.equal(target.password, undefined, 'the password comes from CLICKHOUSE_PASSWORD, not the file');
  assert.equal(config.store.password_env, 'CLICKHOUSE_PASSWORD');
  assert.equal(config.host, '0.0.0.0');
});

test('the Dockerfile builds on node:20-bookworm-slim with npm ci and runs vigil as a non-root user', () => {
  const lines = readFileSync(join(root, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'));
  const from = lines.filter((line) => line.startsWith('FROM '));
  assert.ok(from.length >= 1 && from.every((line) => line.startsWith('FROM node:20-bookworm-slim')), from.join(' | '));
  assert.ok(lines.some((line) => /^RUN .*\bnpm ci\b/.test(line)));
  const user = lines.filter((line) => line.startsWith('USER ')).pop();
  assert.ok(user !== undefined && !/\broot\b|\b0\b/.test(user), user);
  assert.ok(lines.some((line) => line.startsWith('ENTRYPOINT') && line.includes('bin/vigil.js')));
  assert.ok(lines.some((line) => line.startsWith('CMD') && line.includes('"start"')));
  // The build context leaves out local state and what the image builds itself.
  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['node_modules', 'dist', 'data']) assert.ok(ignored.includes(entry), entry);
});
