import type { Command } from 'commander';
import { ExitCode } from '../cli-error';
import { printJson } from '../output';
import { runCommand } from '../run-command';
import { runbookDirs } from '../runbook-dirs';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description(
      'Show the exact actions a failover would take against current state, and the pre-flight results. Changes nothing.',
    )
    .argument('<runbook>', 'runbook id or path to a runbook file')
    .addHelpText(
      'after',
      '\nExamples:\n  drctl plan ehr-db\n  drctl plan ./my-runbook.ts --output json\n\nExit code 1 when pre-flight would fail.',
    )
    .action(
      runCommand(async (context, reference: string) => {
        const { findRunbook } = await import('../../runbooks/catalog');
        const { connectClient } = await import('../temporal-connection');
        const { requireWorker } = await import('../worker-presence');
        const { planFailover } = await import('../failover-runs');
        const { renderPlan } = await import('../render');
        const { runbook } = findRunbook(reference, runbookDirs());
        const config = context.config();
        const { client, close } = await connectClient(config);
        try {
          await requireWorker(client, config.temporal.namespace, config.temporal.taskQueue);
          const plan = await planFailover(client, config.temporal.taskQueue, runbook);
          if (context.output === 'json') printJson(plan);
          else process.stdout.write(`${renderPlan(plan)}\n`);
          return plan.ready ? ExitCode.Ok : ExitCode.Failed;
        } finally {
          await close();
        }
      }),
    );
}
