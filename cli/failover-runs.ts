import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { lockedRunbookId, runLockId } from '../common/run-lock';
import { INITIATOR_KEY, KIND_KEY, RUNBOOK_KEY } from '../common/search-attributes';
import { flagsBeforeOf } from '../kinds/flags-set/definition';
import type { RecordedFailover } from '../kinds/step-kind';
import type { Runbook } from '../runbooks/schema';
import type { FailoverProgress, FailoverResult, PlanResult } from '../workflows/run-types';
import { CliError, ExitCode } from './cli-error';

/**
 * The client side of failover runs: start one (Temporal refuses doubles), ask how one is doing, plan one.
 * Workflows are named by string so the CLI never loads workflow code.
 */

/** A started run: the runbook's lock id (shared by every run of it) and Temporal's id of this run. */
export interface StartedRun {
  workflowId: string;
  runId: string;
}

/**
 * Starts a failover (or failback) under the runbook's lock: the workflow id is the lock (`runLockId`), and
 * Temporal itself refuses a second start while a run with that id is open, whatever the clocks of the two
 * operators say. A finished run does not block the next one; they differ by run id.
 */
export async function startFailover(
  client: Client,
  taskQueue: string,
  runbook: Runbook,
  options: {
    reason: string;
    initiator: string;
    forceReason?: string;
    kind?: 'failover' | 'failback';
  },
): Promise<StartedRun> {
  const kind = options.kind ?? 'failover';
  const lockedRunbook = lockedRunbookId(runbook.id, kind);
  const workflowId = runLockId(lockedRunbook);
  try {
    const handle = await client.workflow.start('failoverWorkflow', {
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
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [
        { key: RUNBOOK_KEY, value: runbook.id },
        { key: KIND_KEY, value: kind },
        { key: INITIATOR_KEY, value: options.initiator },
      ],
    });
    return { workflowId, runId: handle.firstExecutionRunId };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new CliError(
        'AlreadyRunning',
        `a run of ${lockedRunbook} is already open under its lock ${workflowId} (a failover, failback or drill); ` +
          `not starting another. Follow it with \`drctl status ${workflowId}\`.`,
        ExitCode.Refused,
      );
    }
    throw error;
  }
}

export type RunState =
  | { closed: false; progress: FailoverProgress }
  | { closed: true; result: FailoverResult }
  | { closed: true; result: undefined; status: string; message: string };

/**
 * Where a run stands: live progress while it runs, its recorded result once it has ended. Without `runId`, the
 * latest run with that workflow id (runs of one runbook share its lock id).
 */
export async function readRun(client: Client, workflowId: string, runId?: string): Promise<RunState> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const description = await handle.describe();
  if (description.status.name === 'RUNNING') {
    return { closed: false, progress: await handle.query<FailoverProgress>('progress') };
  }
  try {
    return { closed: true, result: await handle.result() };
  } catch (error) {
    const recorded = recordedResult(error);
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
function recordedResult(error: unknown): FailoverResult | undefined {
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

/**
 * What the failover a failback reverses recorded before it changed anything (the flags' values): the latest
 * failover run under the runbook's lock, or the run `runId` names. Refuses when there is none, or it still runs.
 */
export async function recordedFailover(
  client: Client,
  runbookId: string,
  runId?: string,
): Promise<RecordedFailover> {
  const workflowId = runLockId(runbookId);
  let chosen = runId;
  if (chosen === undefined) {
    let newest: { runId: string; startTime: Date } | undefined;
    const query = `WorkflowId = '${workflowId}' AND ${KIND_KEY.name} = 'failover'`;
    for await (const execution of client.workflow.list({ query })) {
      if (newest === undefined || execution.startTime > newest.startTime) newest = execution;
    }
    chosen = newest?.runId;
  }
  if (chosen === undefined) {
    throw new CliError(
      'NoRecordedFailover',
      `no failover of ${runbookId} is recorded under ${workflowId}: a failback sets each flag back to its value before ` +
        `the failover and will not guess it. Pass the failover's run with --from-run <run id> (drctl runs --runbook ${runbookId}).`,
      ExitCode.Refused,
    );
  }
  const state = await readRun(client, workflowId, chosen);
  if (!state.closed) {
    throw new CliError(
      'FailoverStillRunning',
      `the failover ${workflowId} (run ${chosen}) is still running; fail back once it has ended (drctl status ${workflowId})`,
      ExitCode.Refused,
    );
  }
  if (state.result === undefined) {
    throw new CliError(
      'NoRecordedFailover',
      `the failover ${workflowId} (run ${chosen}) ended ${state.status.toLowerCase()} without a result, so what it changed is unknown; pass another run with --from-run`,
      ExitCode.Refused,
    );
  }
  return { run: `${workflowId} run ${chosen}`, flagsBefore: flagsBeforeOf(state.result.timeline) };
}
