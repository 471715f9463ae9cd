// `vigil token …` and `vigil user …`: manage API tokens and dashboard users in the data directory's auth.json.
// A running server picks the changes up within a second, so these work whether or not Vigil is running. Every
// change is appended to the audit trail (audit.jsonl), which the server stores as `vigil.audit` events.
import { userInfo } from 'node:os';
import { Command, Option } from 'commander';
import { loadConfig } from '../config/config.js';
import { VigilError } from '../core/errors.js';
import { parseDuration } from '../core/time.js';
import { Credentials, ROLES, generatePassword, isRole, type Role } from '../api/auth/credentials.js';
import { activeLocks, unlockAccount } from '../api/auth/lockout.js';
import { appendAuditRecords } from '../audit/trail.js';
import type { AuditRecord } from '../audit/event.js';

function dataDirOf(opts: { dataDir?: string; config?: string }): string {
  return loadConfig(opts.config, opts.dataDir ? { dataDir: opts.dataDir } : {}).data_dir;
}

function open(opts: { dataDir?: string; config?: string }): Credentials {
  return new Credentials(dataDirOf(opts));
}

/** The account running the command: all the trail can say about who used the data directory directly. */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

function audit(opts: { dataDir?: string; config?: string }, record: Omit<AuditRecord, 'actor' | 'via' | 'outcome'>): void {
  appendAuditRecords(dataDirOf(opts), [{ outcome: 'success', actor: { name: osUser(), kind: 'cli' }, via: 'cli', ...record }]);
}

function roleOption(defaultRole: Role): Option {
  return new Option('--role <role>', 'ingest (send only), viewer, analyst or admin').choices([...ROLES]).default(defaultRole);
}

function withDataDir(command: Command): Command {
  return command.option('--data-dir <dir>', 'data directory (default ./data or $VIGIL_DATA_DIR)').option('--config <file>', 'configuration file (YAML)');
}

export function tokenCommand(): Command {
  const token = new Command('token').description('Create, list and revoke API tokens (stored hashed)');
  token.addCommand(
    withDataDir(
      new Command('create')
        .description('Create a token and print it once')
        .option('--name <name>', 'what the token is for', 'api')
        .addOption(roleOption('ingest'))
        .option('--expires <duration>', 'lifetime such as 30d or 12h (default: no expiry)'),
    ).action((opts: { name: string; role: string; expires?: string; dataDir?: string; config?: string }) => {
      if (!isRole(opts.role)) throw new VigilError('bad_request', `unknown role ${opts.role}`);
      const expires = opts.expires ? new Date(Date.now() + parseDuration(opts.expires, '--expires')) : undefined;
      const { token: secret, record } = open(opts).createToken(opts.name, opts.role, expires);
      audit(opts, {
        action: 'token-created',
        category: 'iam',
        type: ['creation'],
        target: { kind: 'token', id: record.id, name: record.name },
        message: `token ${record.id} "${record.name}" created with role ${record.role}${record.expires ? `, expiring ${record.expires}` : ''}`,
        details: { role: record.role, expires: record.expires ?? null },
      });
      console.error(`created token ${record.id} "${record.name}" with role ${record.role}${record.expires ? `, expires ${record.expires}` : ''}; it is shown only now:`);
      console.log(secret);
    }),
  );
  token.addCommand(
    withDataDir(new Command('list').description('List tokens (never their secrets)')).action((opts: { dataDir?: string; config?: string }) => {
      const tokens = open(opts).tokens;
      if (tokens.length === 0) console.log('no tokens');
      for (const t of tokens) console.log(`${t.id}  ${t.role.padEnd(7)}  ${t.created}  ${t.expires ? `expires ${t.expires}` : 'no expiry'}  ${t.name}`);
    }),
  );
  token.addCommand(
    withDataDir(new Command('revoke').description('Revoke tokens by id or name').argument('<id-or-name>')).action((idOrName: string, opts: { dataDir?: string; config?: string }) => {
      const credentials = open(opts);
      const matching = credentials.tokens.filter((t) => t.id === idOrName || t.name === idOrName).map((t) => ({ id: t.id, name: t.name, role: t.role }));
      const removed = credentials.revokeToken(idOrName);
      audit(opts, {
        action: 'token-revoked',
        category: 'iam',
        type: ['deletion'],
        target: { kind: 'token', id: idOrName },
        message: `${removed} token${removed === 1 ? '' : 's'} revoked (${matching.map((t) => `${t.id} "${t.name}"`).join(', ')})`,
        details: { tokens: matching },
      });
      console.log(`revoked ${removed} token${removed === 1 ? '' : 's'}`);
    }),
  );
  return token;
}

export function userCommand(): Command {
  const user = new Command('user').description('Manage dashboard users (scrypt password hashes)');
  user.addCommand(
    withDataDir(new Command('add').description('Add a user; prints a generated password unless --password or $VIGIL_USER_PASSWORD is given').argument('<name>').addOption(roleOption('viewer')).option('--password <password>', 'the password (prefer $VIGIL_USER_PASSWORD: flags show up in the process list)')).action(
      (name: string, opts: { role: string; password?: string; dataDir?: string; config?: string }) => {
        if (!isRole(opts.role)) throw new VigilError('bad_request', `unknown role ${opts.role}`);
        const given = opts.password ?? process.env.VIGIL_USER_PASSWORD;
        const password = given ?? generatePassword();
        open(opts).addUser(name, opts.role, password);
        audit(opts, { action: 'user-created', category: 'iam', type: ['user', 'creation'], target: { kind: 'user', id: name }, message: `user ${name} added with role ${opts.role}`, details: { role: opts.role } });
        console.error(`added user ${name} with role ${opts.role}`);
        if (given === undefined) console.log(password);
      },
    ),
  );
  user.addCommand(
    withDataDir(new Command('list').description('List users')).action((opts: { dataDir?: string; config?: string }) => {
      const locks = activeLocks(dataDirOf(opts));
      for (const u of open(opts).users) {
        const lock = locks.get(u.name);
        console.log(`${u.name.padEnd(20)}  ${u.role.padEnd(7)}  ${u.created}${u.disabled ? '  disabled' : ''}${lock ? `  locked until ${new Date(lock.until).toISOString()}` : ''}`);
      }
    }),
  );
  user.addCommand(
    withDataDir(new Command('passwd').description('Set a new password (generated and printed unless $VIGIL_USER_PASSWORD is set)').argument('<name>')).action((name: string, opts: { dataDir?: string; config?: string }) => {
      const given = process.env.VIGIL_USER_PASSWORD;
      const password = given ?? generatePassword();
      open(opts).setPassword(name, password);
      audit(opts, { action: 'password-changed', category: 'iam', type: ['user', 'change'], target: { kind: 'user', id: name }, message: `password of ${name} changed` });
      console.error(`password of ${name} changed`);
      if (given === undefined) console.log(password);
    }),
  );
  user.addCommand(
    withDataDir(new Command('remove').description('Remove a user').argument('<name>')).action((name: string, opts: { dataDir?: string; config?: string }) => {
      open(opts).removeUser(name);
      audit(opts, { action: 'user-removed', category: 'iam', type: ['user', 'deletion'], target: { kind: 'user', id: name }, message: `user ${name} removed` });
      console.log(`removed user ${name}`);
    }),
  );
  user.addCommand(
    withDataDir(
      new Command('unlock')
        .description('Lift the lock that failed logins put on an account (a running server sees it within a second)')
        .argument('<name>')
        .addHelpText('after', '\nAn account is locked after `login.max_failures` failed logins within `login.window_minutes` (default 5 in 15 minutes),\nfor `login.lockout_minutes` (15), doubling at each repeat. `vigil user list` shows the locks in force.'),
    ).action((name: string, opts: { dataDir?: string; config?: string }) => {
      const dataDir = dataDirOf(opts);
      const wasLocked = activeLocks(dataDir).has(name);
      if (!unlockAccount(dataDir, name)) {
        console.log(`${name} is not locked`);
        return;
      }
      audit(opts, { action: 'account-unlocked', category: 'authentication', type: ['change'], target: { kind: 'user', id: name }, message: `lock on account ${name} lifted${wasLocked ? '' : ' (it had already run out; its repeat count is reset)'}` });
      console.log(wasLocked ? `unlocked ${name}` : `${name}'s lock had already run out; its repeat count is reset`);
    }),
  );
  return user;
}
