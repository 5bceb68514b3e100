import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { OperatorAck } from '../../workflows/operator-decision';
import type { FailoverProgress } from '../../workflows/run-types';
import type { StatementAction } from '../../auth/permissions';
import { CliError, ExitCode } from '../cli-error';
import { note, printJson } from '../output';
import { runCommand, type CommandContext } from '../run-command';

/**
 * The operator's hands on a running failover: approve a gate, retry or skip a paused step, abort the run
 * (with rollback unless --no-rollback). Each is a Temporal update carrying a statement signed with the
 * operator's key: the workflow's validator checks it against the worker's access policy (signature, key,
 * permission, freshness, replay, the gate's approval rule) before anything is written, and records it.
 */
export function registerOperatorActions(program: Command): void {
  program
    .command('approve')
    .description(
      "Approve the approval gate a run is waiting at, signed with your key (the gate's rule decides who may: e.g. not the initiator, 2 of group dba).",
    )
    .argument('<workflow-id>', 'the run')
    .option('--step <step-id>', 'which gate, when several are waiting')
    .option('--reason <text>', 'why (required, recorded)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl approve failover-ehr-db-20261127-081530 --reason "INC-4411: region confirmed down"',
        '  drctl approve failover-ehr-db-20261127-081530 --key /safe/break-glass.json --break-glass --reason "INC-4411: no DBA reachable"',
      ].join('\n'),
    )
    .action(
      runCommand(async (context, workflowId: string, flags: { step?: string; reason?: string }) => {
        const reason = requiredReason(flags.reason);
        await withRun(context, workflowId, async (client, progress) => {
          const stepId = flags.step ?? onlyWaiting(progress, 'approval');
          await sendSigned(context, client, progress, 'approve', { action: 'approve', stepId, reason });
        });
      }),
    );

  for (const action of ['retry', 'skip'] as const) {
    program
      .command(action)
      .description(
        action === 'retry'
          ? 'Run the paused step again (after fixing its cause). Signed with your key.'
          : 'Skip the paused step and go on. Signed with your key.',
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
          await withRun(context, workflowId, async (client, progress) => {
            const stepId = flags.step ?? onlyWaiting(progress, 'decision');
            await sendSigned(context, client, progress, 'decide', { action, stepId, reason });
          });
        }),
      );
  }

  program
    .command('abort')
    .description(
      'Abort a run at the next safe boundary, then undo the completed steps in reverse order (flags back, DNS back). Signed with your key.',
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
        await withRun(context, workflowId, async (client, progress) => {
          await sendSigned(context, client, progress, 'abort', {
            action: 'abort',
            reason,
            detail: { rollback: String(flags.rollback) },
          });
        });
      }),
    );
}

export function requiredReason(reason: string | undefined): string {
  if (!reason?.trim())
    throw new CliError(
      'ReasonRequired',
      '--reason is required: it is recorded with the action',
      ExitCode.BadInput,
    );
  return reason.trim();
}

/** Connects, reads the run's progress (for its runbook id and hash, and what it waits for), then acts. */
export async function withRun(
  context: CommandContext,
  workflowId: string,
  act: (client: Client, progress: FailoverProgress) => Promise<void>,
): Promise<void> {
  context.signer();
  const { connectClient } = await import('../temporal-connection');
  const { client, close } = await connectClient(context.config());
  try {
    const progress = await client.workflow.getHandle(workflowId).query<FailoverProgress>('progress');
    await act(client, progress);
  } finally {
    await close();
  }
}

function onlyWaiting(progress: FailoverProgress, kind: 'approval' | 'decision'): string {
  const waiting = progress.awaiting.filter((a) => a.kind === kind).map((a) => a.stepId);
  if (waiting.length === 1) return waiting[0] as string;
  const what = kind === 'approval' ? 'waiting for an approval' : 'paused';
  throw new CliError(
    kind === 'approval' ? 'NoApprovalWaiting' : 'NoPausedStep',
    waiting.length === 0
      ? `no step of ${progress.workflowId} is ${what} (status ${progress.status})`
      : `several steps are ${what} (${waiting.join(', ')}): pass --step`,
    ExitCode.Refused,
  );
}

/** Signs the action for this run (its id, runbook and hash) and sends it as the named update. */
export async function sendSigned(
  context: CommandContext,
  client: Client,
  progress: FailoverProgress,
  update: 'approve' | 'decide' | 'abort',
  fields: { action: StatementAction; stepId?: string; reason: string; detail?: Record<string, string> },
): Promise<void> {
  const authorization = progress.authorization;
  if (!authorization)
    throw new CliError(
      'RunNotReady',
      `${progress.workflowId} records no access policy yet (still verifying its start, or started before signed actions); try again in a moment`,
      ExitCode.Refused,
    );
  const signer = context.signer();
  if (signer.breakGlass)
    note('BREAK-GLASS: this action is signed with a break-glass key and will be reported');
  const signed = signer.sign({
    ...fields,
    runId: progress.workflowId,
    runbookId: authorization.runbookId,
    runbookHash: authorization.runbookHash,
  });
  const { WorkflowUpdateFailedError } = await import('@temporalio/client');
  const accepted = await client.workflow
    .getHandle(progress.workflowId)
    .executeUpdate<OperatorAck, [unknown]>(update, { args: [{ signed }] })
    .catch((error: unknown) => {
      if (error instanceof WorkflowUpdateFailedError) {
        throw new CliError(
          'Rejected',
          `${fields.action} rejected: ${error.cause?.message ?? error.message}`,
          ExitCode.Refused,
        );
      }
      throw error;
    });
  if (context.output === 'json') printJson(accepted);
  else
    process.stdout.write(
      `${progress.workflowId}: ${accepted.action}${accepted.stepId ? ` ${accepted.stepId}` : ''} accepted from ${accepted.operator}` +
        (accepted.approvalsNeeded ? `; ${accepted.approvalsNeeded} more approval(s) needed` : '') +
        '\n',
    );
}
