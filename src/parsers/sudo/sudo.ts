// sudo's syslog records: `alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id`, the same with
// an error first (`3 incorrect password attempts ; TTY=…`, `user NOT in sudoers ; …`), and its PAM lines.
// Fields as Filebeat's system.auth: user.name (who ran sudo), user.effective.name (USER=), plus
// process.command_line (COMMAND=), process.working_directory (PWD=) and system.auth.sudo.{tty,error}.
import type { MessageParser } from '../common/message.js';
import { setEffectiveUser, setUserName, systemAuth } from '../common/message.js';
import { parsePamMessage } from '../pam/pam.js';
import type { ParsedFields } from '../types.js';

/** Segments are `KEY=value` with an upper-case key; anything else is sudo's error text. */
function keyLength(segment: string): number {
  const eq = segment.indexOf('=');
  if (eq <= 0 || eq > 16) return -1;
  for (let i = 0; i < eq; i++) {
    const c = segment.charCodeAt(i);
    if (c < 65 || c > 90) return -1;
  }
  return eq;
}

function parseCommandRecord(message: string, fields: ParsedFields): void {
  let start = 0;
  while (message.charCodeAt(start) === 32) start++;
  const sep = message.indexOf(' : ', start);
  if (sep <= start || message.lastIndexOf(' ', sep - 1) >= start) return;
  const user = message.slice(start, sep);
  let rest = sep + 3;
  let error: string | undefined;
  let command: string | undefined;
  const sudo: Record<string, string> = {};
  let pairs = 0;
  // `KEY=value ; KEY=value ; … ; COMMAND=rest`: COMMAND comes last and may itself contain ` ; `.
  while (rest < message.length) {
    if (message.startsWith('COMMAND=', rest)) {
      command = message.slice(rest + 8);
      break;
    }
    const next = message.indexOf(' ; ', rest);
    const segment = next < 0 ? message.slice(rest) : message.slice(rest, next);
    const eq = keyLength(segment);
    if (eq > 0) {
      pairs++;
      const key = segment.slice(0, eq);
      const value = segment.slice(eq + 1);
      if (key === 'TTY') sudo['tty'] = value;
      else if (key === 'PWD') sudo['pwd'] = value;
      else if (key === 'USER') sudo['user'] = value;
      else if (key === 'GROUP') sudo['group'] = value;
    } else if (error === undefined) {
      error = segment;
    }
    if (next < 0) break;
    rest = next + 3;
  }
  if (pairs === 0 && command === undefined) return;
  setUserName(fields, user);
  setEffectiveUser(fields, sudo['user']);
  if (command !== undefined) {
    sudo['command'] = command;
    (fields.process ??= {}).command_line = command;
  }
  if (sudo['pwd'] !== undefined) (fields.process ??= {})['working_directory'] = sudo['pwd'];
  if (error !== undefined) sudo['error'] = error;
  systemAuth(fields)['sudo'] = sudo;
  const event = fields.event;
  event.action = 'sudo_command';
  if (error === undefined) {
    event.category = ['process'];
    event.type = ['start'];
    event.outcome = 'success';
  } else {
    event.category = ['authentication', 'process'];
    event.type = ['info'];
    event.outcome = 'failure';
  }
}

/** Reads one sudo message (dataset `sudo`). */
export const parseSudoMessage: MessageParser = (message, fields) => {
  fields.event.dataset = 'sudo';
  if (parsePamMessage(message, fields)) return;
  parseCommandRecord(message, fields);
};
