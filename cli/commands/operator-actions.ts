import type { Command } from 'commander';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { FOLLOW_UP_CLOSE_STEP, type FenceFollowUpState } from '../../workflows/fence-follow-up-types';
import type { OperatorAck } from '../../workflows/operator-decision';
import type { AbortEffect } from '../evacuation-abort-effects';
import type { FailoverProgress } from '../../workflows/run-types';
import type { StatementAction } from '../../auth/permissions';
import { CliError, ExitCode } from '../cli-error';
import { note, printJson } from '../output';
import { runCommand, type CommandContext } from '../run-command';
import { terminalSafe } from '../terminal-safe';

/**
 * The operator's hands on a running failover: approve a gate, retry or skip a paused step, abort the run
 * (with rollback unless --no-rollback), close a fence follow-up. Each is a Temporal update carrying a statement
 * signed with the operator's key: the workflow's validator checks it against the worker's access policy
 * (signature, key, permission, freshness, replay, the gate's approval rule: a self-approval on a two-person gate,
 * a second approval or skip by the same operator where several are needed) before anything is written, and
 * records it.
 */
export function registerOperatorActions(program: Command): void {
  program
    .command('approve')
    .description(
      "Approve the approval gate a run is waiting at, signed with your key (the gate's rule decides who may: e.g. not the initiator, 2 of group dba; going on with an unfenced old primary needs two different operators).",
    )
    .argument('<workflow-id>', 'the run')
    .option('--step <step-id>', 'which gate, when several are waiting')
    .option('--reason <text>', 'why (required, recorded)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl approve failover-ehr-db --reason "INC-4411: region confirmed down"',
        '  drctl approve failover-ehr-db --key /safe/break-glass.json --break-glass --reason "INC-4411: no DBA reachable"',
      ].join('\n'),
    )
    .action(
      runCommand(async (context, workflowId: string, flags: { step?: string; reason?: string }) => {
        const reason = requiredReason(flags.reason);
        await withRun(
          context,
          workflowId,
          async (client, progress, runId) => {
            const stepId = chosenStep(progress, 'approval', flags.step);
            await sendSigned(
              context,
              client,
              progress,
              'approve',
              { action: 'approve', stepId, reason },
              runId,
            );
          },
          'approve',
        );
      }),
    );

  for (const action of ['retry', 'skip'] as const) {
    program
      .command(action)
      .description(
        action === 'retry'
          ? 'Run the paused step again (after fixing its cause). Signed with your key.'
          : 'Skip the paused step and go on (a failed fence needs two different operators to skip it). Signed with your key.',
      )
      .argument('<workflow-id>', 'the paused run')
      .option('--step <step-id>', 'which paused step, when several are paused')
      .option('--reason <text>', action === 'skip' ? 'why (required, recorded)' : 'why (recorded)')
      .addHelpText(
        'after',
        `\nExamples:\n  drctl ${action} failover-ehr-db --reason "${action === 'retry' ? 'IAM policy fixed' : 'primary confirmed powered off'}"`,
      )
      .action(
        runCommand(async (context, workflowId: string, flags: { step?: string; reason?: string }) => {
          const reason =
            action === 'skip' ? requiredReason(flags.reason) : flags.reason?.trim() || 'retry requested';
          await withRun(
            context,
            workflowId,
            async (client, progress, runId) => {
              const stepId = chosenStep(progress, 'decision', flags.step);
              await sendSigned(context, client, progress, 'decide', { action, stepId, reason }, runId);
            },
            'decide',
          );
        }),
      );
  }

  program
    .command('abort')
    .description(
      'Abort a run: a running step is interrupted at once, then the completed steps are undone in reverse order (flags back, DNS back). Signed with your key.',
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
        await withRun(
          context,
          workflowId,
          async (client, progress, runId) => {
            const { evacuationAbortEffects } = await import('../evacuation-abort-effects');
            const services = await evacuationAbortEffects(client, progress.workflowId, runId, flags.rollback);
            await sendSigned(
              context,
              client,
              progress,
              'abort',
              { action: 'abort', reason, detail: { rollback: String(flags.rollback) } },
              runId,
              services,
            );
          },
          'abort',
        );
      }),
    );

  program
    .command('close')
    .description(
      'Close a fence follow-up: stop trying to fence an old primary a failover went on without fencing (e.g. it was destroyed). Signed with your key (it needs the abort permission on the runbook).',
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
        await closeFollowUp(context, workflowId, reason);
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

/**
 * Connects, finds the run the action is for, reads its progress (for its runbook id and hash, and what it waits
 * for), then acts. A drill's gates, pauses and abort are its failover's (or, of an evacuation, its evacuation's):
 * the action goes there, and says so. A run that has ended is refused as such (exit 4).
 */
export async function withRun(
  context: CommandContext,
  workflowId: string,
  act: (client: Client, progress: FailoverProgress, runId: string | undefined) => Promise<void>,
  update: 'approve' | 'decide' | 'abort',
): Promise<void> {
  context.signer();
  const { connectClient } = await import('../temporal-connection');
  const { client, close } = await connectClient(context.config());
  try {
    const target = await actedOn(client, workflowId, update);
    if (target.workflowId !== workflowId)
      note(`${workflowId} is a drill: acting on the run it holds, ${target.workflowId}`);
    const progress = await client.workflow
      .getHandle(target.workflowId, target.runId)
      .query<FailoverProgress>('progress');
    await act(client, progress, target.runId);
  } finally {
    await close();
  }
}

/**
 * The run an operator's action on `workflowId` goes to: the run itself, or the one a drill holds (pinned to its
 * run id: another run of that runbook may take the lock once it ends). A drill that has injected its failure is
 * not aborted through its failover: that would undo the failover's steps and leave the injected failure.
 */
async function actedOn(
  client: Client,
  workflowId: string,
  update: 'approve' | 'decide' | 'abort',
): Promise<{ workflowId: string; runId?: string }> {
  const { describeRun } = await import('../runs');
  const run = await describeRun(client, workflowId);
  const evacuationDrill = run.workflowType === 'evacuationDrillWorkflow';
  if (run.status !== 'RUNNING') {
    // A drill terminated mid-way leaves the run it started running: name it rather than "nothing to abort".
    const { held, child } = run.kind === 'drill' ? await heldBy(client, run, evacuationDrill) : {};
    if (child?.parentExecution?.workflowId !== workflowId || child.status.name !== 'RUNNING')
      throw runEnded(workflowId, run.status, update);
    throw new CliError(
      'RunEnded',
      `${workflowId} has already ended (${run.status.toLowerCase()}), but the run it started, ${held}, is still running: act on it by name (drctl status ${held}; drctl ${update} ${held} …)`,
      ExitCode.Refused,
    );
  }
  if ((run.kind === 'evacuation' || evacuationDrill) && update === 'decide')
    throw new CliError(
      'NotAFailover',
      `${workflowId} is ${evacuationDrill ? 'a drill of an evacuation' : 'an evacuation'}: its services' failovers pause, not the evacuation; retry, skip or decide the paused failover (drctl status ${workflowId} names each service's run)`,
      ExitCode.BadInput,
    );
  if (run.kind !== 'drill') return { workflowId };
  const { held, child } = await heldBy(client, run, evacuationDrill);
  if (child?.parentExecution?.workflowId !== workflowId)
    throw new CliError(
      'DrillHoldsNoRun',
      `${workflowId} has not started its ${evacuationDrill ? 'evacuation' : 'failover'} yet (its pre-flight is running; nothing is injected): try again in a few seconds, or see drctl status ${workflowId}`,
      ExitCode.Refused,
    );
  if (child.status.name !== 'RUNNING')
    throw new CliError(
      'DrillHoldsNoRun',
      `${workflowId}'s ${held} has ended (${child.status.name.toLowerCase()}); the drill is finishing: drctl status ${workflowId} --follow`,
      ExitCode.Refused,
    );
  if (update === 'abort') {
    const { releaseMemoKey } = await import('../../common/held-release');
    const drill = await client.workflow.getHandle(workflowId).describe();
    if (drill.memo?.[releaseMemoKey(run.runbookId ?? '')] !== undefined)
      throw new CliError(
        'DrillInjected',
        `${workflowId} has injected its failure: ${held} is recovering from it. Aborting it now would undo its steps and leave the failure in place (the primary fenced or stopped, nothing promoted). Let it finish (drctl status ${workflowId} --follow); to abort it anyway, name it: drctl abort ${held} --reason …, then recover the primary yourself`,
        ExitCode.Refused,
      );
  }
  return { workflowId: held, runId: child.runId };
}

/**
 * The run a drill holds, by id (its runbook's failover lock, or its evacuation), and that id's latest run as
 * Temporal describes it (not the drill's child when its parent is another run; undefined when there is none).
 */
async function heldBy(
  client: Client,
  drill: { workflowId: string; runbookId: string | null },
  evacuationDrill: boolean,
): Promise<{ held: string; child?: WorkflowExecutionDescription }> {
  const held = evacuationDrill
    ? `${drill.workflowId}-evacuation`
    : (await import('../../common/run-lock')).runLockId(drill.runbookId ?? '');
  const child = await client.workflow
    .getHandle(held)
    .describe()
    .catch(() => undefined);
  return child === undefined ? { held } : { held, child };
}

function runEnded(
  workflowId: string,
  status: string | undefined,
  update: 'approve' | 'decide' | 'abort',
): CliError {
  const what = update === 'abort' ? 'abort' : update === 'approve' ? 'approve' : 'retry, skip or decide';
  return new CliError(
    'RunEnded',
    `${workflowId} has already ended${status === undefined ? '' : ` (${status.toLowerCase()})`}: there is nothing to ${what}; see drctl status ${workflowId}`,
    ExitCode.Refused,
  );
}

/**
 * The step an approval or decision is for: `--step` when given, else the only one waiting. A `--step` naming none
 * of the steps that wait while others do is bad input (exit 2), naming those that do; with none waiting at all the
 * run refuses it (exit 4), as it would.
 */
function chosenStep(
  progress: FailoverProgress,
  kind: 'approval' | 'decision',
  given: string | undefined,
): string {
  const waiting = progress.awaiting.filter((a) => a.kind === kind).map((a) => a.stepId);
  const what = kind === 'approval' ? 'waiting for an approval' : 'paused';
  if (given !== undefined) {
    if (waiting.length === 0 || waiting.includes(given)) return given;
    throw new CliError(
      'NoSuchWaitingStep',
      `--step ${given}: no such step of ${progress.workflowId} is ${what}; ${waiting.length === 1 ? 'it is' : 'they are'}: ${waiting.join(', ')}`,
      ExitCode.BadInput,
      { waiting },
    );
  }
  if (waiting.length === 1) return waiting[0] as string;
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
  runId?: string,
  /** An evacuation's abort: what it does to each service, said with the acknowledgement. */
  services?: AbortEffect[],
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
    // Temporal's id of the run whose progress was read: the statement holds only for it, not for a later run under
    // the same workflow id (a runbook's lock).
    detail: { ...fields.detail, run: progress.runId },
    runId: progress.workflowId,
    runbookId: authorization.runbookId,
    runbookHash: authorization.runbookHash,
  });
  const { WorkflowNotFoundError, WorkflowUpdateFailedError } = await import('@temporalio/client');
  const accepted = await client.workflow
    .getHandle(progress.workflowId, runId)
    .executeUpdate<OperatorAck, [unknown]>(update, { args: [{ signed }] })
    .catch((error: unknown) => {
      // It ended between the read of its progress and the update.
      if (error instanceof WorkflowNotFoundError && /already completed/.test(error.message))
        throw runEnded(progress.workflowId, undefined, update);
      if (error instanceof WorkflowUpdateFailedError) {
        throw new CliError(
          'Rejected',
          `${fields.action} rejected: ${error.cause?.message ?? error.message}`,
          ExitCode.Refused,
        );
      }
      throw error;
    });
  const target = { workflowId: progress.workflowId, runId: runId ?? progress.runId };
  if (context.output === 'json')
    printJson(services === undefined ? { ...target, ...accepted } : { ...target, ...accepted, services });
  else
    process.stdout.write(
      `${progress.workflowId}: ${accepted.action}${accepted.stepId ? ` ${accepted.stepId}` : ''} accepted from ${terminalSafe(accepted.operator)}` +
        (accepted.approvalsNeeded
          ? `; ${accepted.approvalsNeeded} more different operator${accepted.approvalsNeeded === 1 ? '' : 's'} needed`
          : '') +
        '\n' +
        (services ?? [])
          .map((service) => `  ${service.runbookId} (${service.state}): ${service.effect}\n`)
          .join(''),
    );
}

/** Signs a close of a fence follow-up (an `abort` of its step `close`, for its runbook) and sends it. */
async function closeFollowUp(context: CommandContext, workflowId: string, reason: string): Promise<void> {
  const signer = context.signer();
  const { connectClient } = await import('../temporal-connection');
  const { WorkflowUpdateFailedError } = await import('@temporalio/client');
  const { client, close } = await connectClient(context.config());
  try {
    const handle = client.workflow.getHandle(workflowId);
    const state = await handle.query<FenceFollowUpState>('followUp');
    if (signer.breakGlass)
      note('BREAK-GLASS: this action is signed with a break-glass key and will be reported');
    const signed = signer.sign({
      action: 'abort',
      stepId: FOLLOW_UP_CLOSE_STEP,
      reason,
      runId: workflowId,
      runbookId: state.authorization.runbookId,
      runbookHash: state.authorization.runbookHash,
    });
    const accepted = await handle
      .executeUpdate<{ action: string; operator: string }, [unknown]>('close', { args: [{ signed }] })
      .catch((error: unknown) => {
        if (error instanceof WorkflowUpdateFailedError) {
          throw new CliError(
            'Rejected',
            `close rejected: ${error.cause?.message ?? error.message}`,
            ExitCode.Refused,
          );
        }
        throw error;
      });
    if (context.output === 'json')
      printJson({ workflowId, runId: (await handle.describe()).runId, ...accepted });
    else process.stdout.write(`${workflowId}: ${accepted.action} by ${terminalSafe(accepted.operator)}\n`);
  } finally {
    await close();
  }
}
