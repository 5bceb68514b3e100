import type { Command } from 'commander';
import { ExitCode, type ExitCodeValue } from '../cli-error';
import { printJson } from '../output';
import { runCommand } from '../run-command';
import { evacuationDirs, runbookDirs } from '../runbook-dirs';
import type { LoadedEvacuation } from '../../evacuations/catalog';
import type { CommandContext } from '../run-command';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description(
      'Show the exact actions a failover would take against current state, and the pre-flight results. Changes nothing.',
    )
    .argument(
      '<runbook>',
      'runbook id or path to a runbook file, or an evacuation id (every runbook of it is planned)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  drctl plan ehr-db\n  drctl plan ./my-runbook.ts --output json\n  drctl plan us-east-1                 # an evacuation: every runbook of every wave, planned at once',
    )
    .action(
      runCommand(async (context, reference: string) => {
        const { findRunbook } = await import('../../runbooks/catalog');
        const { openFailoverSession } = await import('../failover-session');
        const { referenceTo } = await import('../failover-runs');
        const { renderPlan } = await import('../render');
        const { findEvacuation } = await import('../../evacuations/catalog');
        const evacuation = findEvacuation(reference, runbookDirs(), evacuationDirs());
        if (evacuation !== undefined) return planEvacuation(context, evacuation);
        const { runbook } = findRunbook(reference, runbookDirs());
        const session = await openFailoverSession(context.config());
        try {
          const plan = await session.plan({ runbook, reference: referenceTo(runbook) }, context.signer());
          if (context.output === 'json') printJson(plan);
          else process.stdout.write(`${renderPlan(plan)}\n`);
          return plan.ready ? ExitCode.Ok : ExitCode.Failed;
        } finally {
          await session.close();
        }
      }),
    );
}

/** Plans every runbook of an evacuation at once (each a plan workflow on the worker) and gives one verdict. */
async function planEvacuation(context: CommandContext, loaded: LoadedEvacuation): Promise<ExitCodeValue> {
  const { connectClient } = await import('../temporal-connection');
  const { requireWorker } = await import('../worker-presence');
  const { planEvacuationRunbooks, renderEvacuationPlans } = await import('../evacuation-plan');
  const config = context.config();
  const { client, close } = await connectClient(config);
  try {
    await requireWorker(client, config.temporal.namespace, config.temporal.taskQueue);
    const planned = await planEvacuationRunbooks(client, config.temporal.taskQueue, loaded, context.signer());
    if (context.output === 'json')
      printJson({
        evacuation: loaded.evacuation,
        plans: planned.plans,
        ready: planned.ready,
        notReady: planned.notReady,
      });
    else process.stdout.write(`${renderEvacuationPlans(loaded, planned)}\n`);
    return planned.ready ? ExitCode.Ok : ExitCode.Failed;
  } finally {
    await close();
  }
}
