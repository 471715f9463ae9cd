// `vigil token …` and `vigil user …`: manage API tokens and dashboard users in the data directory's auth.json.
// A running server picks the changes up within a second, so these work whether or not Vigil is running.
import { Command, Option } from 'commander';
import { loadConfig } from '../config/config.js';
import { VigilError } from '../core/errors.js';
import { parseDuration } from '../core/time.js';
import { Credentials, ROLES, generatePassword, isRole, type Role } from '../api/auth/credentials.js';

function open(opts: { dataDir?: string; config?: string }): Credentials {
  const config = loadConfig(opts.config, opts.dataDir ? { dataDir: opts.dataDir } : {});
  return new Credentials(config.data_dir);
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
      const removed = open(opts).revokeToken(idOrName);
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
        console.error(`added user ${name} with role ${opts.role}`);
        if (given === undefined) console.log(password);
      },
    ),
  );
  user.addCommand(
    withDataDir(new Command('list').description('List users')).action((opts: { dataDir?: string; config?: string }) => {
      for (const u of open(opts).users) console.log(`${u.name.padEnd(20)}  ${u.role.padEnd(7)}  ${u.created}${u.disabled ? '  disabled' : ''}`);
    }),
  );
  user.addCommand(
    withDataDir(new Command('passwd').description('Set a new password (generated and printed unless $VIGIL_USER_PASSWORD is set)').argument('<name>')).action((name: string, opts: { dataDir?: string; config?: string }) => {
      const given = process.env.VIGIL_USER_PASSWORD;
      const password = given ?? generatePassword();
      open(opts).setPassword(name, password);
      console.error(`password of ${name} changed`);
      if (given === undefined) console.log(password);
    }),
  );
  user.addCommand(
    withDataDir(new Command('remove').description('Remove a user').argument('<name>')).action((name: string, opts: { dataDir?: string; config?: string }) => {
      open(opts).removeUser(name);
      console.log(`removed user ${name}`);
    }),
  );
  return user;
}
