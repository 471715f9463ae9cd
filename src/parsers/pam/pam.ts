// PAM module messages, which any program may log (sshd, sudo, su, cron, chpasswd …):
// `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=H  user=U`,
// `pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)`, `check pass; user unknown`,
// `pam_unix(passwd:chauthtok): password changed for X`. User fields follow Filebeat's system.auth pipeline.
import { endpoint } from '../common/address.js';
import { forEachPair, setEffectiveUser, setTargetUser, setUserName, systemAuth } from '../common/message.js';
import type { ParsedFields } from '../types.js';

// pam_unix(sshd:auth): … — module, then (service:type); service names never hold spaces or parentheses.
const PAM_PREFIX = /^(pam_[A-Za-z0-9_]{1,40})\(([^:()\s]{0,64}):([^()\s]{0,32})\): /;
// `session opened for user X[(uid=N)] [by Y[(uid=N)]]`; user names here never contain spaces.
const SESSION = /^session (opened|closed) for user (\S+?)(?:\(uid=\d+\))?(?: by (\S*?)(?:\(uid=\d+\))?)?$/;
const PASSWORD_CHANGED = /^password changed for (\S+)$/;
const NO_SUCH_USER = /^user "([^"]*)" does not exist in \S+$/;
const NO_PASSWORD = /^auth could not identify password for \[([^\]]*)\]$/;

/** Strips `(uid=N)`-free quoting: PAM sometimes quotes user names (`user 'x'`). */
function unquote(name: string): string {
  const n = name.length;
  if (n >= 2) {
    const first = name.charCodeAt(0);
    if ((first === 39 || first === 34) && name.charCodeAt(n - 1) === first) return name.slice(1, -1);
  }
  return name;
}

/**
 * Parses a PAM message into `fields` when `message` starts with `pam_…(service:type): `.
 * Sets the event category/type/action/outcome of what PAM reports; returns false when it is not a PAM line.
 */
export function parsePamMessage(message: string, fields: ParsedFields): boolean {
  if (!message.startsWith('pam_')) return false;
  const m = PAM_PREFIX.exec(message);
  if (m === null) return false;
  const text = message.slice(m[0].length);
  const pam = { module: m[1]!, service: m[2]!, type: m[3]! };
  systemAuth(fields)['pam'] = pam;
  const event = fields.event;

  if (text.startsWith('authentication failure;')) {
    let user = '';
    let ruser = '';
    let rhost = '';
    forEachPair(text, 23, (key, value) => {
      if (key === 'user') user = value;
      else if (key === 'ruser') ruser = value;
      else if (key === 'rhost') rhost = value;
    });
    // `user=` is the account being authenticated; without it, `ruser=` is the best the line offers.
    setUserName(fields, user.length > 0 ? user : ruser);
    const source = endpoint(rhost);
    if (source !== undefined) fields.source = source;
    event.category = ['authentication'];
    event.type = ['info'];
    event.action = 'authentication_failure';
    event.outcome = 'failure';
    return true;
  }
  if (text.startsWith('session ')) {
    const s = SESSION.exec(text);
    if (s !== null) {
      const forUser = unquote(s[2]!);
      const byUser = s[3] === undefined ? '' : unquote(s[3]);
      // As Filebeat does: the account that opened the session is user.name, the one it runs as user.effective.name.
      if (byUser.length > 0) {
        setUserName(fields, byUser);
        setEffectiveUser(fields, forUser);
      } else {
        setUserName(fields, forUser);
      }
      const opened = s[1] === 'opened';
      event.category = ['authentication', 'session'];
      event.type = [opened ? 'start' : 'end'];
      event.action = opened ? 'session_opened' : 'session_closed';
      if (opened) event.outcome = 'success';
      return true;
    }
  }
  if (text === 'check pass; user unknown') {
    event.category = ['authentication'];
    event.type = ['info'];
    event.action = 'user_unknown';
    event.outcome = 'failure';
    return true;
  }
  const changed = PASSWORD_CHANGED.exec(text);
  if (changed !== null) {
    setTargetUser(fields, changed[1]);
    event.category = ['iam'];
    event.type = ['user', 'change'];
    event.action = 'password_changed';
    event.outcome = 'success';
    return true;
  }
  const missing = NO_SUCH_USER.exec(text);
  if (missing !== null) {
    setTargetUser(fields, missing[1]);
    event.category = ['iam'];
    event.type = ['user', 'change'];
    event.action = 'password_changed';
    event.outcome = 'failure';
    return true;
  }
  const noPassword = NO_PASSWORD.exec(text);
  if (noPassword !== null) {
    setUserName(fields, noPassword[1]);
    event.category = ['authentication'];
    event.type = ['info'];
    event.action = 'authentication_failure';
    event.outcome = 'failure';
    return true;
  }
  return true;
}

/** The message parser for PAM lines of programs that have no parser of their own (dataset `pam`). */
export function parsePamProgram(message: string, fields: ParsedFields): void {
  if (parsePamMessage(message, fields)) fields.event.dataset = 'pam';
}
