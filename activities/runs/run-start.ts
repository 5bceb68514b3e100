import { PermanentFailure, permanentFailure } from '../failures';
import type { RunRecordDeps } from './recorded-failover';
import type { RunStartActivities } from './run-start-contracts';
import { runStartedEvent } from './run-started-event';

export function createRunStartActivities(deps: RunRecordDeps | undefined): RunStartActivities {
  return {
    readRunStart: async ({ workflowId, runId }) => {
      if (!deps)
        throw permanentFailure(
          PermanentFailure.ConfigurationMissing,
          'this worker has no Temporal client for reading how a run was started; it is built by the worker (worker/run-worker.ts)',
        );
      const started = await runStartedEvent(deps.temporal, workflowId, runId);
      if (!started)
        throw permanentFailure(
          PermanentFailure.NotAuthorized,
          `Temporal knows no run ${runId} of ${workflowId}`,
        );
      return { workflowType: started.workflowType?.name ?? '', taskQueue: started.taskQueue?.name ?? '' };
    },
  };
}
