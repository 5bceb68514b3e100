import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import {
  HELD_REPORT_MEMO_KEY,
  releaseMemoKey,
  type RecordedHeldReport,
  type RecordedRelease,
} from '../../common/held-release';
import { PermanentFailure, permanentFailure } from '../failures';
import type { HolderActivities } from './holder-contracts';
import type { RunRecordDeps } from './recorded-failover';

/**
 * A held run and the run holding it read each other from Temporal itself (describe: the run's status and its
 * memo), so a release or a report counts only when the run that sends it recorded it, and a run that ended is
 * seen as ended.
 */
export function createHolderActivities(deps: RunRecordDeps | undefined): HolderActivities {
  const describe = async (
    workflowId: string,
    runId: string,
  ): Promise<WorkflowExecutionDescription | undefined> => {
    if (!deps)
      throw permanentFailure(
        PermanentFailure.ConfigurationMissing,
        'this worker has no Temporal client for reading the run that holds (or is held by) this one; it is built by the worker (worker/run-worker.ts)',
      );
    try {
      return await deps.temporal.workflow.getHandle(workflowId, runId, { followRuns: false }).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  };
  return {
    readHolder: async ({ workflowId, runId, runbookId }) => {
      const described = await describe(workflowId, runId);
      const readAtMs = Date.now();
      if (described === undefined) return { status: 'NOT_FOUND', readAtMs };
      const release = described.memo?.[releaseMemoKey(runbookId)] as RecordedRelease | undefined;
      return { status: described.status.name, ...(release === undefined ? {} : { release }), readAtMs };
    },
    readHeldReport: async ({ workflowId, runId }) => {
      const described = await describe(workflowId, runId);
      if (described === undefined) return { status: 'NOT_FOUND' };
      const report = described.memo?.[HELD_REPORT_MEMO_KEY] as RecordedHeldReport | undefined;
      return { status: described.status.name, ...(report === undefined ? {} : { report }) };
    },
  };
}
