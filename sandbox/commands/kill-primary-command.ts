import { Command } from 'commander';
import { killPostgresPrimary } from '../stack';

/** `sandbox kill-primary`: crashes the PostgreSQL primary, the sandbox's stop command for `stop-primary` drills. */
export function killPrimaryCommand(): Command {
  return new Command('kill-primary')
    .description(
      'crash the PostgreSQL primary (pg_ctl -m immediate stop), the stop command of a stop-primary drill; `reset --only postgres` brings it back',
    )
    .addHelpText(
      'after',
      `
Examples:
  npm run sandbox -- kill-primary
  npx tsx sandbox/cli.ts kill-primary`,
    )
    .action(async () => {
      const started = Date.now();
      await killPostgresPrimary();
      process.stdout.write(`postgres primary stopped (immediate) in ${Date.now() - started} ms\n`);
    });
}
