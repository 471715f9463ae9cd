// OpenSSH sshd messages (the text after `sshd[pid]: `) to ECS: logins, invalid users, disconnects, PAM lines
// and pre-authentication noise. Field choices follow Filebeat's system.auth module (source.*, user.name,
// system.auth.ssh.{event,method,signature}); the event.action vocabulary is documented in ./README.md.
//
// Every pattern is anchored and built from `\S` runs and literal separators; a free-text group is either
// followed by a literal and an `\S` run, or runs to the end of the line (which always matches). So a match
// costs linear time even on attacker-chosen user names, which sshd logs as the client sent them, spaces and
// all: `Failed password for invalid user root from 10.0.0.1 port 22 ssh2 from 192.0.2.7 port 4242 ssh2`.
// contract.test.ts feeds long adversarial lines to every pattern.
import { endpoint } from '../common/address.js';
import { forEachPair, setUserName, systemAuth } from '../common/message.js';
import type { MessageParser } from '../common/message.js';
import type { EventOutcome } from '../../core/event.js';
import { parsePamMessage } from '../pam/pam.js';
import type { ParsedFields } from '../types.js';

// `Accepted|Failed|Postponed <method> for [invalid user ]<user> from <addr> [port <n>] [ssh2][: <signature>]`.
// The user is lazy so that the first ` from <addr> port <n> sshN` followed by the end or `: ` wins: that
// resists both a forged user name (`… ssh2 from X`) and forged auth info after `ssh2: ` (fail2ban's cases).
const LOGIN =
  /^(Accepted|Failed|Postponed) (\S+) for (invalid user |illegal user )?(.*?) from (\S+)(?: port (\d{1,5}))?(?: (ssh\d?))?(?:: (.*?))?(?: \[preauth\])?$/s;
const INVALID_USER = /^(?:Invalid|Illegal) user (.*?) from (\S+?)(?: port (\d{1,5}))?(?: \[preauth\])?$/s;
const INPUT_USERAUTH = /^input_userauth_request: (?:invalid|illegal) user (.*?)(?: \[preauth\])?$/s;
const CONNECTION_CLOSED =
  /^Connection (closed|reset) by (?:(authenticating|invalid) user (.*?) )?(\S+)(?: port (\d{1,5}))?(?: \[preauth\])?$/s;
const CONNECTION_FROM = /^Connection from (\S+)(?: port (\d{1,5}))?(?: on (\S+) port (\d{1,5}))?(?: rdomain .*)?$/s;
const DISCONNECTED =
  /^Disconnected from (?:(?:authenticating |invalid )?user (.*?) )?(\S+) port (\d{1,5})(?: \[preauth\])?$/s;
const DISCONNECTING_USER =
  /^Disconnecting (?:authenticating |invalid )?user (.*?) (\S+) port (\d{1,5}): (.*?)(?: \[preauth\])?$/s;
const DISCONNECTING = /^Disconnecting: (.*?)(?: \[preauth\])?$/s;
const TOO_MANY_FOR = /^Too many authentication failures(?: for (?:invalid user )?(.*))?$/s;
// Greedy address: an IPv6 address holds colons, so the `: <code>:` after it is found by backtracking.
const RECEIVED_DISCONNECT = /^Received disconnect from (\S+)(?: port (\d{1,5}))?: ?(\d+): ?(.*?)(?: \[preauth\])?$/s;
const MAX_ATTEMPTS =
  /^maximum authentication attempts exceeded for (invalid user )?(.*?) from (\S+)(?: port (\d{1,5}))?(?: ssh\d?)?(?: \[preauth\])?$/s;
const NO_IDENTIFICATION = /^Did not receive identification string from (\S+?)(?: port (\d{1,5}))?$/;
const REVERSE_MAPPING = /^reverse mapping checking getaddrinfo for (\S+) \[([^\]\s]+)\] failed/;
const ADDRESS_MAPS = /^Address (\S+) maps to ([^\s,]+), but this does not map back to the address/;
const PAM_MORE = /^PAM (\d+) more authentication failures?;/;
const REPEATED = /^message repeated (\d+) times: \[ ?(.*?) ?\]$/s;
const NOT_ALLOWED_FROM = /^User (.*?) from (\S+) not allowed because (.*)$/s;
const NOT_ALLOWED = /^User (\S+) not allowed because (.*)$/s;
const ROOT_REFUSED = /^ROOT LOGIN REFUSED FROM (\S+?)(?: port (\d{1,5}))?(?: \[preauth\])?$/;
const BAD_PROTOCOL = /^Bad protocol version identification '(.*)' from (\S+?)(?: port (\d{1,5}))?$/s;
const UNABLE_TO_NEGOTIATE = /^Unable to negotiate with (\S+) port (\d{1,5}): (.*?)(?: \[preauth\])?$/s;
const TIMEOUT = /^Timeout before authentication for (?:connection from )?(\S+?)(?: port (\d{1,5}))?(?:[ ,].*)?$/s;
const PROTOCOL_ERROR = /^(?:banner exchange|ssh_dispatch_run_fatal): Connection from (\S+) port (\d{1,5}): (.*?)(?: \[preauth\])?$/s;
const STARTING_SESSION = /^Starting session: (\S+)(?: on (\S+))? for (.*?) from (\S+) port (\d{1,5})(?: id \d+)?$/s;
const CLOSE_SESSION = /^Close session: user (.*?) from (\S+) port (\d{1,5})(?: id \d+)?$/s;
const PAM_AUTH_ERROR =
  /^PAM: (?:Authentication failure|authentication failure|Authentication error|authentication error|User not known to the underlying authentication module) for (?:illegal user |invalid user )?(.*?) from (\S+?)(?: via \S+)?\s*$/s;
const REFUSED_CONNECT = /^refused connect from (\S+?) \(([^()\s]+)\)$/;
// Solaris/SunSSH audit lines: `SSH: Server;Ltype: Authname;Remote: 192.0.2.1-1780;Name: root [preauth]`.
const SSH_AUDIT = /^SSH: Server;Ltype: (\w+);Remote: ([^;\s]+)-(\d{1,5});(.*)$/s;
const SSH_AUDIT_NAME = /(?:^|;)Name: ([^;\s]+)/;

function setEvent(
  fields: ParsedFields, action: string, outcome: EventOutcome | undefined, type: string, session = false,
): void {
  const event = fields.event;
  event.category = session ? ['authentication', 'session'] : ['authentication'];
  event.type = [type];
  event.action = action;
  if (outcome !== undefined) event.outcome = outcome;
}

function setSource(fields: ParsedFields, address: string | undefined, port?: string): void {
  if (address === undefined) return;
  const source = endpoint(address, port);
  if (source !== undefined) fields.source = source;
}

function login(m: RegExpExecArray, fields: ParsedFields): void {
  const kind = m[1]!;
  const ssh: Record<string, unknown> = { event: kind, method: m[2]! };
  if (m[3] !== undefined) ssh['invalid_user'] = true;
  if (m[8] !== undefined && m[8].length > 0) ssh['signature'] = m[8];
  systemAuth(fields)['ssh'] = ssh;
  // Solaris and macOS hide the name a client tried when the account does not exist.
  const user = m[4]!;
  if (user === '<invalid username>') ssh['invalid_user'] = true;
  else setUserName(fields, user);
  setSource(fields, m[5], m[6]);
  // Filebeat: Accepted is a successful ssh_login (which also starts a session), Failed a failed one.
  if (kind === 'Accepted') setEvent(fields, 'ssh_login', 'success', 'start', true);
  else if (kind === 'Failed') setEvent(fields, 'ssh_login', 'failure', 'info');
  else setEvent(fields, 'ssh_login', 'unknown', 'info');
}

function invalidUser(user: string | undefined, fields: ParsedFields): void {
  systemAuth(fields)['ssh'] = { event: 'Invalid', invalid_user: true };
  setUserName(fields, user);
  setEvent(fields, 'invalid_user', 'failure', 'info');
}

/** Reasons a client closed a connection before authenticating that mean "it tried and failed". */
function tooManyFailures(reason: string, fields: ParsedFields): boolean {
  const m = TOO_MANY_FOR.exec(reason);
  if (m === null) return false;
  if (m[1] !== undefined) setUserName(fields, m[1]);
  setEvent(fields, 'too_many_auth_failures', 'failure', 'info');
  return true;
}

// Handlers keyed by the message's first word: one map lookup picks the few patterns worth trying.
type Handler = (message: string, fields: ParsedFields, depth: number) => void;

const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['Accepted', loginHandler],
  ['Failed', loginHandler],
  ['Postponed', loginHandler],
  ['Invalid', (msg, fields) => {
    const m = INVALID_USER.exec(msg);
    if (m === null) return;
    invalidUser(m[1], fields);
    setSource(fields, m[2], m[3]);
  }],
  ['Illegal', (msg, fields) => HANDLERS.get('Invalid')!(msg, fields, 0)],
  ['input_userauth_request:', (msg, fields) => {
    const m = INPUT_USERAUTH.exec(msg);
    if (m !== null) invalidUser(m[1], fields);
  }],
  ['Connection', (msg, fields) => {
    const closed = CONNECTION_CLOSED.exec(msg);
    if (closed !== null) {
      setSource(fields, closed[4], closed[5]);
      setUserName(fields, closed[3]);
      setEvent(fields, closed[1] === 'reset' ? 'connection_reset' : 'connection_closed', undefined, 'end');
      if (closed[2] === 'invalid') systemAuth(fields)['ssh'] = { invalid_user: true };
      return;
    }
    const from = CONNECTION_FROM.exec(msg);
    if (from !== null) {
      setSource(fields, from[1], from[2]);
      if (from[3] !== undefined) {
        const destination = endpoint(from[3], from[4]);
        if (destination !== undefined) fields.destination = destination;
      }
      setEvent(fields, 'connection', undefined, 'start');
    }
  }],
  ['Disconnected', (msg, fields) => {
    const m = DISCONNECTED.exec(msg);
    if (m === null) return;
    setUserName(fields, m[1]);
    setSource(fields, m[2], m[3]);
    setEvent(fields, 'disconnect', undefined, 'end');
  }],
  ['Disconnecting', (msg, fields) => {
    const m = DISCONNECTING_USER.exec(msg);
    if (m === null) return;
    setSource(fields, m[2], m[3]);
    if (!tooManyFailures(m[4]!, fields)) setEvent(fields, 'disconnect', undefined, 'end');
    setUserName(fields, m[1]);
  }],
  ['Disconnecting:', (msg, fields) => {
    const m = DISCONNECTING.exec(msg);
    if (m !== null && !tooManyFailures(m[1]!, fields)) setEvent(fields, 'disconnect', undefined, 'end');
  }],
  ['Received', (msg, fields) => {
    const m = RECEIVED_DISCONNECT.exec(msg);
    if (m === null) return;
    setSource(fields, m[1], m[2]);
    const reason = m[4]!;
    systemAuth(fields)['ssh'] = { disconnect_code: Number(m[3]), ...(reason.length > 0 ? { disconnect_reason: reason } : {}) };
    if (reason.startsWith('disconnected by user ')) setUserName(fields, reason.slice(21));
    setEvent(fields, 'disconnect', undefined, 'end');
  }],
  ['maximum', (msg, fields) => {
    const m = MAX_ATTEMPTS.exec(msg);
    if (m === null) return;
    setUserName(fields, m[2]);
    setSource(fields, m[3], m[4]);
    if (m[1] !== undefined) systemAuth(fields)['ssh'] = { invalid_user: true };
    setEvent(fields, 'max_auth_attempts', 'failure', 'info');
  }],
  ['Did', (msg, fields) => {
    const m = NO_IDENTIFICATION.exec(msg);
    if (m === null) return;
    setSource(fields, m[1], m[2]);
    setEvent(fields, 'no_identification', 'failure', 'info');
  }],
  ['Bad', (msg, fields) => {
    const m = BAD_PROTOCOL.exec(msg);
    if (m === null) return;
    setSource(fields, m[2], m[3]);
    setEvent(fields, 'bad_protocol', 'failure', 'info');
  }],
  ['reverse', (msg, fields) => {
    const m = REVERSE_MAPPING.exec(msg);
    if (m === null) return;
    setSource(fields, m[2]);
    if (fields.source !== undefined) fields.source.domain = m[1]!;
    setEvent(fields, 'reverse_mapping_failed', undefined, 'info');
  }],
  ['Address', (msg, fields) => {
    const m = ADDRESS_MAPS.exec(msg);
    if (m === null) return;
    setSource(fields, m[1]);
    if (fields.source !== undefined) fields.source.domain = m[2]!;
    setEvent(fields, 'reverse_mapping_failed', undefined, 'info');
  }],
  ['PAM', (msg, fields) => {
    const more = PAM_MORE.exec(msg);
    if (more !== null) {
      pamPairs(msg, more[0].length, fields);
      systemAuth(fields)['pam'] = { more_failures: Number(more[1]) };
      setEvent(fields, 'authentication_failure', 'failure', 'info');
      return;
    }
    const error = PAM_AUTH_ERROR.exec(msg);
    if (error !== null) {
      setUserName(fields, error[1]);
      setSource(fields, error[2]);
      setEvent(fields, 'authentication_failure', 'failure', 'info');
    }
  }],
  ['PAM:', (msg, fields) => HANDLERS.get('PAM')!(msg, fields, 0)],
  ['message', (msg, fields, depth) => {
    const m = REPEATED.exec(msg);
    if (m === null || depth > 0) return;
    // rsyslog's repeated-message reduction: the inner message is what happened, N times.
    systemAuth(fields)['repeated'] = Number(m[1]);
    parseSshd(m[2]!, fields, depth + 1);
  }],
  ['User', (msg, fields) => {
    const from = NOT_ALLOWED_FROM.exec(msg);
    const m = from ?? NOT_ALLOWED.exec(msg);
    if (m === null) return;
    setUserName(fields, m[1]);
    if (from !== null) setSource(fields, from[2]);
    systemAuth(fields)['ssh'] = { reason: from !== null ? from[3]! : m[2]! };
    setEvent(fields, 'user_not_allowed', 'failure', 'info');
  }],
  ['ROOT', (msg, fields) => {
    const m = ROOT_REFUSED.exec(msg);
    if (m === null) return;
    setUserName(fields, 'root');
    setSource(fields, m[1], m[2]);
    setEvent(fields, 'root_login_refused', 'failure', 'info');
  }],
  ['Unable', (msg, fields) => {
    const m = UNABLE_TO_NEGOTIATE.exec(msg);
    if (m === null) return;
    setSource(fields, m[1], m[2]);
    setEvent(fields, 'negotiation_failed', 'failure', 'info');
  }],
  ['Timeout', (msg, fields) => {
    const m = TIMEOUT.exec(msg);
    if (m === null) return;
    setSource(fields, m[1], m[2]);
    setEvent(fields, 'timeout', 'failure', 'info');
  }],
  ['banner', protocolError],
  ['ssh_dispatch_run_fatal:', protocolError],
  ['Starting', (msg, fields) => {
    const m = STARTING_SESSION.exec(msg);
    if (m === null) return;
    setUserName(fields, m[3]);
    setSource(fields, m[4], m[5]);
    setEvent(fields, 'session_started', undefined, 'start', true);
  }],
  ['Close', (msg, fields) => {
    const m = CLOSE_SESSION.exec(msg);
    if (m === null) return;
    setUserName(fields, m[1]);
    setSource(fields, m[2], m[3]);
    setEvent(fields, 'session_closed', undefined, 'end', true);
  }],
  ['refused', (msg, fields) => {
    const m = REFUSED_CONNECT.exec(msg);
    if (m === null) return;
    setSource(fields, m[2]);
    setEvent(fields, 'connection_refused', 'failure', 'info');
  }],
  ['SSH:', (msg, fields) => {
    const m = SSH_AUDIT.exec(msg);
    if (m === null) return;
    setSource(fields, m[2], m[3]);
    const name = SSH_AUDIT_NAME.exec(m[4]!);
    if (name !== null) setUserName(fields, name[1]);
  }],
]);

function loginHandler(msg: string, fields: ParsedFields): void {
  const m = LOGIN.exec(msg);
  if (m !== null) login(m, fields);
}

function protocolError(msg: string, fields: ParsedFields): void {
  const m = PROTOCOL_ERROR.exec(msg);
  if (m === null) return;
  setSource(fields, m[1], m[2]);
  setEvent(fields, 'protocol_error', 'failure', 'info');
}

/** `logname= uid=0 euid=0 tty=ssh ruser= rhost=H  user=U` after sshd's own `PAM N more authentication failures;`. */
function pamPairs(msg: string, start: number, fields: ParsedFields): void {
  let user = '';
  let rhost = '';
  forEachPair(msg, start, (key, value) => {
    if (key === 'user') user = value;
    else if (key === 'rhost') rhost = value;
  });
  setUserName(fields, user);
  setSource(fields, rhost);
}

// Prefixes sshd (and Solaris' syslog) put before the message proper.
const LEVEL_PREFIXES = ['error: ', 'fatal: ', 'debug1: '];

function parseSshd(message: string, fields: ParsedFields, depth: number): void {
  let msg = message;
  for (const prefix of LEVEL_PREFIXES) {
    if (msg.startsWith(prefix)) {
      msg = msg.slice(prefix.length);
      break;
    }
  }
  if (msg.startsWith('pam_')) {
    parsePamMessage(msg, fields);
    return;
  }
  let space = msg.indexOf(' ');
  if (space < 0) space = msg.length;
  const handler = HANDLERS.get(msg.slice(0, space));
  if (handler !== undefined) handler(msg, fields, depth);
}

/** Reads one sshd message into `fields` and sets `event.dataset` to `sshd`. */
export const parseSshdMessage: MessageParser = (message, fields) => {
  fields.event.dataset = 'sshd';
  parseSshd(message, fields, 0);
};

/** Exported for the contract tests: every action this module can set. */
export const SSHD_ACTIONS: readonly string[] = [
  'ssh_login', 'invalid_user', 'connection', 'connection_closed', 'connection_reset', 'disconnect',
  'too_many_auth_failures', 'max_auth_attempts', 'no_identification', 'bad_protocol', 'reverse_mapping_failed',
  'authentication_failure', 'user_unknown', 'session_opened', 'session_closed', 'session_started',
  'user_not_allowed', 'root_login_refused', 'negotiation_failed', 'timeout', 'protocol_error', 'connection_refused',
];
