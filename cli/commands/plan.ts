import type { Command } from 'commander';
import { findRunbook } from '../../runbooks/catalog';
import { ExitCode } from '../cli-error';
import { planFailover, referenceTo } from '../failover-runs';
import { printJson } from '../output';
import { renderPlan } from '../render';
import { runCommand } from '../run-command';
import { runbookDirs } from '../runbook-dirs';
import { connectClient } from '../temporal-connection';
import { requireWorker } from '../worker-presence';

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
        const { runbook } = findRunbook(reference, runbookDirs());
        const config = context.config();
        const { client, close } = await connectClient(config);
        try {
          await requireWorker(client, config.temporal.namespace, config.temporal.taskQueue);
          const plan = await planFailover(
            client,
            config.temporal.taskQueue,
            { runbook, reference: referenceTo(runbook) },
            context.signer(),
          );
          if (context.output === 'json') printJson(plan);
          else process.stdout.write(`${renderPlan(plan)}\n`);
          return plan.ready ? ExitCode.Ok : ExitCode.Failed;
        } finally {
          await close();
        }
      }),
    );
}
