import { Command } from 'commander';
import { stackStatus } from '../stack';
import { outputOption, type OutputFormat } from './output-format';

export function statusCommand(): Command {
  return new Command('status')
    .description('show whether each local server answers; exits 1 if any is down')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Examples:
  npm run sandbox -- status
  npm run sandbox -- status --output json | jq '.[] | select(.up | not)'`,
    )
    .action(async (options: { output: OutputFormat }) => {
      const components = await stackStatus();
      if (options.output === 'json') {
        process.stdout.write(JSON.stringify(components, null, 2) + '\n');
      } else {
        const width = Math.max(...components.map((component) => component.name.length));
        for (const component of components) {
          process.stdout.write(
            `${component.up ? 'up  ' : 'DOWN'}  ${component.name.padEnd(width)}  ${component.detail}\n`,
          );
        }
      }
      if (components.some((component) => !component.up)) process.exitCode = 1;
    });
}
