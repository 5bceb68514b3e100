import { ApplicationFailure, type Client, WorkflowFailedError } from '@temporalio/client';
import { runLockId } from '../../common/run-lock';
import { KIND_KEY } from '../../common/search-attributes';
import { flagsBeforeOf } from '../../kinds/flags-set/definition';
import type { FailoverResult } from '../../workflows/run-types';
import { PermanentFailure, permanentFailure } from '../failures';
import type { RunRecordActivities } from './run-record-contracts';

export interface RunRecordDeps {
  /** A client of the worker's namespace, with the payload codec (results are encrypted). */
  temporal: Client;
}

/**
 * The worker reads what a failover recorded, so a failback restores each flag to its value before that
 * failover from the run's own history, never from anything a client sends.
 */
export function createRunRecordActivities(deps: RunRecordDeps | undefined): RunRecordActivities {
  return {
    readRecordedFailover: async ({ runbookId, runId }) => {
      if (!deps)
        throw permanentFailure(
          PermanentFailure.ConfigurationMissing,
          'this worker has no Temporal client for reading recorded runs; it is built by the worker (worker/run-worker.ts)',
        );
      const { temporal } = deps;
      const workflowId = runLockId(runbookId);
      const chosen = runId ?? (await latestFailover(temporal, workflowId));
      if (chosen === undefined)
        throw permanentFailure(
          PermanentFailure.NotFound,
          `no failover of ${runbookId} is recorded under ${workflowId}: a failback sets each flag back to its value before ` +
            `the failover and will not guess it. Name the failover's run with --from-run <run id> (drctl runs --runbook ${runbookId}).`,
        );
      const result = await closedResult(temporal, workflowId, chosen);
      return { run: `${workflowId} run ${chosen}`, flagsBefore: [...flagsBeforeOf(result.timeline)] };
    },
  };
}

async function latestFailover(temporal: Client, workflowId: string): Promise<string | undefined> {
  let newest: { runId: string; startTime: Date } | undefined;
  const query = `WorkflowId = '${workflowId}' AND ${KIND_KEY.name} = 'failover'`;
  for await (const execution of temporal.workflow.list({ query })) {
    if (newest === undefined || execution.startTime > newest.startTime) newest = execution;
  }
  return newest?.runId;
}

async function closedResult(temporal: Client, workflowId: string, runId: string): Promise<FailoverResult> {
  const handle = temporal.workflow.getHandle(workflowId, runId, { followRuns: false });
  const description = await handle.describe().catch((error: unknown) => {
    throw permanentFailure(
      PermanentFailure.NotFound,
      `run ${runId} of ${workflowId} is not in Temporal (${(error as Error).message}); name a failover run of this runbook (drctl runs)`,
    );
  });
  if (description.status.name === 'RUNNING')
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `the failover ${workflowId} (run ${runId}) is still running; fail back once it has ended (drctl status ${workflowId})`,
    );
  try {
    return await handle.result();
  } catch (error) {
    // A failed or aborted failover carries its result (the timeline up to its end) as the failure's detail.
    const detail =
      error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure
        ? (error.cause.details?.[0] as FailoverResult | undefined)
        : undefined;
    if (detail?.timeline) return detail;
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `the failover ${workflowId} (run ${runId}) ended ${description.status.name.toLowerCase()} without a result, so what it changed is unknown; name another run with --from-run`,
    );
  }
}
