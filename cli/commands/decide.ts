import type { Command } from 'commander';
import { CliError, ExitCode } from '../cli-error';
import { runCommand } from '../run-command';
import { requiredReason, sendSigned, withRun } from './operator-actions';

const ACTIONS = ['retry', 'skip', 'abort'] as const;

export function registerDecide(program: Command): void {
  program
    .command('decide')
    .description(
      'Decide what a paused step does next (a step with onFailure: pause failed): retry it, skip it, or abort the run. Signed with your key.',
    )
    .argument('<workflow-id>', 'the paused run')
    .argument('<step-id>', 'the paused step')
    .argument('<action>', `one of ${ACTIONS.join(', ')}`)
    .option('--reason <text>', 'why (required, recorded in the timeline)')
    .option('--no-rollback', 'with abort: undo nothing')
    .addHelpText(
      'after',
      '\nExamples:\n  drctl decide failover-ehr-db fence-primary retry --reason "security group fixed"\n  drctl decide failover-ehr-db fence-primary skip --reason "primary confirmed powered off"\n  drctl decide failover-ehr-db switch-dns abort --reason "wrong region" --no-rollback',
    )
    .action(
      runCommand(
        async (
          context,
          workflowId: string,
          stepId: string,
          action: string,
          flags: { reason?: string; rollback: boolean },
        ) => {
          if (!(ACTIONS as readonly string[]).includes(action)) {
            throw new CliError(
              'BadAction',
              `action must be one of ${ACTIONS.join(', ')}, not "${action}"`,
              ExitCode.BadInput,
            );
          }
          if (action !== 'abort' && !flags.rollback) {
            throw new CliError(
              'RollbackWithoutAbort',
              `--no-rollback goes with abort only: a ${action} undoes nothing; drop the option, or decide abort`,
              ExitCode.BadInput,
            );
          }
          const reason = requiredReason(flags.reason);
          await withRun(
            context,
            workflowId,
            (client, progress, runId) =>
              sendSigned(
                context,
                client,
                progress,
                'decide',
                {
                  action: action as (typeof ACTIONS)[number],
                  stepId,
                  reason,
                  ...(action === 'abort' ? { detail: { rollback: String(flags.rollback) } } : {}),
                },
                runId,
              ),
            'decide',
          );
        },
      ),
    );
}
