import { Command, Option } from 'commander';
import { resetStack, type ResettablePart } from '../stack';
import { outputOption, progressLine, type OutputFormat } from './output-format';

export function resetCommand(): Command {
  return new Command('reset')
    .description(
      'restore the seeded state after a drill: original PostgreSQL primary with a fresh streaming replica, reseeded moto, all flags off',
    )
    .addOption(
      new Option('--only <parts...>', 'reset only these parts').choices(['postgres', 'aws', 'unleash']),
    )
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Examples:
  npm run sandbox -- reset                     everything
  npm run sandbox -- reset --only postgres     after a database failover drill
  npm run sandbox -- reset --only aws unleash`,
    )
    .action(async (options: { only?: ResettablePart[]; output: OutputFormat }) => {
      const started = Date.now();
      const stack = await resetStack({ only: options.only, log: progressLine });
      process.stdout.write(
        options.output === 'json'
          ? JSON.stringify(stack, null, 2) + '\n'
          : `sandbox reset (${(options.only ?? ['postgres', 'aws', 'unleash']).join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    });
}
