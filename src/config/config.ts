// Vigil's configuration: one schema (documented fields, snake_case keys), read from YAML, then environment, then flags.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { VigilError } from '../core/errors.js';
import { geoipSchema, threatIntelSchema } from './enrich.js';
import { exportSchema } from './export.js';
import { notificationsSchema } from './notifications.js';

const tlsFiles = z.strictObject({
  /** PEM certificate chain file. */
  cert: z.string(),
  /** PEM private key file. */
  key: z.string(),
});

const tailTarget = z.strictObject({
  /** Absolute path; `*` and `?` allowed in the file name. */
  path: z.string(),
  /** Parser for its lines: auto, syslog, sshd, nginx, apache, json. */
  format: z.string().default('auto'),
});

export const configSchema = z.strictObject({
  /** Address the dashboard and API listen on. Loopback unless you mean to expose Vigil. */
  host: z.string().default('127.0.0.1'),
  /** Port of the dashboard and API. */
  port: z.number().int().min(0).max(65535).default(3000),
  /** Where events, state and credentials live. */
  data_dir: z.string().default('./data'),
  /** HTTPS for the dashboard and API. */
  tls: tlsFiles.optional(),
  syslog: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      /** UDP and TCP port; 0 turns the syslog receiver off. */
      port: z.number().int().min(0).max(65535).default(5514),
      /** Syslog over TLS (RFC 5425) on its own port; with `ca`, senders must present a certificate it signed. */
      tls: tlsFiles.extend({ port: z.number().int().min(1).max(65535).default(6514), ca: z.string().optional() }).optional(),
      /** Longer messages are cut there and counted. */
      max_message_bytes: z.number().int().min(256).max(16 * 1024 * 1024).default(64 * 1024),
      max_connections: z.number().int().min(1).default(1000),
      /** A TCP sender silent this long is disconnected; 0 never. */
      idle_timeout_ms: z.number().int().min(0).default(10 * 60 * 1000),
    })
    .prefault({}),
  files: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Files to tail; when absent, the host's auth log and the nginx/apache access logs that exist. */
      targets: z.array(tailTarget).optional(),
      /** Where to start in a file seen for the first time. */
      start_at: z.enum(['beginning', 'end']).default('end'),
      poll_ms: z.number().int().min(50).default(1000),
    })
    .prefault({}),
  /** Host collectors (network, resources, processes, auth). */
  collect: z.boolean().default(true),
  ingest: z
    .strictObject({
      /** Largest accepted HTTP body, after decompression. */
      max_body_bytes: z.number().int().min(1024).default(16 * 1024 * 1024),
      /** Longer lines are cut to this and tagged `_truncated`. */
      max_line_bytes: z.number().int().min(256).default(64 * 1024),
      /** Events waiting to be stored before inputs are told to back off (429 / TCP pause). */
      max_queue_events: z.number().int().min(100).default(200_000),
    })
    .prefault({}),
  retention: z
    .strictObject({
      /** Delete events older than this; 0 keeps them forever. */
      max_age_days: z.number().min(0).default(30),
      /** Delete the oldest events beyond this size (e.g. 10737418240 for 10 GiB); 0 means no size limit. */
      max_bytes: z.number().int().min(0).default(0),
      /** How often retention runs. */
      interval_minutes: z.number().min(0.01).default(10),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      /** A detection of the same rule and group this close (event time) to its alert's last one updates that alert. */
      suppression_window_minutes: z.number().min(0).default(60),
    })
    .prefault({}),
  /** GeoIP enrichment (src/config/enrich.ts). */
  geoip: geoipSchema,
  /** Threat intelligence feeds and online lookups (src/config/enrich.ts). */
  threat_intel: threatIntelSchema,
  /** Slack, webhook and email channels (src/config/notifications.ts). */
  notifications: notificationsSchema,
  /** Elasticsearch / OpenSearch clusters to export to (src/config/export.ts). */
  export: exportSchema,
});

export type Config = z.infer<typeof configSchema>;

/** Settings given on the command line or in the environment; they win over the file. */
export interface ConfigOverrides {
  host?: string;
  port?: number;
  dataDir?: string;
  syslogPort?: number;
  collect?: boolean;
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${issue.message}`)
    .join('; ');
}

/** Validates a parsed configuration object; errors name the field. */
export function parseConfig(raw: unknown, origin = 'configuration'): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) throw new VigilError('bad_config', `invalid ${origin}: ${formatIssues(result.error)}`);
  return result.data;
}

function envNumber(name: string, env: NodeJS.ProcessEnv): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new VigilError('bad_config', `${name} must be an integer, got "${value}"`);
  return n;
}

/** Loads the YAML file (if any), applies `VIGIL_*` environment variables and then the overrides. */
export function loadConfig(file: string | undefined, overrides: ConfigOverrides = {}, env = process.env): Config {
  let raw: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new VigilError('bad_config', `cannot read the configuration file ${file}: ${(err as Error).message}`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      throw new VigilError('bad_config', `${file} is not valid YAML: ${(err as Error).message}`);
    }
  }
  const config = parseConfig(raw, file ?? 'configuration');
  const port = overrides.port ?? envNumber('VIGIL_PORT', env);
  if (port !== undefined) config.port = port;
  const dataDir = overrides.dataDir ?? env.VIGIL_DATA_DIR;
  if (dataDir) config.data_dir = dataDir;
  if (overrides.host !== undefined) config.host = overrides.host;
  if (overrides.syslogPort !== undefined) config.syslog.port = overrides.syslogPort;
  if (overrides.collect !== undefined) config.collect = overrides.collect;
  config.data_dir = resolve(config.data_dir);
  return config;
}
