import type { Client } from '@temporalio/client';
import type { temporal as proto } from '@temporalio/proto';

/** gRPC's NOT_FOUND: Temporal knows no such run (or it was deleted). */
const GRPC_NOT_FOUND = 5;

/**
 * The first event of a run's history, its start as Temporal recorded it (type, task queue, parent, input), or
 * undefined when Temporal knows no such run. Any other failure to read it propagates.
 */
export async function runStartedEvent(
  temporal: Client,
  workflowId: string,
  runId: string,
): Promise<proto.api.history.v1.IWorkflowExecutionStartedEventAttributes | undefined> {
  const response = await temporal.workflowService
    .getWorkflowExecutionHistory({
      namespace: temporal.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 1,
      skipArchival: true,
    })
    .catch((error: unknown) => {
      if ((error as { code?: unknown } | undefined)?.code === GRPC_NOT_FOUND) return undefined;
      throw error;
    });
  return response?.history?.events?.[0]?.workflowExecutionStartedEventAttributes ?? undefined;
}
