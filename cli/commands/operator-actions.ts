import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { FailoverProgress } from '../../workflows/run-types';
import type { DrctlConfig } from '../../worker/config';
import { CliError, ExitCode } from '../cli-error';
import { printJson } from '../output';
import { runCommand } from '../run-command';

/**
 * The operator's hands on a running failover: approve a gate, retry or skip a paused step, abort the run
 * (with rollback unless --no-rollback). Each is a Temporal update: the workflow validates it first (a
 * self-approval on a two-person gate, a step that is not paused) and records who, when and why.
 */
export function registerOperatorActions(program: Command): void {
  program
    .command('approve')
    .description(
      'Approve the approval gate a run is waiting at (two-person gates refuse the operator who started the run).',
    )
    .argument('<workflow-id>', 'the run')
    .option('--step <step-id>', 'which gate, when several are waiting')
    .option('--reason <text>', 'why (required, recorded)')
    .addHelpText(
      'after',
      '\nExamples:\n  drctl approve failover-ehr-db-20261127-081530 --reason "INC-4411: region confirmed down"',
    )
    .action(
      runCommand(async (context, workflowId: string, flags: { step?: string; reason?: string }) => {
        const reason = requiredReason(flags.reason);
        const config = context.config();
        await sendUpdate(
          context.config(),
          workflowId,
          'approve',
          {
            operator: config.operator.identity,
            reason,
            ...(flags.step === undefined ? {} : { stepId: flags.step }),
          },
          context.output,
        );
      }),
    );

  for (const action of ['retry', 'skip'] as const) {
    program
      .command(action)
      .description(
        action === 'retry'
          ? 'Run the paused step again (after fixing its cause).'
          : 'Skip the paused step and go on.',
      )
      .argument('<workflow-id>', 'the paused run')
      .option('--step <step-id>', 'which paused step, when several are paused')
      .option('--reason <text>', action === 'skip' ? 'why (required, recorded)' : 'why (recorded)')
      .addHelpText(
        'after',
        `\nExamples:\n  drctl ${action} failover-ehr-db-20261127-081530 --reason "${action === 'retry' ? 'IAM policy fixed' : 'primary confirmed powered off'}"`,
      )
      .action(
        runCommand(async (context, workflowId: string, flags: { step?: string; reason?: string }) => {
          const reason =
            action === 'skip' ? requiredReason(flags.reason) : flags.reason?.trim() || 'retry requested';
          const config = context.config();
          const { connectClient } = await import('../temporal-connection');
          const { client, close } = await connectClient(config);
          try {
            const stepId = flags.step ?? (await onlyPausedStep(client, workflowId));
            await update(
              client,
              workflowId,
              'decide',
              { stepId, action, operator: config.operator.identity, reason },
              context.output,
            );
          } finally {
            await close();
          }
        }),
      );
  }

  program
    .command('abort')
    .description(
      'Abort a run at the next safe boundary, then undo the completed steps in reverse order (flags back, DNS back).',
    )
    .argument('<workflow-id>', 'the run')
    .option('--reason <text>', 'why (required, recorded)')
    .option('--no-rollback', 'leave the estate as it is: undo nothing')
    .addHelpText(
      'after',
      '\nExamples:\n  drctl abort failover-ehr-db-20261127-081530 --reason "wrong region"\n  drctl abort failover-ehr-db-20261127-081530 --reason "stop here" --no-rollback\n\nA promotion is never undone (fail back instead); a fence is lifted only when nothing was promoted.',
    )
    .action(
      runCommand(async (context, workflowId: string, flags: { reason?: string; rollback: boolean }) => {
        const reason = requiredReason(flags.reason);
        const config = context.config();
        await sendUpdate(
          config,
          workflowId,
          'abort',
          { operator: config.operator.identity, reason, rollback: flags.rollback },
          context.output,
        );
      }),
    );
}

function requiredReason(reason: string | undefined): string {
  if (!reason?.trim())
    throw new CliError(
      'ReasonRequired',
      '--reason is required: it is recorded with the action',
      ExitCode.BadInput,
    );
  return reason.trim();
}

async function onlyPausedStep(client: Client, workflowId: string): Promise<string> {
  const progress = await client.workflow.getHandle(workflowId).query<FailoverProgress>('progress');
  const paused = progress.awaiting.filter((a) => a.kind === 'decision').map((a) => a.stepId);
  if (paused.length === 1) return paused[0] as string;
  throw new CliError(
    'NoPausedStep',
    paused.length === 0
      ? `no step of ${workflowId} is paused (status ${progress.status})`
      : `several steps are paused (${paused.join(', ')}): pass --step`,
    ExitCode.Refused,
  );
}

async function sendUpdate(
  config: DrctlConfig,
  workflowId: string,
  name: string,
  argument: unknown,
  output: 'text' | 'json',
): Promise<void> {
  const { connectClient } = await import('../temporal-connection');
  const { client, close } = await connectClient(config);
  try {
    await update(client, workflowId, name, argument, output);
  } finally {
    await close();
  }
}

async function update(
  client: Client,
  workflowId: string,
  name: string,
  argument: unknown,
  output: 'text' | 'json',
): Promise<void> {
  const { WorkflowUpdateFailedError } = await import('@temporalio/client');
  const accepted = await client.workflow
    .getHandle(workflowId)
    .executeUpdate<{ action: string; stepId?: string }, [unknown]>(name, { args: [argument] })
    .catch((error: unknown) => {
      if (error instanceof WorkflowUpdateFailedError) {
        throw new CliError(
          'Rejected',
          `${name} rejected: ${error.cause?.message ?? error.message}`,
          ExitCode.Refused,
        );
      }
      throw error;
    });
  if (output === 'json') printJson(accepted);
  else
    process.stdout.write(
      `${workflowId}: ${accepted.action}${accepted.stepId ? ` ${accepted.stepId}` : ''} accepted\n`,
    );
}
