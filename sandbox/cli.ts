import { Command } from 'commander';
import { downCommand } from './commands/down-command';
import { resetCommand } from './commands/reset-command';
import { statusCommand } from './commands/status-command';
import { upCommand } from './commands/up-command';

/** `npm run sandbox -- <command>`: the local test stack (Temporal, moto, PostgreSQL pair, Unleash). */
const program = new Command('sandbox')
  .description(
    'local test stack for drctl: Temporal dev server, moto (AWS), a streaming PostgreSQL pair, Unleash',
  )
  .addHelpText(
    'after',
    `
Examples:
  npm run sandbox -- up
  npm run sandbox -- status
  npm run sandbox -- reset --only postgres
  npm run sandbox -- down`,
  )
  .addCommand(upCommand())
  .addCommand(downCommand())
  .addCommand(statusCommand())
  .addCommand(resetCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  process.stderr.write(`sandbox: ${code ? `[${code}] ` : ''}${(error as Error).message}\n`);
  process.exit(1);
});
