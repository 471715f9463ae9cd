// journald as an auth source: `journalctl -f -o json` over the auth and authpriv facilities (what Debian's rsyslog
// writes to /var/log/auth.log), each entry mapped to the fields an auth.log line gives and read by the same program
// parsers (sshd, sudo, su, PAM, account tools), so detections keyed on those datasets see no difference.
// Field meanings: systemd.journal-fields(7); JSON output: https://systemd.io/JOURNAL_EXPORT_FORMATS/
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseProgramMessage } from '../../parsers/syslog/programs.js';
import { priorityFields } from '../../parsers/syslog/syslog.js';
import type { ParsedFields } from '../../parsers/types.js';

/** RFC 5424 facility codes of auth (4) and authpriv (10): sshd, sudo, su, PAM, shadow-utils log there. */
export const AUTH_FACILITY_MATCHES = ['SYSLOG_FACILITY=4', 'SYSLOG_FACILITY=10'];

/** True when journald runs on this machine (its socket exists), as sd_booted-style checks do. */
export function journaldRunning(runDir = '/run/systemd/journal'): boolean {
  return existsSync(`${runDir}/socket`) || existsSync(`${runDir}/stdout`);
}

/**
 * A journal field as text. journalctl prints a field as a string, as an array of byte values when it is not valid
 * UTF-8, as an array of those when the entry has the field more than once (the first is taken), or null when over
 * the size limit without `--all`.
 */
export function journalText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((b) => typeof b === 'number')) return Buffer.from(value as number[]).toString('utf8');
    return journalText(value[0]);
  }
  return undefined;
}

function journalInt(value: unknown): number | undefined {
  const text = journalText(value);
  if (text === undefined || !/^\d{1,19}$/.test(text)) return undefined;
  return Number(text);
}

export interface JournalRecord {
  /** The ECS document, or undefined when the line is not a journal entry. */
  document?: Record<string, unknown>;
  cursor?: string;
}

/** Maps one line of `journalctl -o json` to the ECS event the same message in auth.log would give. */
export function mapJournalLine(line: string): JournalRecord {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    entry = parsed as Record<string, unknown>;
  } catch {
    return {};
  }
  const cursor = journalText(entry.__CURSOR);
  const message = journalText(entry.MESSAGE);
  const fields: ParsedFields = { event: { dataset: 'syslog' } };
  const micros = journalText(entry.__REALTIME_TIMESTAMP);
  if (micros && /^\d{1,19}$/.test(micros)) fields['@timestamp'] = new Date(Number(BigInt(micros) / 1000n)).toISOString();
  const host = journalText(entry._HOSTNAME);
  if (host) fields.host = { hostname: host, name: host };
  const program = journalText(entry.SYSLOG_IDENTIFIER) ?? journalText(entry._COMM);
  const pid = journalInt(entry.SYSLOG_PID) ?? journalInt(entry._PID);
  if (program !== undefined || pid !== undefined) fields.process = { ...(program !== undefined ? { name: program } : {}), ...(pid !== undefined ? { pid } : {}) };
  const facility = journalInt(entry.SYSLOG_FACILITY);
  const severity = journalInt(entry.PRIORITY);
  if (severity !== undefined && severity < 8) priorityFields(fields, (facility ?? 1) * 8 + severity);
  if (program !== undefined) (((fields.log ??= {}).syslog ??= {}) as Record<string, unknown>).appname = program;
  if (message !== undefined) {
    fields.message = message;
    parseProgramMessage(fields);
  }
  const unit = journalText(entry._SYSTEMD_UNIT);
  const doc = fields as Record<string, unknown>;
  if (unit) doc.systemd = { unit };
  // The source is said by `input.type` (as Filebeat's journald input does); the dataset stays the parser's.
  doc.input = { type: 'journald' };
  (doc.event as Record<string, unknown>).original = line;
  return { document: doc, ...(cursor ? { cursor } : {}) };
}

/** The arguments of `journalctl` for a follower resuming after `cursor` (or starting at `startAt`). */
export function journalctlArgs(options: { cursor: string | undefined; startAt: 'beginning' | 'end'; directory?: string; matches: readonly string[] }): string[] {
  const args = ['--follow', '--output=json', '--all', '--no-pager', '--quiet'];
  if (options.directory) args.push(`--directory=${options.directory}`);
  if (options.cursor) args.push(`--after-cursor=${options.cursor}`, '--no-tail');
  else if (options.startAt === 'beginning') args.push('--no-tail');
  else args.push('--lines=0');
  // Matches on the same field are ORed by journalctl (journalctl(1), "MATCHES").
  args.push(...options.matches);
  return args;
}

/** Reads the saved cursor (one line of text), if any. */
export async function loadCursor(path: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return text.length > 0 && text.length < 4096 ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces the cursor file atomically (temporary file, then rename), so a crash leaves the old or the new one. */
export async function saveCursor(path: string, cursor: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, cursor + '\n', { mode: 0o600 });
  await rename(tmp, path);
}
