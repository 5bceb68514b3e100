import { WorkflowNotFoundError } from '@temporalio/client';
import { releaseMemoKey, type RecordedRelease } from '../../common/held-release';
import { PermanentFailure, permanentFailure } from '../failures';
import type { HolderActivities } from './holder-contracts';
import type { RunRecordDeps } from './recorded-failover';

/**
 * A held failover reads its parent from Temporal itself (describe: the run's status and its memo), so a release
 * counts only when the parent recorded it, and a parent that ended without releasing is seen as ended.
 */
export function createHolderActivities(deps: RunRecordDeps | undefined): HolderActivities {
  return {
    readHolder: async ({ workflowId, runId, runbookId }) => {
      if (!deps)
        throw permanentFailure(
          PermanentFailure.ConfigurationMissing,
          'this worker has no Temporal client for reading the parent of a held run; it is built by the worker (worker/run-worker.ts)',
        );
      const handle = deps.temporal.workflow.getHandle(workflowId, runId, { followRuns: false });
      try {
        const described = await handle.describe();
        const release = described.memo?.[releaseMemoKey(runbookId)] as RecordedRelease | undefined;
        return { status: described.status.name, ...(release === undefined ? {} : { release }) };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { status: 'NOT_FOUND' };
        throw error;
      }
    },
  };
}
