import { PermanentFailure, permanentFailure } from '../failures';
import type { RunRecordDeps } from './recorded-failover';
import type { RunStartActivities } from './run-start-contracts';

/** gRPC's NOT_FOUND: Temporal knows no such run. */
const GRPC_NOT_FOUND = 5;

export function createRunStartActivities(deps: RunRecordDeps | undefined): RunStartActivities {
  return {
    readRunStart: async ({ workflowId, runId }) => {
      if (!deps)
        throw permanentFailure(
          PermanentFailure.ConfigurationMissing,
          'this worker has no Temporal client for reading how a run was started; it is built by the worker (worker/run-worker.ts)',
        );
      const { temporal } = deps;
      const response = await temporal.workflowService
        .getWorkflowExecutionHistory({
          namespace: temporal.options.namespace,
          execution: { workflowId, runId },
          maximumPageSize: 1,
          skipArchival: true,
        })
        .catch((error: unknown) => {
          if ((error as { code?: unknown } | undefined)?.code === GRPC_NOT_FOUND)
            throw permanentFailure(
              PermanentFailure.NotAuthorized,
              `Temporal knows no run ${runId} of ${workflowId}`,
            );
          throw error;
        });
      const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
      if (!started)
        throw permanentFailure(
          PermanentFailure.NotAuthorized,
          `the history of run ${runId} of ${workflowId} does not begin with its start`,
        );
      return { workflowType: started.workflowType?.name ?? '', taskQueue: started.taskQueue?.name ?? '' };
    },
  };
}
