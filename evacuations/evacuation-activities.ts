import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { PermanentFailure, permanentFailure } from '../activities/failures';
import { heartbeat, sleep } from '../activities/poll-until';
import { failureTypeOf } from '../common/failure-type-of';
import { UpdateRefusal } from '../common/update-refusals';
import { watchHistory } from '../activities/runs/history-watch';
import { innermostMessage } from '../workflows/innermost-message';
import type { FailoverProgress, FailoverResult } from '../workflows/run-types';
import type { EvacuationActivities, RunSnapshot } from './evacuation-types';

/** A watch heartbeats this often while it waits on a child's history. */
const KEEP_ALIVE_MS = 5_000;
/**
 * How long a forwarded abort waits, within one attempt of its 1-minute activity, for a failover still verifying
 * its start (its earlier-use lookup retries for about 45 s), asking again this often.
 */
export const START_VERIFICATION_WAIT_MS = 45_000;
const START_VERIFICATION_POLL_MS = 500;

/** `TIMED_OUT` as "timed out". */
function statusInWords(status: string): string {
  return status.toLowerCase().replace(/_/g, ' ');
}

/**
 * The evacuation's activities over a Temporal client (the worker's own connection): watch a child failover,
 * abort one. Without a client (a worker built without one) they fail permanently, saying so.
 */
export function createEvacuationActivities(client: Client | undefined): EvacuationActivities {
  const requireClient = (): Client => {
    if (client === undefined) {
      throw permanentFailure(
        PermanentFailure.ConfigurationMissing,
        'this worker has no Temporal client for evacuations; run evacuations on a worker started by drctl worker',
      );
    }
    return client;
  };

  async function snapshot(workflowId: string, runId: string | undefined): Promise<RunSnapshot> {
    const handle = requireClient().workflow.getHandle(workflowId, runId);
    const description = await handle.describe();
    if (description.status.name === 'RUNNING') {
      const progress = await handle.query<FailoverProgress>('progress');
      return {
        status: progress.status,
        currentSteps: progress.currentSteps,
        stepsDone: progress.timeline.filter((entry) => entry.status !== 'running').length,
        totalSteps: progress.totalSteps,
        ...(progress.awaiting[0]
          ? {
              detail: `${progress.awaiting[0].kind === 'approval' ? 'approval' : 'decision'} needed at ${progress.awaiting[0].stepId}: drctl ${progress.awaiting[0].kind === 'approval' ? 'approve' : 'retry|skip|abort'} ${workflowId}`,
            }
          : {}),
      };
    }
    const result = await handle.result().then(
      (value: FailoverResult) => value,
      (error: { cause?: { details?: unknown[] } }) => error.cause?.details?.[0] as FailoverResult | undefined,
    );
    return {
      status: result?.status ?? 'closed',
      currentSteps: [],
      stepsDone: result ? result.timeline.filter((entry) => entry.status !== 'running').length : 0,
      totalSteps: result?.totalSteps ?? 0,
    };
  }

  const same = (a: RunSnapshot, b: RunSnapshot | undefined) =>
    b !== undefined &&
    a.status === b.status &&
    a.stepsDone === b.stepsDone &&
    a.detail === b.detail &&
    a.currentSteps.join(',') === b.currentSteps.join(',');

  return {
    async watchRun({ workflowId, runId, known }) {
      const current = await snapshot(workflowId, runId);
      if (!same(current, known) || (current.status !== 'running' && current.status !== 'paused'))
        return current;
      const alive = setInterval(() => heartbeat({ watching: workflowId }), KEEP_ALIVE_MS);
      try {
        for await (const news of watchHistory(requireClient(), workflowId, runId)) {
          if (!news.progressed) continue;
          const next = await snapshot(workflowId, runId);
          if (!same(next, known) || news.closed) return next;
        }
        return await snapshot(workflowId, runId);
      } finally {
        clearInterval(alive);
      }
    },

    async abortRun({ workflowId, runId, update }) {
      // The run the evacuation started, not whichever run holds the id by now (a failback started meanwhile).
      const handle = requireClient().workflow.getHandle(workflowId, runId);
      const verifiedBy = Date.now() + START_VERIFICATION_WAIT_MS;
      for (;;) {
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING')
          return { outcome: 'ended', detail: `it had ended (${statusInWords(description.status.name)})` };
        try {
          // One id per abort: a retry after an answer lost in transit gets the first attempt's outcome.
          await handle.executeUpdate('abort', {
            args: [update],
            updateId: `evacuation-abort-${update.signed.statement.nonce}`,
          });
          return { outcome: 'accepted' };
        } catch (error) {
          if (!(error instanceof WorkflowUpdateFailedError)) throw error;
          const refusal = failureTypeOf(error.cause);
          if (refusal === UpdateRefusal.RunEnded)
            return { outcome: 'ended', detail: innermostMessage(error) };
          if (refusal === UpdateRefusal.AbortUnderWay)
            return { outcome: 'aborting', detail: innermostMessage(error) };
          if (refusal !== UpdateRefusal.StartBeingVerified)
            return { outcome: 'refused', detail: innermostMessage(error) };
          // Not a no: the failover takes updates once its start is verified (its earlier-use lookup may retry).
          if (Date.now() >= verifiedBy) throw error;
          await sleep(START_VERIFICATION_POLL_MS);
        }
      }
    },

    async readFailoverResult({ workflowId, runId }) {
      const handle = requireClient().workflow.getHandle(workflowId, runId, { followRuns: false });
      return handle.result().then(
        (value: FailoverResult) => value,
        (error: { cause?: { details?: unknown[] } }) => {
          const detail = error.cause?.details?.[0] as FailoverResult | undefined;
          return detail?.timeline ? detail : null;
        },
      );
    },
  };
}
