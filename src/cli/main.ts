// The `vigil` command: one subcommand per file in this folder, registered here.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../core/version.js';
import { isVigilError } from '../core/errors.js';
import { startCommand } from './start.js';
import { ingestCommand } from './ingest.js';
import { searchCommand } from './search.js';
import { tokenCommand, userCommand } from './credentials.js';
import { simulateCommand } from './simulate.js';
import { rulesCommand } from './rules.js';
import { iforestCommand } from './iforest.js';
import { modelCommand } from './model.js';
import { agentCommand } from './agent.js';
import { intelCommand } from './intel.js';
import { exportCommand } from './export.js';

const program = new Command('vigil')
  .description('Vigil: a self-hosted SIEM. Collects logs and host data, normalizes them to ECS, detects threats, shows them live.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const command of [startCommand(), ingestCommand(), searchCommand(), tokenCommand(), userCommand(), rulesCommand(), simulateCommand(), iforestCommand(), modelCommand(), agentCommand(), intelCommand(), exportCommand()]) {
  program.addCommand(command.exitOverride());
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (isVigilError(err)) {
    console.error(`vigil: ${err.message}${err.location ? ` (${err.location})` : ''}`);
    process.exit(err.status === 404 ? 3 : 2);
  }
  console.error('vigil: unexpected error:', err);
  process.exit(1);
}
