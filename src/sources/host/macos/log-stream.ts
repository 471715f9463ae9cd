// macOS auth events from the unified log: `log stream --style ndjson` (log(1)) filtered to sshd, sudo, loginwindow
// and the Authorization subsystem (authd). sshd and sudo messages are OpenSSH's and sudo's own, read by the same
// parsers as on Linux; authd and loginwindow get datasets of their own. Written from Apple's documented output
// format and man pages: it cannot be run on this machine, and is tested on sample lines (testdata/).
import { basename } from 'node:path';
import { programParser } from '../../../parsers/syslog/programs.js';
import type { ParsedFields } from '../../../parsers/types.js';

/** NSPredicate of `log stream --predicate` (log(1), "PREDICATE-BASED FILTERING"). */
export const AUTH_PREDICATE =
  'process == "sshd" OR process == "sshd-session" OR process == "sudo" OR process == "loginwindow" OR subsystem == "com.apple.Authorization"';

export function logStreamArgs(): string[] {
  return ['stream', '--style', 'ndjson', '--level', 'info', '--predicate', AUTH_PREDICATE];
}

/** `2024-03-05 10:15:30.123456+0100` (the unified log's timestamp) → ISO 8601 UTC with milliseconds. */
export function parseLogTimestamp(text: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([+-]\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = (m[3] ?? '0').padEnd(3, '0').slice(0, 3);
  const t = Date.parse(`${m[1]}T${m[2]}.${ms}${m[4]}:${m[5]}`);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

// authd: `Succeeded authorizing right 'R' by client 'C' [PID] for authorization created by 'C2' [PID2] (flags)`,
// `Failed to authorize right 'R' by client 'C' [PID] for authorization created by 'C2' [PID2] (flags) (-60005)`.
const AUTHD = /^(Succeeded authorizing|Failed to authorize) right '([^']*)' by client '([^']*)' \[(\d+)\] for authorization created by '([^']*)' \[(\d+)\](?: \([^)]*\))?(?: \((-?\d+)\))?/;
// loginwindow's session agent announces lock and unlock as BSD notifications.
const SCREEN = /sending BSD notification for com\.apple\.sessionagent\.(screenIsLocked|screenIsUnlocked)/;

function parseAuthd(message: string, fields: ParsedFields): void {
  fields.event.dataset = 'macos.authorization';
  const m = AUTHD.exec(message);
  if (!m) return;
  const granted = m[1] === 'Succeeded authorizing';
  fields.event.category = ['authentication'];
  fields.event.type = ['info'];
  fields.event.action = granted ? 'authorization_granted' : 'authorization_failed';
  fields.event.outcome = granted ? 'success' : 'failure';
  fields['macos'] = {
    authorization: {
      right: m[2],
      client: { path: m[3], pid: Number(m[4]) },
      creator: { path: m[5], pid: Number(m[6]) },
      ...(m[7] !== undefined ? { status: Number(m[7]) } : {}),
    },
  };
}

function parseLoginwindow(message: string, fields: ParsedFields): void {
  fields.event.dataset = 'macos.loginwindow';
  const m = SCREEN.exec(message);
  if (m) {
    fields.event.category = ['session'];
    fields.event.type = [m[1] === 'screenIsLocked' ? 'end' : 'start'];
    fields.event.action = m[1] === 'screenIsLocked' ? 'screen_locked' : 'screen_unlocked';
  }
}

/** Maps one `log stream --style ndjson` line to an ECS document; undefined for lines that are not log events (the "Filtering the log data…" banner). */
export function mapLogStreamLine(line: string): Record<string, unknown> | undefined {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    entry = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (entry.eventType !== undefined && entry.eventType !== 'logEvent') return undefined;
  const message = typeof entry.eventMessage === 'string' ? entry.eventMessage : undefined;
  if (message === undefined) return undefined;
  const imagePath = typeof entry.processImagePath === 'string' ? entry.processImagePath : undefined;
  const name = imagePath ? basename(imagePath) : undefined;
  const fields: ParsedFields = { event: { dataset: 'macos.log' }, message };
  const time = typeof entry.timestamp === 'string' ? parseLogTimestamp(entry.timestamp) : undefined;
  if (time) fields['@timestamp'] = time;
  const pid = typeof entry.processID === 'number' ? entry.processID : undefined;
  fields.process = { ...(name ? { name } : {}), ...(pid !== undefined ? { pid } : {}), ...(imagePath ? { executable: imagePath } : {}) };
  if (typeof entry.messageType === 'string') fields.log = { level: entry.messageType.toLowerCase() };
  const subsystem = typeof entry.subsystem === 'string' ? entry.subsystem : '';
  if (subsystem === 'com.apple.Authorization') parseAuthd(message, fields);
  else if (name === 'loginwindow') parseLoginwindow(message, fields);
  else if (name) programParser(name)?.(message, fields);
  const doc = fields as Record<string, unknown>;
  if (subsystem) doc.macos = { ...(doc.macos as Record<string, unknown> | undefined), subsystem, ...(typeof entry.category === 'string' && entry.category ? { category: entry.category } : {}) };
  doc.input = { type: 'log_stream' };
  (doc.event as Record<string, unknown>).original = line;
  return doc;
}
