import type { Client } from '@temporalio/client';
import { runbookSha256 } from '../auth/sha256';
import { INITIATOR_KEY, KIND_KEY, RUNBOOK_KEY } from '../common/search-attributes';
import type { Runbook } from '../runbooks/schema';
import type { ReviewedPlanResult } from '../workflows/reviewed-plan';
import type { FailoverProgress, FailoverResult, RunbookReference } from '../workflows/run-types';
import { CliError, ExitCode } from './cli-error';
import type { OperatorSigner } from './operator-signer';

/** A failover or failback as the client asks for it: the runbook it runs (for ids), and its catalog reference. */
export interface RunTarget {
  /** The runbook that will run (a failback's derived runbook), for the workflow id and search attributes. */
  runbook: Runbook;
  reference: RunbookReference;
}

/** The reference of a locally loaded reviewed runbook: its id and the sha256 the client plans against. */
export function referenceTo(base: Runbook, variant?: 'failback'): RunbookReference {
  return { id: base.id, sha256: runbookSha256(base), ...(variant === undefined ? {} : { variant }) };
}

/**
 * The client side of failover runs: start one (refusing doubles), ask how one is doing, plan one. Workflows
 * are named by string so the CLI never loads workflow code.
 */
export function failoverWorkflowId(
  runbookId: string,
  at: Date,
  kind: 'failover' | 'failback' = 'failover',
): string {
  // Doubles are refused by the running-failover check and, for the same second, by the id itself; a new
  // attempt a minute later (after a refused pre-flight, say) must not be blocked by a finished run.
  const second = at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `${kind}-${runbookId}-${second}`;
}

export async function findRunningFailover(client: Client, runbookId: string): Promise<string | undefined> {
  const query = `DrctlRunbook = '${runbookId}' AND DrctlKind = 'failover' AND ExecutionStatus = 'Running'`;
  for await (const execution of client.workflow.list({ query })) return execution.workflowId;
  return undefined;
}

/**
 * Starts a failover (or failback) of a reviewed runbook, signed by the operator, and waits until the worker has
 * verified the start: a start the access policy refuses, or a runbook that differs from the worker's reviewed
 * catalog, is reported as refused (exit 4) with the worker's reason.
 */
export async function startFailover(
  client: Client,
  taskQueue: string,
  target: RunTarget,
  options: { reason: string; signer: OperatorSigner; now: Date; forceReason?: string },
): Promise<string> {
  const { runbook, reference } = target;
  const running = await findRunningFailover(client, runbook.id);
  if (running !== undefined) {
    throw new CliError(
      'AlreadyRunning',
      `a failover of ${runbook.id} is already running (${running}); not starting another. ` +
        `Follow it with \`drctl status ${running}\`.`,
      ExitCode.Refused,
    );
  }
  const kind = reference.variant === 'failback' ? 'failback' : 'failover';
  const workflowId = failoverWorkflowId(runbook.id, options.now, kind);
  await client.workflow.start('failoverWorkflow', {
    taskQueue,
    workflowId,
    args: [
      {
        runbook: reference,
        start: options.signer.sign({
          action: kind,
          runId: workflowId,
          runbookId: reference.id,
          runbookHash: reference.sha256,
          reason: options.reason,
          ...(options.forceReason === undefined ? {} : { detail: { force: options.forceReason } }),
        }),
      },
    ],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: RUNBOOK_KEY, value: runbook.id },
      { key: KIND_KEY, value: kind },
      { key: INITIATOR_KEY, value: options.signer.name },
    ],
  });
  await awaitStartVerdict(client, workflowId);
  return workflowId;
}

const START_VERDICT_TIMEOUT_MS = 60_000;

/**
 * Waits until a run has verified its signed start (its progress shows the governing policy), or has ended
 * refused: then a CliError (exit 4) carries the worker's reason, and nothing was changed.
 */
export async function awaitStartVerdict(client: Client, workflowId: string): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  const deadline = Date.now() + START_VERDICT_TIMEOUT_MS;
  for (;;) {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') {
      const refusal = await handle.result().then(
        () => undefined,
        (error: unknown) => startRefusal(error),
      );
      if (refusal) throw new CliError('StartRefused', refusal, ExitCode.Refused);
      return;
    }
    const progress = await handle.query<{ authorization?: unknown }>('progress').catch(() => undefined);
    if (progress?.authorization !== undefined || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The worker's reason when a run was refused at its start (NotAuthorized, RunbookMismatch). */
export function startRefusal(error: unknown): string | undefined {
  // Read by shape, so the CLI need not load @temporalio/common to recognise an ApplicationFailure.
  const cause = (error as { cause?: { name?: unknown; type?: unknown; message?: unknown } })?.cause;
  if (
    cause?.name === 'ApplicationFailure' &&
    (cause.type === 'NotAuthorized' || cause.type === 'RunbookMismatch') &&
    typeof cause.message === 'string'
  )
    return cause.message;
  return undefined;
}

export type RunState =
  | { closed: false; progress: FailoverProgress }
  | { closed: true; result: FailoverResult }
  | { closed: true; result: undefined; status: string; message: string };

/** Where a run stands: live progress while it runs, its recorded result once it has ended. */
export async function readRun(client: Client, workflowId: string): Promise<RunState> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  if (description.status.name === 'RUNNING') {
    return { closed: false, progress: await handle.query<FailoverProgress>('progress') };
  }
  try {
    return { closed: true, result: await handle.result() };
  } catch (error) {
    const recorded = await recordedResult(error);
    if (recorded) return { closed: true, result: recorded };
    return {
      closed: true,
      result: undefined,
      status: description.status.name,
      message: (error as Error).message,
    };
  }
}

/** A failed failover carries its result (the timeline up to the failure) as its failure's detail. */
async function recordedResult(error: unknown): Promise<FailoverResult | undefined> {
  const { WorkflowFailedError } = await import('@temporalio/client');
  const { ApplicationFailure } = await import('@temporalio/common');
  if (!(error instanceof WorkflowFailedError) || !(error.cause instanceof ApplicationFailure))
    return undefined;
  const detail = error.cause.details?.[0] as FailoverResult | undefined;
  return detail?.timeline ? detail : undefined;
}

/** Plans a reviewed runbook on the worker, on a signed `plan` statement; refusals are exit 4 with the reason. */
export async function planFailover(
  client: Client,
  taskQueue: string,
  target: RunTarget,
  signer: OperatorSigner,
): Promise<ReviewedPlanResult> {
  const { runbook, reference } = target;
  const workflowId = `plan-${runbook.id}-${Date.now()}`;
  const start = signer.sign({
    action: 'plan',
    runId: workflowId,
    runbookId: reference.id,
    runbookHash: reference.sha256,
    reason: `plan ${runbook.id}`,
  });
  return client.workflow
    .execute<(request: unknown) => Promise<ReviewedPlanResult>>('planWorkflow', {
      taskQueue,
      workflowId,
      args: [{ runbook: reference, start }],
      workflowExecutionTimeout: '5m',
      typedSearchAttributes: [
        { key: RUNBOOK_KEY, value: runbook.id },
        { key: KIND_KEY, value: 'plan' },
      ],
    })
    .catch((error: unknown) => {
      const refusal = startRefusal(error);
      if (refusal) throw new CliError('PlanRefused', refusal, ExitCode.Refused);
      throw error;
    });
}
