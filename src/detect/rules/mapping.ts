// Where Sigma meets Vigil's events: which events a Sigma logsource (product/category/service) selects, and which ECS
// field each Sigma taxonomy field name reads. One literal table, extended (not replaced) by `rules.mapping` in the
// configuration. Field names follow SigmaHQ's tests/logsource.json; ECS targets follow Filebeat's modules.
import { z } from 'zod';

/** A Sigma field read from one or more ECS fields (any may match), optionally translating rule values. */
export type FieldTarget = string | string[] | { field: string | string[]; values?: Record<string, string> };

export interface LogsourceEntry {
  product?: string;
  category?: string;
  service?: string;
  /** `event.dataset` values this logsource covers; `*` for any dataset (then `where` narrows). */
  datasets: string[];
  /** ECS fields that must hold one of the listed values (list-valued fields: any element), all of them. */
  where?: Record<string, string[]>;
  /** Sigma field name → ECS field(s). */
  fields?: Record<string, FieldTarget>;
  /**
   * Field names the table does not list: `false` (default) rejects them; `true` reads them as written;
   * a string reads them under that prefix (auditd's `a0` → `auditd.log.a0`).
   */
  passthrough?: boolean | string;
  /** Fields a keyword search (a value without a field) looks in. */
  keywords?: string[];
  /** Where these events come from, for people. */
  source?: string;
}

export interface SigmaMapping {
  logsources: LogsourceEntry[];
}

const LINUX_SYSLOG_DATASETS = ['syslog', 'sshd', 'sudo', 'su', 'pam', 'accounts', 'system.syslog', 'system.auth'];
const AUTH_DATASETS = ['sshd', 'sudo', 'su', 'pam', 'accounts', 'system.auth'];
const KEYWORDS = ['message', 'event.original'];
const WEB_KEYWORDS = ['url.original', 'user_agent.original', 'http.request.referrer'];

const PROCESS_FIELDS: Record<string, FieldTarget> = {
  Image: 'process.executable',
  CommandLine: 'process.command_line',
  CurrentDirectory: 'process.working_directory',
  User: 'user.name',
  ProcessId: 'process.pid',
  ProcessGuid: 'process.entity_id',
  ParentImage: 'process.parent.executable',
  ParentCommandLine: 'process.parent.command_line',
  ParentProcessId: 'process.parent.pid',
  ParentProcessGuid: 'process.parent.entity_id',
  ParentUser: 'process.parent.user.name',
  LogonId: 'auditd.session',
  LogonGuid: 'auditd.session',
  TerminalSessionId: 'process.tty.char_device.minor',
  IntegrityLevel: 'process.integrity_level',
  Hashes: ['process.hash.sha256', 'process.hash.sha1', 'process.hash.md5'],
  OriginalFileName: 'process.pe.original_file_name',
  Description: 'process.pe.description',
  Product: 'process.pe.product',
  Company: 'process.pe.company',
  FileVersion: 'process.pe.file_version',
};

/** The mapping Vigil ships. Sources marked "shipper" arrive as ECS JSON (Filebeat, Auditbeat …) through the API. */
export const DEFAULT_MAPPING: SigmaMapping = {
  logsources: [
    { product: 'linux', service: 'sshd', datasets: ['sshd'], keywords: KEYWORDS, source: 'auth.log (sshd parser)' },
    { product: 'linux', service: 'auth', datasets: AUTH_DATASETS, keywords: KEYWORDS, source: 'auth.log (sshd, sudo, su, PAM, account tools)' },
    {
      product: 'linux',
      service: 'sudo',
      datasets: ['sudo'],
      fields: { USER: 'user.effective.name', COMMAND: 'process.command_line', PWD: 'process.working_directory', TTY: 'system.auth.sudo.tty', User: 'user.name' },
      keywords: KEYWORDS,
      source: 'auth.log (sudo parser)',
    },
    { product: 'linux', service: 'su', datasets: ['su'], keywords: KEYWORDS, source: 'auth.log (su parser)' },
    { product: 'linux', service: 'pam', datasets: ['pam'], keywords: KEYWORDS, source: 'auth.log (PAM lines)' },
    { product: 'linux', service: 'syslog', datasets: LINUX_SYSLOG_DATASETS, keywords: KEYWORDS, source: 'syslog (every syslog-framed dataset)' },
    { product: 'linux', datasets: LINUX_SYSLOG_DATASETS, keywords: KEYWORDS, source: 'syslog (every syslog-framed dataset)' },
    { product: 'linux', service: 'cron', datasets: LINUX_SYSLOG_DATASETS, where: { 'process.name': ['cron', 'CRON', 'crond', 'anacron'] }, keywords: KEYWORDS, source: 'syslog, program cron' },
    { product: 'linux', service: 'vsftpd', datasets: LINUX_SYSLOG_DATASETS, where: { 'process.name': ['vsftpd'] }, keywords: KEYWORDS, source: 'syslog, program vsftpd' },
    { product: 'linux', service: 'clamav', datasets: LINUX_SYSLOG_DATASETS, where: { 'process.name': ['clamd', 'freshclam', 'clamav', 'clamav-milter', 'clamscan'] }, keywords: KEYWORDS, source: 'syslog, programs clamd/freshclam' },
    { product: 'linux', service: 'guacamole', datasets: LINUX_SYSLOG_DATASETS, where: { 'process.name': ['guacd', 'guacamole', 'tomcat9', 'catalina'] }, keywords: KEYWORDS, source: 'syslog, program guacd' },
    {
      product: 'linux',
      service: 'auditd',
      datasets: ['auditd.log', 'auditd'],
      fields: { type: 'auditd.log.record_type' },
      passthrough: 'auditd.log.',
      keywords: KEYWORDS,
      source: 'shipper: Filebeat auditd module (fields under auditd.log.*)',
    },
    {
      product: 'linux',
      category: 'process_creation',
      datasets: ['*'],
      where: { 'event.category': ['process'], 'event.type': ['start'] },
      fields: PROCESS_FIELDS,
      keywords: KEYWORDS,
      source: 'process starts: sudo COMMAND lines; Auditbeat/host collectors (event.category process, event.type start)',
    },
    {
      product: 'linux',
      category: 'network_connection',
      datasets: ['host.network'],
      fields: {
        DestinationIp: 'destination.ip',
        DestinationPort: 'destination.port',
        DestinationHostname: 'destination.domain',
        DestinationIsIpv6: { field: 'network.type', values: { true: 'ipv6', false: 'ipv4' } },
        SourceIp: 'source.ip',
        SourcePort: 'source.port',
        SourceHostname: 'source.domain',
        SourceIsIpv6: { field: 'network.type', values: { true: 'ipv6', false: 'ipv4' } },
        Protocol: 'network.transport',
        Initiated: { field: 'network.direction', values: { true: 'egress', false: 'ingress' } },
        Image: 'process.executable',
        User: 'user.name',
        ProcessId: 'process.pid',
        ProcessGuid: 'process.entity_id',
      },
      keywords: KEYWORDS,
      source: 'host collector: network connections (host.network)',
    },
    {
      product: 'linux',
      category: 'file_event',
      datasets: ['*'],
      where: { 'event.category': ['file'] },
      fields: {
        TargetFilename: 'file.path',
        Image: 'process.executable',
        User: 'user.name',
        ProcessId: 'process.pid',
        ProcessGuid: 'process.entity_id',
        CreationUtcTime: 'file.created',
      },
      keywords: KEYWORDS,
      source: 'shipper: Auditbeat file integrity / host collectors (event.category file)',
    },
    {
      category: 'webserver',
      datasets: ['nginx.access', 'apache.access', 'iis.access'],
      fields: {
        // SigmaHQ's webserver rules match paths and query strings alike in cs-uri-query (`…|endswith: '/mgmt/tm/util/bash'`),
        // so it reads the whole request target as logged.
        'cs-uri-query': 'url.original',
        'cs-uri-stem': 'url.path',
        'cs-uri': 'url.original',
        'c-ip': 'source.ip',
        'cs-method': 'http.request.method',
        'sc-status': 'http.response.status_code',
        'cs-user-agent': 'user_agent.original',
        'cs-referer': 'http.request.referrer',
        'cs-host': ['url.domain', 'destination.domain'],
        'cs-username': 'user.name',
        'cs-version': 'http.version',
        'sc-bytes': 'http.response.body.bytes',
        'cs-bytes': 'http.request.bytes',
        'cs-cookie': 'http.request.cookie',
        'cs-content-type': 'http.request.mime_type',
        's-ip': 'destination.ip',
        's-port': 'destination.port',
        's-sitename': 'destination.domain',
        's-computername': 'host.name',
        'time-taken': 'event.duration',
        'sc-win32-status': 'iis.access.sub_status',
        date: '@timestamp',
        time: '@timestamp',
      },
      // Keyword searches look where request data is (not the address, time or sizes of the line), and share the
      // field scans that cs-uri-query and cs-user-agent need anyway.
      keywords: WEB_KEYWORDS,
      source: 'nginx / Apache access logs',
    },
    {
      category: 'proxy',
      datasets: ['proxy', 'squid.access'],
      fields: {
        'c-uri': 'url.original',
        'c-uri-query': 'url.query',
        'c-uri-stem': 'url.path',
        'c-uri-extension': 'url.extension',
        'cs-uri': 'url.original',
        'cs-uri-stem': 'url.path',
        'c-useragent': 'user_agent.original',
        'cs-host': 'url.domain',
        'cs-method': 'http.request.method',
        'cs-cookie': 'http.request.cookie',
        'cs-referrer': 'http.request.referrer',
        'cs-version': 'http.version',
        'cs-bytes': 'http.request.bytes',
        'sc-bytes': 'http.response.body.bytes',
        'sc-status': 'http.response.status_code',
        'r-dns': 'destination.domain',
        src_ip: 'source.ip',
        dst_ip: 'destination.ip',
      },
      keywords: WEB_KEYWORDS,
      source: 'shipper: forward-proxy logs as ECS (event.dataset proxy or squid.access)',
    },
    { service: 'nginx', datasets: ['nginx.error'], keywords: KEYWORDS, source: 'shipper: nginx error log (event.dataset nginx.error)' },
    { service: 'apache', datasets: ['apache.error'], keywords: KEYWORDS, source: 'shipper: Apache error log (event.dataset apache.error)' },
  ],
};

const fieldTargetSchema: z.ZodType<FieldTarget> = z.union([
  z.string().min(1),
  z.array(z.string().min(1)).min(1),
  z.strictObject({ field: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]), values: z.record(z.string(), z.string()).optional() }),
]);

/** One entry of `rules.mapping.logsources` in the configuration: a new logsource, or additions to a shipped one. */
export const logsourceEntrySchema = z.strictObject({
  product: z.string().optional(),
  category: z.string().optional(),
  service: z.string().optional(),
  datasets: z.array(z.string().min(1)).optional(),
  where: z.record(z.string(), z.array(z.string())).optional(),
  fields: z.record(z.string(), fieldTargetSchema).optional(),
  passthrough: z.union([z.boolean(), z.string()]).optional(),
  keywords: z.array(z.string().min(1)).optional(),
  source: z.string().optional(),
});

export const mappingExtensionSchema = z.strictObject({ logsources: z.array(logsourceEntrySchema).default([]) });
export type MappingExtension = z.input<typeof mappingExtensionSchema>;

const sameSource = (a: Partial<LogsourceEntry>, b: Partial<LogsourceEntry>): boolean =>
  a.product === b.product && a.category === b.category && a.service === b.service;

/**
 * The shipped mapping with a configuration's additions: an entry naming a shipped logsource adds fields to it and
 * replaces whatever else it sets; any other entry is a new logsource (it must name its datasets).
 */
export function extendMapping(base: SigmaMapping, extension: MappingExtension | undefined): SigmaMapping {
  const logsources: LogsourceEntry[] = base.logsources.map((e) => ({ ...e, fields: { ...e.fields } }));
  for (const raw of extension?.logsources ?? []) {
    const add = logsourceEntrySchema.parse(raw);
    const existing = logsources.find((e) => sameSource(e, add));
    if (existing) {
      Object.assign(existing, { ...add, fields: { ...existing.fields, ...add.fields } });
      if (add.datasets === undefined) existing.datasets = existing.datasets ?? [];
    } else {
      if (!add.datasets || add.datasets.length === 0) {
        throw new Error(`rules.mapping: the new logsource ${describeLogsource(add)} needs "datasets"`);
      }
      logsources.push({ ...add, datasets: add.datasets });
    }
  }
  return { logsources };
}

export interface Logsource {
  product?: string;
  category?: string;
  service?: string;
}

export function describeLogsource(ls: Logsource): string {
  const parts = (['product', 'category', 'service'] as const).filter((k) => ls[k] !== undefined).map((k) => `${k} ${ls[k]}`);
  return parts.length > 0 ? parts.join(', ') : 'no logsource';
}

/**
 * The entry for a rule's logsource: the one naming the same product, category and service, else one that names
 * the same category and service for any product (a webserver is a webserver on any OS). Undefined: Vigil has no
 * events of that kind.
 */
export function findLogsource(mapping: SigmaMapping, ls: Logsource): LogsourceEntry | undefined {
  return (
    mapping.logsources.find((e) => sameSource(e, ls)) ??
    mapping.logsources.find((e) => e.product === undefined && e.category !== undefined && e.category === ls.category && e.service === ls.service) ??
    mapping.logsources.find((e) => e.product === undefined && e.category === undefined && e.service !== undefined && e.service === ls.service && ls.category === undefined)
  );
}

/** Why a logsource selects nothing, naming the most telling part ("no Vigil source for product windows"). */
export function inactiveReason(mapping: SigmaMapping, ls: Logsource): string {
  if (ls.product !== undefined && !mapping.logsources.some((e) => e.product === ls.product)) return `no Vigil source for product ${ls.product}`;
  if (ls.category !== undefined && !mapping.logsources.some((e) => e.category === ls.category)) return `no Vigil source for category ${ls.category}`;
  if (ls.service !== undefined && !mapping.logsources.some((e) => e.service === ls.service)) return `no Vigil source for service ${ls.service}`;
  return `no Vigil source for ${describeLogsource(ls)}`;
}

/** ECS fields a rule may always name as written. */
const ECS_TOP_LEVEL = new Set(['@timestamp', 'message', 'tags', 'labels']);

export type FieldResolution = { ok: true; fields: string[]; values?: Record<string, string> } | { ok: false; reason: string };

/**
 * The ECS field(s) a rule's field name reads under a logsource entry: the table's target, else the name itself when
 * it is an ECS name (dotted, or `message`/`tags`/`labels`/`@timestamp`), else the passthrough rule. Without an
 * entry (an inactive logsource) every name passes through, since nothing will be read anyway.
 */
export function resolveField(entry: LogsourceEntry | undefined, name: string): FieldResolution {
  if (entry === undefined) return { ok: true, fields: [name] };
  const target = entry.fields !== undefined && Object.hasOwn(entry.fields, name) ? entry.fields[name] : undefined;
  if (target !== undefined) {
    if (typeof target === 'string') return { ok: true, fields: [target] };
    if (Array.isArray(target)) return { ok: true, fields: target };
    const fields = typeof target.field === 'string' ? [target.field] : target.field;
    return target.values ? { ok: true, fields, values: target.values } : { ok: true, fields };
  }
  if (name.includes('.') || ECS_TOP_LEVEL.has(name)) return { ok: true, fields: [name] };
  if (entry.passthrough === true) return { ok: true, fields: [name] };
  if (typeof entry.passthrough === 'string') return { ok: true, fields: [entry.passthrough + name] };
  return {
    ok: false,
    reason: `unknown field "${name}" for logsource ${describeLogsource(entry)}: use its ECS name or add it to rules.mapping`,
  };
}
