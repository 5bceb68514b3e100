import { Command } from 'commander';
import { stopStack } from '../stack';
import { outputOption, progressLine, type OutputFormat } from './output-format';

export function downCommand(): Command {
  return new Command('down')
    .description('stop every local server; data in .sandbox is kept for the next up')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Examples:
  npm run sandbox -- down
  npm run sandbox -- down && rm -rf .sandbox/pg .sandbox/temporal .sandbox/settings.json   start from nothing next time`,
    )
    .action(async (options: { output: OutputFormat }) => {
      await stopStack({ log: progressLine });
      process.stdout.write(
        options.output === 'json' ? JSON.stringify({ stopped: true }) + '\n' : 'sandbox stopped\n',
      );
    });
}
