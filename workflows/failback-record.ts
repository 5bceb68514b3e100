import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { RunRecordActivities } from '../activities/runs/run-record-contracts';
import { PERMANENT_FAILURE_TYPES, PermanentFailure } from '../common/failure-types';
import { innermostMessage } from './innermost-message';
import type { authorizeStart } from './run-authority';
import type { StartRequest } from './run-types';

/**
 * A failback restores each flag, and each DNS record set to a literal value, to what its failover recorded before
 * changing it: the worker reads that run's record (the latest failover of the runbook, or the run named by the
 * signed `detail.fromRun`).
 */
export function failbackRecord(request: StartRequest): Parameters<typeof authorizeStart>[2] {
  if (request?.runbook?.variant !== 'failback') return undefined;
  const runs = proxyActivities<RunRecordActivities>({
    startToCloseTimeout: '1m',
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
  });
  return async (initiator) => {
    const fromRun = initiator.signed.statement.detail?.fromRun;
    const recorded = await runs
      .readRecordedFailover({
        runbookId: request.runbook.id,
        ...(fromRun === undefined ? {} : { runId: fromRun }),
      })
      .catch((error: unknown) => {
        throw ApplicationFailure.nonRetryable(
          `failback refused, nothing was changed: ${innermostMessage(error)}`,
          PermanentFailure.NoRecordedFailover,
        );
      });
    return { recorded };
  };
}
