import type { Command } from 'commander';
import { note } from '../output';
import { terminalSafe } from '../terminal-safe';
import { runCommand } from '../run-command';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      "Run a drctl worker: it executes failover steps with this machine's AWS, PostgreSQL and Unleash credentials.",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  drctl worker\n  DRCTL_CONFIG=/etc/drctl/config.json drctl worker\n\nStops cleanly on SIGINT/SIGTERM; an in-flight step is taken over by another worker.',
    )
    .action(
      runCommand(async (context) => {
        const config = context.config();
        // Loaded on demand: the worker pulls in the native Temporal bridge and every provider SDK.
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous require keeps this CommonJS under tsx.
        const { runWorker } = require('../../worker/run-worker') as typeof import('../../worker/run-worker');
        await runWorker(config, {
          onWarning: (line) => note(`warning: ${terminalSafe(line)}`),
          onReady: () =>
            note(
              `drctl worker polling "${config.temporal.taskQueue}" on ${config.temporal.address} (${config.temporal.namespace})`,
            ),
        });
      }),
    );
}
