// Vigil's configuration: one schema (documented fields, snake_case keys), read from YAML, then environment, then flags.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { VigilError } from '../core/errors.js';
import { mappingExtensionSchema } from '../detect/rules/mapping.js';
import { mlSchema } from './ml.js';
import { geoipSchema, threatIntelSchema } from './enrich.js';
import { exportSchema } from './export.js';
import { notificationsSchema } from './notifications.js';
import { secretShape } from './secrets.js';
import { busSchema } from './bus.js';

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

const collectorSwitch = (intervalSeconds: number) => ({
  enabled: z.boolean().default(true),
  /** Seconds between samples. */
  interval_seconds: z.number().min(0.1).max(86_400).default(intervalSeconds),
});

const collectSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** `host.name` of collected events; default this machine's hostname. */
  host_name: z.string().min(1).optional(),
  /** The /proc to read (a container watching its host mounts the host's /proc elsewhere). */
  proc_root: z.string().default('/proc'),
  /** A host is `stale` in /api/v1/hosts after this many of its metrics intervals without news. */
  stale_after_intervals: z.number().min(1).default(3),
  network: z
    .strictObject({
      ...collectorSwitch(10),
      /** Report connections between two local addresses (127.0.0.0/8, ::1) too. */
      loopback_connections: z.boolean().default(false),
      /** Connection events per sample at most; the rest are counted in health. */
      max_connection_events: z.number().int().min(1).default(1000),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      ...collectorSwitch(10),
      /** One event per CPU core per sample. */
      per_core: z.boolean().default(true),
    })
    .prefault({}),
  process: z
    .strictObject({
      /** `interval_seconds`: how often the top consumers are reported. */
      ...collectorSwitch(10),
      /** How often the process list is checked for starts and stops (Linux; macOS checks every interval). */
      scan_interval_ms: z.number().int().min(100).default(1000),
      /** Top consumers of CPU and of memory reported each interval; 0 turns them off. */
      top: z.number().int().min(0).max(100).default(5),
    })
    .prefault({}),
  auth: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** auto: journald if it runs, else the auth log file (macOS: the unified log). */
      source: z.enum(['auto', 'journald', 'file', 'log_stream']).default('auto'),
      /** Auth log files tried in order when journald is not used. */
      paths: z.array(z.string()).optional(),
      /** Read journal files from this directory instead of the system journal (journalctl --directory). */
      journal_directory: z.string().optional(),
    })
    .prefault({}),
});

export const configSchema = z.strictObject({
  /** Address the dashboard and API listen on. Loopback unless you mean to expose Vigil. */
  host: z.string().default('127.0.0.1'),
  /** Port of the dashboard and API. */
  port: z.number().int().min(0).max(65535).default(3000),
  /** Where events, state and credentials live. */
  data_dir: z.string().default('./data'),
  /**
   * Where events (and the alerts and anomalies stored with them) are kept: `duckdb`, embedded in data_dir (the default);
   * `clickhouse://user:password@host:8123/database` (`clickhouses://` or `https://` for TLS); or `chdb:///path`,
   * ClickHouse embedded in this process. A URL, or an object with `url`, the password as `password`, `password_env`
   * or `password_file`, and ClickHouse `settings` sent with every statement (e.g. `insert_quorum: auto`).
   */
  store: z.preprocess(
    (value) => (typeof value === 'string' ? { url: value } : value),
    z
      .strictObject({
        url: z
          .string()
          .regex(/^(duckdb|chdb(:.*)?|(clickhouses?|https?):\/\/.+)$/, 'use duckdb, chdb:///path, clickhouse://user:password@host:8123/database or https://…')
          .default('duckdb'),
        ...secretShape('password'),
        settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
        /**
         * DuckDB's memory_limit (e.g. `1GB`): its cache of the event table stays within it. Default 512MB (DuckDB's
         * own default, 80% of the machine's memory, lets the process grow with the store).
         */
        memory_limit: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 512MB or 2GB').optional(),
      })
      .prefault({}),
  ),
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
  /** Host collectors (network, resources, processes, auth); `collect: false` turns them all off. */
  collect: z.preprocess((value) => (typeof value === 'boolean' ? { enabled: value } : value), collectSchema.prefault({})),
  /** `vigil agent`: where and how a remote agent ships (flags win). */
  agent: z
    .strictObject({
      /** The Vigil server's base URL, e.g. https://vigil.example.com:3000. */
      server: z.string().optional(),
      /** An ingest token (prefer $VIGIL_TOKEN or an EnvironmentFile over a file others can read). */
      token: z.string().optional(),
      /** The agent's state: buffer, file offsets, journald cursor, agent id. */
      data_dir: z.string().default('./vigil-agent'),
      /** Where undelivered events wait; default DATA_DIR/buffer. */
      buffer_dir: z.string().optional(),
      /** Bound of the buffer; when full, the oldest events are dropped (and counted). */
      max_buffer_mb: z.number().min(1).default(256),
      /** PEM file of a private CA that signed the server's certificate. */
      ca: z.string().optional(),
    })
    .prefault({}),
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
  /** Per-client rate limits (token buckets; README "Hardening"); a rate of 0 turns that limit off. */
  limits: z
    .strictObject({
      /** HTTP API requests per second per client (token, user or address), ingest routes and health excepted. */
      api: z.strictObject({ requests_per_second: z.number().min(0).default(1_000), burst: z.number().min(1).default(2_000) }).prefault({}),
      /** Events per second per client on the ingest routes (POST /api/v1/events, /es/…). */
      ingest: z.strictObject({ events_per_second: z.number().min(0).default(50_000), burst: z.number().min(1).default(100_000) }).prefault({}),
      /** Syslog messages per second per TCP or TLS connection; over it the connection is read more slowly. */
      syslog_tcp: z.strictObject({ messages_per_second: z.number().min(0).default(50_000), burst: z.number().min(1).default(100_000) }).prefault({}),
      /** Syslog messages per second per UDP sender address (an IPv6 /64); over it datagrams are dropped and counted. */
      syslog_udp: z.strictObject({ messages_per_second: z.number().min(0).default(50_000), burst: z.number().min(1).default(100_000) }).prefault({}),
    })
    .prefault({}),
  /** Detection rules: Sigma rules, correlations and Vigil's own detectors (README "Detection rules"). */
  rules: z
    .strictObject({
      /** Load the rules shipped in Vigil's rules/ folder. */
      builtin: z.boolean().default(true),
      /** More rule folders (or files), watched and reloaded on change. */
      dirs: z.array(z.string()).default([]),
      /** Additions to the Sigma logsource and field mapping. */
      mapping: mappingExtensionSchema.optional(),
      /** Values of `%name%` placeholders for the `expand` modifier. */
      placeholders: z.record(z.string(), z.array(z.string())).default({}),
      /** Rule ids switched off at start. */
      disabled: z.array(z.string()).default([]),
      /** Correlation groups kept per rule (least recently seen evicted beyond it). */
      max_groups_per_rule: z.number().int().min(1).default(10_000),
      /** Events kept per correlation group window. */
      max_events_per_group: z.number().int().min(1).default(1_000),
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
      /** Alerts sharing an entity this close (event time) to an incident's latest activity join it. */
      incident_window_minutes: z.number().min(0).default(120),
      /** An open high or critical incident nobody acknowledged escalates one level each this many minutes. */
      escalate_after_minutes: z.number().min(0.1).default(15),
    })
    .prefault({}),
  /** Dashboard logins: a session unused for `idle_minutes`, or older than `max_hours`, ends. */
  sessions: z
    .strictObject({
      idle_minutes: z.number().min(1).default(720),
      max_hours: z.number().min(0.1).default(168),
    })
    .prefault({}),
  /** Failed logins, dashboard and HTTP Basic alike (src/api/auth/lockout.ts); `vigil user unlock NAME` lifts a lock. */
  login: z
    .strictObject({
      /** Failed logins of one account within `window_minutes` that lock it (names that do not exist too). */
      max_failures: z.number().int().min(1).default(5),
      window_minutes: z.number().min(0.1).default(15),
      /** The first lock; each further one within a day doubles, up to `max_lockout_minutes`. */
      lockout_minutes: z.number().min(0.1).default(15),
      max_lockout_minutes: z.number().min(0.1).default(24 * 60),
      /** Failed logins from one address (an IPv6 /64) within the window before it is refused for `address_lockout_minutes`. */
      max_failures_per_address: z.number().int().min(1).default(20),
      address_lockout_minutes: z.number().min(0.1).default(15),
    })
    .prefault({}),
  /** Anomaly detection: Isolation Forest detectors, severity calibration, retraining (src/config/ml.ts). */
  ml: mlSchema,
  /** GeoIP enrichment (src/config/enrich.ts). */
  geoip: geoipSchema,
  /** Threat intelligence feeds and online lookups (src/config/enrich.ts). */
  threat_intel: threatIntelSchema,
  /** Slack, webhook and email channels (src/config/notifications.ts). */
  notifications: notificationsSchema,
  /** Elasticsearch / OpenSearch clusters to export to (src/config/export.ts). */
  export: exportSchema,
  /** NATS JetStream, for running the stages as separate processes with `vigil start --role …` (src/config/bus.ts). */
  bus: busSchema,
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
  if (overrides.collect !== undefined) config.collect.enabled = overrides.collect;
  config.data_dir = resolve(config.data_dir);
  return config;
}
