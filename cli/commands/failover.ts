import type { Command } from 'commander';
import { runCommand } from '../run-command';
import type { FailoverFlags } from '../run-failover';
import { runbookDirs } from '../runbook-dirs';

export function registerFailover(program: Command): void {
  program
    .command('failover')
    .description(
      'Fail a service over by running its runbook as a durable Temporal workflow. The worker runs its own reviewed copy: yours must match it (sha256).',
    )
    .argument('<runbook>', 'runbook id (see `drctl runbooks`) or path to your copy of a reviewed runbook')
    .option('--reason <text>', 'why: an incident id or a drill name (required to start, recorded for audit)')
    .option('--dry-run', 'show the plan against current state and change nothing')
    .option(
      '-y, --yes',
      'start without the plan and the prompt (the run still checks every target before its first change)',
    )
    .option(
      '--force <reason>',
      'start although the plan is NOT ready (planned even with --yes; pre-flight still runs first); the reason is recorded with the run',
    )
    .option('-f, --follow', 'show each step live until the run ends; exit code says how it ended')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl failover ehr-db --reason "INC-4411 us-east-1 outage"          # shows the plan, asks, then starts',
        '  drctl failover ehr-db --reason "INC-4411" --yes --follow             # start now and watch',
        '  drctl failover ehr-db --dry-run                                      # plan only: no reason needed',
        '  drctl failover ./my-runbook.ts --reason "drill" --yes --output json  # for scripts',
        '',
        'Exit codes: 0 succeeded (or started, without --follow), 1 failed, 2 bad input, 3 environment, 4 refused.',
      ].join('\n'),
    )
    .action(
      runCommand(async (context, reference: string, flags: FailoverFlags) => {
        const { findRunbook } = await import('../../runbooks/catalog');
        const { runFailover } = await import('../run-failover');
        const { referenceTo } = await import('../failover-runs');
        const { runbook } = findRunbook(reference, runbookDirs());
        return runFailover(context, { runbook, reference: referenceTo(runbook) }, flags);
      }),
    );
}
