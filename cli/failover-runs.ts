import type { Client } from '@temporalio/client';
import { INITIATOR_KEY, KIND_KEY, RUNBOOK_KEY } from '../common/search-attributes';
import type { Runbook } from '../runbooks/schema';
import type { FailoverProgress, FailoverResult, PlanResult } from '../workflows/run-types';
import { CliError, ExitCode } from './cli-error';

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

export async function startFailover(
  client: Client,
  taskQueue: string,
  runbook: Runbook,
  options: {
    reason: string;
    initiator: string;
    now: Date;
    forceReason?: string;
    kind?: 'failover' | 'failback';
  },
): Promise<string> {
  const running = await findRunningFailover(client, runbook.id);
  if (running !== undefined) {
    throw new CliError(
      'AlreadyRunning',
      `a failover of ${runbook.id} is already running (${running}); not starting another. ` +
        `Follow it with \`drctl status ${running}\`.`,
      ExitCode.Refused,
    );
  }
  const kind = options.kind ?? 'failover';
  const workflowId = failoverWorkflowId(runbook.id, options.now, kind);
  await client.workflow.start('failoverWorkflow', {
    taskQueue,
    workflowId,
    args: [
      {
        runbook,
        options: {
          reason: options.reason,
          initiator: options.initiator,
          ...(options.forceReason === undefined ? {} : { forceReason: options.forceReason }),
        },
      },
    ],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: RUNBOOK_KEY, value: runbook.id },
      { key: KIND_KEY, value: kind },
      { key: INITIATOR_KEY, value: options.initiator },
    ],
  });
  return workflowId;
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

export async function planFailover(client: Client, taskQueue: string, runbook: Runbook): Promise<PlanResult> {
  return client.workflow.execute('planWorkflow', {
    taskQueue,
    workflowId: `plan-${runbook.id}-${Date.now()}`,
    args: [runbook],
    workflowExecutionTimeout: '5m',
    typedSearchAttributes: [
      { key: RUNBOOK_KEY, value: runbook.id },
      { key: KIND_KEY, value: 'plan' },
    ],
  });
}
