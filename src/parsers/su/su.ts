// su's syslog records, from shadow-utils (`Successful su for root by alice`, `FAILED su for root by alice`,
// `+ pts/0 alice:root`) and util-linux (`(to root) alice on pts/0`, `FAILED SU (to root) alice on pts/0`),
// plus its PAM lines. user.name is who ran su, user.effective.name the account it switched to.
import type { MessageParser } from '../common/message.js';
import { setEffectiveUser, setUserName, systemAuth } from '../common/message.js';
import { parsePamMessage } from '../pam/pam.js';
import type { EventOutcome } from '../../core/event.js';
import type { ParsedFields } from '../types.js';

const SHADOW_RESULT = /^(Successful|FAILED) su for (\S+) by (\S+)$/;
const SHADOW_TTY = /^([+-]) (\S+) ([^\s:]+):(\S+)$/;
const UTIL_LINUX = /^(FAILED SU )?\(to (\S+)\) (\S+) on (\S+)$/;

function su(fields: ParsedFields, by: string, to: string, outcome: EventOutcome, tty?: string): void {
  setUserName(fields, by);
  setEffectiveUser(fields, to);
  if (tty !== undefined) systemAuth(fields)['su'] = { tty };
  const event = fields.event;
  event.category = ['authentication'];
  event.type = ['info'];
  event.action = 'su';
  event.outcome = outcome;
}

/** Reads one su message (dataset `su`). */
export const parseSuMessage: MessageParser = (message, fields) => {
  fields.event.dataset = 'su';
  if (parsePamMessage(message, fields)) return;
  const shadow = SHADOW_RESULT.exec(message);
  if (shadow !== null) {
    su(fields, shadow[3]!, shadow[2]!, shadow[1] === 'Successful' ? 'success' : 'failure');
    return;
  }
  const tty = SHADOW_TTY.exec(message);
  if (tty !== null) {
    su(fields, tty[3]!, tty[4]!, tty[1] === '+' ? 'success' : 'failure', tty[2]);
    return;
  }
  const util = UTIL_LINUX.exec(message);
  if (util !== null) su(fields, util[3]!, util[2]!, util[1] === undefined ? 'success' : 'failure', util[4]);
};
