import { Command } from 'commander';
import { awsCommand } from './commands/aws-command';
import { downCommand } from './commands/down-command';
import { killPrimaryCommand } from './commands/kill-primary-command';
import { rebuildOldPrimaryCommand } from './commands/rebuild-old-primary-command';
import { resetCommand } from './commands/reset-command';
import { statusCommand } from './commands/status-command';
import { upCommand } from './commands/up-command';

// The AWS SDK warns about Node 20's end of support on every run; the sandbox works on 20, 22 and 24, so the
// warning is noise in progress output. Set the variable to false to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** `npm run sandbox -- <command>`: the local test stack (Temporal, moto behind the strict AWS layer, PostgreSQL pair, Unleash). */
const program = new Command('sandbox')
  .description(
    'local test stack for drctl: Temporal dev server, moto (AWS) behind a strict AWS layer, a streaming PostgreSQL pair, Unleash',
  )
  .addHelpText(
    'after',
    `
Examples:
  npm run sandbox -- up
  npm run sandbox -- status
  npm run sandbox -- reset --only postgres
  npm run sandbox -- rebuild-old-primary
  npm run sandbox -- aws region-down us-east-1
  npm run sandbox -- down`,
  )
  .addCommand(upCommand())
  .addCommand(downCommand())
  .addCommand(statusCommand())
  .addCommand(resetCommand())
  .addCommand(killPrimaryCommand())
  .addCommand(rebuildOldPrimaryCommand())
  .addCommand(awsCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  process.stderr.write(`sandbox: ${code ? `[${code}] ` : ''}${(error as Error).message}\n`);
  process.exit(1);
});
