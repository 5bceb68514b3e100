import type { Command } from 'commander';
import { CliError, ExitCode } from '../cli-error';
import { note, printJson } from '../output';
import { runCommand } from '../run-command';
import { evacuationDirs, runbookDirs } from '../runbook-dirs';

interface EvacuateFlags {
  reason?: string;
  yes?: boolean;
  follow?: boolean;
  dryRun?: boolean;
  force?: string;
}

export function registerEvacuate(program: Command): void {
  program
    .command('evacuate')
    .description(
      'Evacuate a region: run every runbook of an evacuation plan, wave by wave, each as a failover under its own lock.',
    )
    .argument(
      '<evacuation>',
      'evacuation id (a file in evacuations/examples or DRCTL_EVACUATIONS_DIR) or path',
    )
    .option(
      '--reason <text>',
      'why: an incident id (required to start, not for --dry-run; recorded with the evacuation and every failover)',
    )
    .option(
      '-y, --yes',
      'start without the plan and the prompt (each failover still checks every target before its first change)',
    )
    .option(
      '--force <reason>',
      'start although the plan is NOT ready (planned even with --yes; each failover still runs its pre-flight); the reason is recorded',
    )
    .option('-f, --follow', 'show the live table (service, wave, step, elapsed, state) until it ends')
    .option(
      '--dry-run',
      'validate and show the waves; start nothing (drctl plan <evacuation> reads the estate)',
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl evacuate us-east-1 --reason "INC-4411 us-east-1 outage" --follow   # plans, asks, then starts',
        '  drctl evacuate ./ops/evacuate-us-east-1.ts --reason "INC-4411" --yes --output json',
        '  drctl plan us-east-1                         # every runbook planned against current state',
        '  drctl approve <evacuation-id> --step <wave> --reason "…"   # a wave that waits for an approval',
        '  drctl abort <evacuation-id> --reason "…"     # stop starting services; abort the running failovers',
        '',
        'Exit codes: 0 succeeded (or started), 1 a service failed, 2 bad input (an unknown runbook, a cycle, a',
        'runbook in two waves, concurrency 0), 3 environment, 4 refused (a runbook is already running elsewhere,',
        'the plan is NOT ready without --force, no terminal to confirm on without --yes, or not confirmed).',
      ].join('\n'),
    )
    .action(
      runCommand(async (context, reference: string, flags: EvacuateFlags) => {
        const { findEvacuation, unknownEvacuation, explainNotAnEvacuation } =
          await import('../../evacuations/catalog');
        const loaded = findEvacuation(reference, runbookDirs(), evacuationDirs());
        if (loaded === undefined) {
          // A file named by path that does not load (a copied example's import): its own error, not "no evacuation".
          explainNotAnEvacuation(reference);
          const { message, known } = unknownEvacuation(reference, evacuationDirs());
          throw new CliError('UnknownEvacuation', message, ExitCode.BadInput, { known });
        }
        const { renderEvacuationPlan, evacuationSummary } = await import('../render-evacuation');
        if (flags.dryRun) {
          if (context.output === 'json') printJson(loaded.evacuation);
          else process.stdout.write(`${renderEvacuationPlan(loaded.evacuation)}\n`);
          return ExitCode.Ok;
        }
        // Asked only of an evacuation that starts: a dry run records nothing.
        const reason = flags.reason?.trim();
        if (!reason) {
          throw new CliError(
            'ReasonRequired',
            '--reason is required: say why (an incident id); it is recorded with the evacuation and each failover',
            ExitCode.BadInput,
          );
        }
        const { forceReasonOf, forcedReason } = await import('../run-failover');
        const force = forceReasonOf(flags.force);
        const config = context.config();
        const { connectClient } = await import('../temporal-connection');
        const { requireWorker } = await import('../worker-presence');
        const { evacuationJson, refuseOverlaps, startEvacuation, followEvacuation } =
          await import('../evacuation-runs');
        const { client, close } = await connectClient(config);
        try {
          await requireWorker(client, config.temporal.namespace, config.temporal.taskQueue);
          await refuseOverlaps(client, loaded);
          let forcedPastPlan: string | undefined;
          // --force plans even with --yes: the evacuation records it only past a plan that is NOT ready.
          if (!flags.yes || force) {
            const { confirmStart, requireTerminal } = await import('../confirm');
            if (!flags.yes) requireTerminal();
            const { planEvacuationRunbooks, renderEvacuationPlans } = await import('../evacuation-plan');
            const planned = await planEvacuationRunbooks(
              client,
              config.temporal.taskQueue,
              loaded,
              context.signer(),
            );
            note(renderEvacuationPlans(loaded, planned));
            if (!planned.ready && !force) {
              throw new CliError(
                'PlanNotReady',
                `not starting: the plan of evacuation ${loaded.evacuation.id} is NOT ready (${planned.notReady.join(', ')}: shown above). ` +
                  'Fix what failed and run `drctl plan` again, or, if you know why it fails and must go on, pass --force "<why>" (recorded with the evacuation).',
                ExitCode.Refused,
                { notReady: planned.notReady },
              );
            }
            forcedPastPlan = forcedReason(planned.ready, force);
            if (!flags.yes) await confirmStart(loaded.evacuation.id, 'evacuation');
          }
          const workflowId = await startEvacuation(client, config.temporal.taskQueue, loaded, {
            reason,
            signer: context.signer(),
            now: new Date(),
            ...(forcedPastPlan ? { forceReason: forcedPastPlan } : {}),
          });
          if (!flags.follow) {
            if (context.output === 'json') printJson({ workflowId, status: 'started' });
            else
              process.stdout.write(
                `started ${workflowId}\nfollow it with: drctl status ${workflowId} --follow\n`,
              );
            return ExitCode.Ok;
          }
          if (context.output === 'text') note(`started ${workflowId}`);
          const read = await followEvacuation(client, workflowId, { live: context.output === 'text' });
          if (context.output === 'json') printJson(evacuationJson(read));
          else process.stdout.write(`${evacuationSummary(read.progress, read.refusal)}\n`);
          return read.progress.status === 'succeeded' ? ExitCode.Ok : ExitCode.Failed;
        } finally {
          await close();
        }
      }),
    );
}
