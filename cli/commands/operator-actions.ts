import type { Command } from 'commander';
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import type { FailoverProgress } from '../../workflows/run-types';
import { CliError, ExitCode } from '../cli-error';
import { printJson } from '../output';
import { runCommand } from '../run-command';
import { connectClient } from '../temporal-connection';

/**
 * The operator's hands on a running failover: approve a gate, retry or skip a paused step, abort the run
 * (with rollback unless --no-rollback), close a fence follow-up. Each is a Temporal update: the workflow
 * validates it first (a self-approval on a two-person gate, a second approval by the same operator where
 * several are needed, a step that is not paused) and records who, when and why.
 */
export function registerOperatorActions(program: Command): void {
  program
    .command('approve')
    .description(
      'Approve the approval gate a run is waiting at (two-person gates refuse the operator who started the run; going on with an unfenced old primary needs two different operators).',
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
          : 'Skip the paused step and go on (a failed fence needs two different operators to skip it).',
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
      [
        '',
        'Examples:',
        '  drctl abort failover-ehr-db --reason "wrong region"',
        '  drctl abort failover-ehr-db --reason "stop here" --no-rollback',
        '',
        'A running step is interrupted at once (a provider call already sent completes, and its undo is kept).',
        'A promotion is never undone (fail back instead). Once one completed, the fence stays, DNS records of',
        'the database are not moved back to the old member, and flags stay unless their step says',
        'rollbackAfterPromotion: restore; the rollback report says what it kept and why.',
      ].join('\n'),
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

  program
    .command('close')
    .description(
      'Close a fence follow-up: stop trying to fence an old primary a failover went on without fencing (e.g. it was destroyed).',
    )
    .argument('<follow-up-id>', 'the follow-up, e.g. fence-follow-up-ehr-db-ehr (shown by drctl status)')
    .option('--reason <text>', 'why (required, recorded)')
    .addHelpText(
      'after',
      '\nExamples:\n  drctl close fence-follow-up-ehr-db-ehr --reason "old primary instance deleted, INC-4411"',
    )
    .action(
      runCommand(async (context, workflowId: string, flags: { reason?: string }) => {
        const reason = requiredReason(flags.reason);
        const config = context.config();
        await sendUpdate(
          config,
          workflowId,
          'close',
          { operator: config.operator.identity, reason },
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
  config: Parameters<typeof connectClient>[0],
  workflowId: string,
  name: string,
  argument: unknown,
  output: 'text' | 'json',
): Promise<void> {
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
  const accepted = await client.workflow
    .getHandle(workflowId)
    .executeUpdate<{ action: string; stepId?: string; approvalsNeeded?: number }, [unknown]>(name, {
      args: [argument],
    })
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
      `${workflowId}: ${accepted.action}${accepted.stepId ? ` ${accepted.stepId}` : ''} accepted` +
        (accepted.approvalsNeeded
          ? `; ${accepted.approvalsNeeded} more different operator${accepted.approvalsNeeded === 1 ? '' : 's'} needed`
          : '') +
        '\n',
    );
}
