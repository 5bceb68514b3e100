import type { Command } from 'commander';
import { findRunbook } from '../../runbooks/catalog';
import { CliError, ExitCode } from '../cli-error';
import { confirmStart } from '../confirm';
import { planFailover, startFailover } from '../failover-runs';
import { followRun } from '../follow-run';
import { note, printJson } from '../output';
import { renderPlan, renderSummary } from '../render';
import { runCommand } from '../run-command';
import { runbookDirs } from '../runbook-dirs';
import { connectClient } from '../temporal-connection';
import { requireWorker } from '../worker-presence';

interface FailoverFlags {
  reason?: string;
  dryRun?: boolean;
  yes?: boolean;
  follow?: boolean;
}

export function registerFailover(program: Command): void {
  program
    .command('failover')
    .description('Fail a service over by running its runbook as a durable Temporal workflow.')
    .argument('<runbook>', 'runbook id (see `drctl runbooks`) or path to a runbook file')
    .option('--reason <text>', 'why: an incident id or a drill name (required, recorded for audit)')
    .option('--dry-run', 'show the plan against current state and change nothing')
    .option('-y, --yes', 'start without asking (the plan is not shown)')
    .option('-f, --follow', 'show each step live until the run ends; exit code says how it ended')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl failover ehr-db --reason "INC-4411 us-east-1 outage"          # shows the plan, asks, then starts',
        '  drctl failover ehr-db --reason "INC-4411" --yes --follow             # start now and watch',
        '  drctl failover ehr-db --reason "check" --dry-run                     # plan only',
        '  drctl failover ./my-runbook.ts --reason "drill" --yes --output json  # for scripts',
        '',
        'Exit codes: 0 succeeded (or started, without --follow), 1 failed, 2 bad input, 3 environment, 4 refused.',
      ].join('\n'),
    )
    .action(
      runCommand(async (context, reference: string, flags: FailoverFlags) => {
        const reason = flags.reason?.trim();
        if (!reason) {
          throw new CliError(
            'ReasonRequired',
            '--reason is required: say why (an incident id, a drill name); it is recorded with the run',
            ExitCode.BadInput,
          );
        }
        const { runbook } = findRunbook(reference, runbookDirs());
        const config = context.config();
        const { client, close } = await connectClient(config);
        try {
          await requireWorker(client, config.temporal.namespace, config.temporal.taskQueue);
          if (flags.dryRun || !flags.yes) {
            const plan = await planFailover(client, config.temporal.taskQueue, runbook);
            if (flags.dryRun) {
              if (context.output === 'json') printJson(plan);
              else process.stdout.write(`${renderPlan(plan)}\n`);
              return plan.ready ? ExitCode.Ok : ExitCode.Failed;
            }
            note(renderPlan(plan));
            await confirmStart(runbook.id);
          }
          const workflowId = await startFailover(client, config.temporal.taskQueue, runbook, {
            reason,
            initiator: config.operator.identity,
            now: new Date(),
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
          const result = await followRun(client, workflowId, { live: context.output === 'text' });
          if (context.output === 'json') printJson(result);
          // The steps were shown live on stderr; stdout gets the outcome.
          else process.stdout.write(`${renderSummary(result)}\n`);
          return result.status === 'succeeded' ? ExitCode.Ok : ExitCode.Failed;
        } finally {
          await close();
        }
      }),
    );
}
