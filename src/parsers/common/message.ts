// What a program-specific parser (sshd, sudo, su, PAM, account tools) is: it reads the syslog message of one
// program and adds ECS fields to the event the syslog parser has already framed.
import type { ParsedFields } from '../types.js';

/** Adds what `message` says to `fields` (which already hold the syslog header); never throws. */
export type MessageParser = (message: string, fields: ParsedFields) => void;

/** Custom fields under `system.auth` (the namespace of Filebeat's `system.auth` module), created on demand. */
export function systemAuth(fields: ParsedFields): Record<string, unknown> {
  let system = fields['system'] as Record<string, unknown> | undefined;
  if (system === undefined) {
    system = {};
    fields['system'] = system;
  }
  let auth = system['auth'] as Record<string, unknown> | undefined;
  if (auth === undefined) {
    auth = {};
    system['auth'] = auth;
  }
  return auth;
}

/** Sets `user.name` unless the name is empty (sshd logs `Invalid user  from …` for an empty login name). */
export function setUserName(fields: ParsedFields, name: string | undefined): void {
  if (name === undefined || name.length === 0) return;
  if (fields.user === undefined) fields.user = { name };
  else fields.user.name = name;
}

/** Sets `user.effective.name` (the identity a command or session runs as: sudo's USER=, su's target). */
export function setEffectiveUser(fields: ParsedFields, name: string | undefined): void {
  if (name === undefined || name.length === 0) return;
  if (fields.user === undefined) fields.user = { effective: { name } };
  else fields.user.effective = { name };
}

/** Sets `user.target.name` (the account an IAM change acts on). */
export function setTargetUser(fields: ParsedFields, name: string | undefined): void {
  if (name === undefined || name.length === 0) return;
  if (fields.user === undefined) fields.user = { target: { name } };
  else fields.user.target = { name };
}

/**
 * Reads `key=value` pairs separated by spaces (PAM's `logname= uid=0 euid=0 tty=ssh ruser= rhost=H  user=U`)
 * and calls `visit` for each; linear, no regex.
 */
export function forEachPair(text: string, start: number, visit: (key: string, value: string) => void): void {
  const n = text.length;
  let i = start;
  while (i < n) {
    while (i < n && text.charCodeAt(i) === 32) i++;
    if (i >= n) return;
    let end = text.indexOf(' ', i);
    if (end < 0) end = n;
    const eq = text.indexOf('=', i);
    if (eq > i && eq < end) visit(text.slice(i, eq), text.slice(eq + 1, end));
    i = end + 1;
  }
}
