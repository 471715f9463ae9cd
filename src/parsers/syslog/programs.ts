// Which parser reads the message of which program: one plain map, keyed by the syslog program name (TAG or
// APP-NAME). Programs without an entry still get their PAM lines read (dataset `pam`).
import type { MessageParser } from '../common/message.js';
import { parsePamProgram } from '../pam/pam.js';
import { parseSshdMessage } from '../sshd/messages.js';
import { parseSudoMessage } from '../sudo/sudo.js';
import { parseSuMessage } from '../su/su.js';
import { parseAccountMessage } from '../accounts/accounts.js';
import type { ParsedFields } from '../types.js';

const PROGRAMS: ReadonlyMap<string, MessageParser> = new Map<string, MessageParser>([
  ['sshd', parseSshdMessage],
  // OpenSSH 9.8 moved per-connection logging into sshd-session (and sshd-auth in 10.0).
  ['sshd-session', parseSshdMessage],
  ['sshd-auth', parseSshdMessage],
  ['sudo', parseSudoMessage],
  ['su', parseSuMessage],
  ['useradd', parseAccountMessage],
  ['usermod', parseAccountMessage],
  ['userdel', parseAccountMessage],
  ['groupadd', parseAccountMessage],
  ['groupmod', parseAccountMessage],
  ['groupdel', parseAccountMessage],
  ['gpasswd', parseAccountMessage],
  ['passwd', parseAccountMessage],
  ['chpasswd', parseAccountMessage],
  ['chage', parseAccountMessage],
  ['chsh', parseAccountMessage],
  ['chfn', parseAccountMessage],
  ['newusers', parseAccountMessage],
]);

/** The program names that have a parser of their own. */
export const PROGRAM_NAMES: readonly string[] = [...PROGRAMS.keys()];

/** Hands `fields.message` to the parser of `fields.process.name`, if any. */
export function parseProgramMessage(fields: ParsedFields): void {
  const message = fields.message;
  if (message === undefined) return;
  const name = fields.process?.name;
  const parser = name === undefined ? undefined : PROGRAMS.get(name);
  if (parser !== undefined) parser(message, fields);
  else parsePamProgram(message, fields);
}

/** The parser of one program's messages, for callers that have a bare message (journald, `sshd` format). */
export function programParser(name: string): MessageParser | undefined {
  return PROGRAMS.get(name);
}
