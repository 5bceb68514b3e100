import type { Command } from 'commander';
import { CliError, ExitCode } from '../cli-error';
import { printJson } from '../output';
import { runCommand } from '../run-command';

const ACTIONS = ['retry', 'skip', 'abort'] as const;

export function registerDecide(program: Command): void {
  program
    .command('decide')
    .description(
      'Decide what a paused step does next (a step with onFailure: pause failed): retry it, skip it, or abort the run.',
    )
    .argument('<workflow-id>', 'the paused run')
    .argument('<step-id>', 'the paused step')
    .argument('<action>', `one of ${ACTIONS.join(', ')}`)
    .option('--reason <text>', 'why (required, recorded in the timeline)')
    .addHelpText(
      'after',
      '\nExamples:\n  drctl decide failover-ehr-db-20261127-081530 fence-primary retry --reason "security group fixed"\n  drctl decide failover-ehr-db-20261127-081530 fence-primary skip --reason "primary confirmed powered off"',
    )
    .action(
      runCommand(
        async (context, workflowId: string, stepId: string, action: string, flags: { reason?: string }) => {
          if (!(ACTIONS as readonly string[]).includes(action)) {
            throw new CliError(
              'BadAction',
              `action must be one of ${ACTIONS.join(', ')}, not "${action}"`,
              ExitCode.BadInput,
            );
          }
          if (!flags.reason?.trim()) {
            throw new CliError(
              'ReasonRequired',
              '--reason is required: it is recorded with the decision',
              ExitCode.BadInput,
            );
          }
          const { connectClient } = await import('../temporal-connection');
          const { WorkflowUpdateFailedError } = await import('@temporalio/client');
          const config = context.config();
          const { client, close } = await connectClient(config);
          try {
            const handle = client.workflow.getHandle(workflowId);
            const decision = {
              stepId,
              action,
              operator: config.operator.identity,
              reason: flags.reason.trim(),
            };
            const accepted = await handle
              .executeUpdate('decide', { args: [decision] })
              .catch((error: unknown) => {
                if (error instanceof WorkflowUpdateFailedError) {
                  throw new CliError(
                    'DecisionRejected',
                    `decision rejected: ${error.cause?.message ?? error.message}`,
                    ExitCode.Refused,
                  );
                }
                throw error;
              });
            if (context.output === 'json') printJson(accepted);
            else process.stdout.write(`${stepId}: ${action} accepted\n`);
          } finally {
            await close();
          }
        },
      ),
    );
}
