// Account management records of shadow-utils (useradd, usermod, userdel, groupadd, groupmod, groupdel, gpasswd,
// passwd, chpasswd, chage, chsh, chfn) and their PAM password-change lines, as ECS IAM events:
// event.category iam, event.type user|group + creation|deletion|change, user.target.* and group.*.
import type { MessageParser } from '../common/message.js';
import { setTargetUser, setUserName, systemAuth } from '../common/message.js';
import { parsePamMessage } from '../pam/pam.js';
import type { EventOutcome } from '../../core/event.js';
import type { ParsedFields } from '../types.js';

type Action =
  | 'user_created' | 'user_deleted' | 'user_changed' | 'password_changed'
  | 'group_created' | 'group_deleted' | 'group_changed' | 'group_member_added' | 'group_member_removed';

const TYPES: Record<Action, string[]> = {
  user_created: ['user', 'creation'],
  user_deleted: ['user', 'deletion'],
  user_changed: ['user', 'change'],
  password_changed: ['user', 'change'],
  group_created: ['group', 'creation'],
  group_deleted: ['group', 'deletion'],
  group_changed: ['group', 'change'],
  group_member_added: ['group', 'change'],
  group_member_removed: ['group', 'change'],
};

interface Found {
  action: Action;
  outcome?: EventOutcome;
  target?: string | undefined;
  targetId?: string | undefined;
  group?: string | undefined;
  groupId?: string | undefined;
  /** Who made the change, when the line says (`by root`). */
  actor?: string | undefined;
  extra?: Record<string, string>;
}

interface Rule {
  re: RegExp;
  read: (m: RegExpExecArray) => Found;
}

// Patterns: `[^']*` inside quotes, `[^,\s]*` inside `key=value,` lists — no two quantifiers can trade characters.
const RULES: readonly Rule[] = [
  {
    re: /^new user: name=([^,\s]*), UID=(\d+), GID=(\d+), home=([^,]*), shell=([^,]*?)(?:, from=(.*))?$/s,
    read: (m) => ({
      action: 'user_created', target: m[1], targetId: m[2], groupId: m[3],
      extra: { home: m[4]!, shell: m[5]!, ...(m[6] !== undefined ? { from: m[6] } : {}) },
    }),
  },
  { re: /^new group: name=([^,\s]*), GID=(\d+)/, read: (m) => ({ action: 'group_created', group: m[1], groupId: m[2] }) },
  {
    re: /^group added to \S+: name=([^,\s]*)(?:, GID=(\d+))?/,
    read: (m) => ({ action: 'group_created', group: m[1], groupId: m[2] }),
  },
  {
    re: /^failed adding user '([^']*)'/,
    read: (m) => ({ action: 'user_created', outcome: 'failure', target: m[1] }),
  },
  {
    re: /^add '([^']*)' to (?:shadow )?group '([^']*)'/,
    read: (m) => ({ action: 'group_member_added', target: m[1], group: m[2] }),
  },
  {
    re: /^delete '([^']*)' from (?:shadow )?group '([^']*)'/,
    read: (m) => ({ action: 'group_member_removed', target: m[1], group: m[2] }),
  },
  { re: /^delete user '([^']*)'/, read: (m) => ({ action: 'user_deleted', target: m[1] }) },
  {
    re: /^removed (?:shadow )?group '([^']*)'/,
    read: (m) => ({ action: 'group_deleted', group: m[1] }),
  },
  { re: /^group '([^']*)' removed/, read: (m) => ({ action: 'group_deleted', group: m[1] }) },
  {
    re: /^group changed in \S+ \(group ([^/\s]*)\/(\d+)/,
    read: (m) => ({ action: 'group_changed', group: m[1], groupId: m[2] }),
  },
  { re: /^change user '([^']*)' password/, read: (m) => ({ action: 'password_changed', target: m[1] }) },
  { re: /^change user name '([^']*)' to '([^']*)'/, read: (m) => ({ action: 'user_changed', target: m[2], extra: { old_name: m[1]! } }) },
  { re: /^(?:change|lock|unlock) user '([^']*)'/, read: (m) => ({ action: 'user_changed', target: m[1] }) },
  { re: /^changed user '([^']*)'/, read: (m) => ({ action: 'user_changed', target: m[1] }) },
  { re: /^changed password expiry for (\S+)/, read: (m) => ({ action: 'user_changed', target: m[1] }) },
  {
    re: /^password for '([^']*)' changed by '([^']*)'/,
    read: (m) => ({ action: 'password_changed', target: m[1], actor: m[2] }),
  },
  {
    re: /^user (\S+) added by (\S+) to group (\S+)/,
    read: (m) => ({ action: 'group_member_added', target: m[1], actor: m[2], group: m[3] }),
  },
  {
    re: /^user (\S+) removed by (\S+) from group (\S+)/,
    read: (m) => ({ action: 'group_member_removed', target: m[1], actor: m[2], group: m[3] }),
  },
  { re: /^members of group (\S+) set by (\S+)/, read: (m) => ({ action: 'group_changed', group: m[1], actor: m[2] }) },
  { re: /^password of group (\S+) changed by (\S+)/, read: (m) => ({ action: 'group_changed', group: m[1], actor: m[2] }) },
];

function apply(found: Found, process: string, fields: ParsedFields): void {
  setTargetUser(fields, found.target);
  if (found.targetId !== undefined && fields.user?.target !== undefined) {
    (fields.user.target as Record<string, unknown>)['id'] = found.targetId;
  }
  setUserName(fields, found.actor);
  if (found.group !== undefined || found.groupId !== undefined) {
    const group: Record<string, string> = {};
    if (found.group !== undefined && found.group.length > 0) group['name'] = found.group;
    if (found.groupId !== undefined) group['id'] = found.groupId;
    fields['group'] = group;
  }
  if (found.extra !== undefined) systemAuth(fields)[process] = found.extra;
  const event = fields.event;
  event.category = ['iam'];
  event.type = TYPES[found.action];
  event.action = found.action;
  event.outcome = found.outcome ?? 'success';
}

/** Reads one message of an account-management tool (dataset `accounts`). */
export const parseAccountMessage: MessageParser = (message, fields) => {
  fields.event.dataset = 'accounts';
  if (parsePamMessage(message, fields)) return;
  for (const rule of RULES) {
    const m = rule.re.exec(message);
    if (m !== null) {
      apply(rule.read(m), fields.process?.name ?? 'accounts', fields);
      return;
    }
  }
};
