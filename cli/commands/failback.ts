import type { Command } from 'commander';
import { runCommand } from '../run-command';
import type { FailoverFlags } from '../run-failover';
import { runbookDirs } from '../runbook-dirs';

export function registerFailback(program: Command): void {
  program
    .command('failback')
    .description(
      'Return to the original topology once the old region is healthy: promote the original primary (rebuilt as a replica of the current one), DNS back, flags back.',
    )
    .argument('<runbook>', 'the runbook that failed over (id or file)')
    .option('--reason <text>', 'why (required to start, recorded)')
    .option('--dry-run', 'show the plan against current state and change nothing')
    .option('-y, --yes', 'start without asking')
    .option(
      '--force <reason>',
      'start although the plan is NOT ready (pre-flight still runs first); the reason is recorded with the run',
    )
    .option('-f, --follow', 'show each step live until the run ends')
    .option(
      '--from-run <run-id>',
      'the failover run to reverse (its recorded flag and DNS values are restored); default: the latest failover of the runbook that changed something',
    )
    .addHelpText(
      'after',
      [
        '',
        'First rebuild the old primary as a streaming replica of the current primary',
        '(local stack: npx tsx sandbox/cli.ts rebuild-old-primary); pre-flight refuses otherwise.',
        'Each flag, and each DNS record set to a literal value, goes back to what the failover read before',
        "changing it (not the opposite of the failover's step): the worker reads that run's record (--from-run",
        "is signed with the start); the failback runs under the runbook's lock, so it cannot overlap a failover.",
        '',
        'Examples:',
        '  drctl failback ehr-db --dry-run',
        '  drctl failback ehr-db --reason "INC-4411 resolved" --yes --follow',
      ].join('\n'),
    )
    .action(
      runCommand(async (context, reference: string, flags: FailoverFlags & { fromRun?: string }) => {
        const { findRunbook } = await import('../../runbooks/catalog');
        const { runFailover } = await import('../run-failover');
        const { referenceTo } = await import('../failover-runs');
        const { failbackTarget } = await import('../../runbooks/failback-runbook');
        const { runbook } = findRunbook(reference, runbookDirs());
        return runFailover(
          context,
          {
            // The worker derives the steps from the failover it reverses; here only the id (and whether the
            // runbook's databases have a way back at all).
            runbook: { id: failbackTarget(runbook).id },
            reference: referenceTo(runbook, 'failback'),
            ...(flags.fromRun === undefined ? {} : { fromRun: flags.fromRun }),
          },
          flags,
        );
      }),
    );
}
