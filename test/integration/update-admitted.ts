import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** gRPC's NOT_FOUND: the server holds no such update (yet). */
const GRPC_NOT_FOUND = 5;

/**
 * Resolves once the Temporal server holds update `updateId` of `workflowId` (admitted: it waits for a worker to
 * take it), for tests that send an update while no worker runs and must know it arrived before one starts.
 * Before it arrives the server answers NOT_FOUND; asked again every 50 ms for up to `timeoutMs`.
 */
export async function untilUpdateAdmitted(
  client: Client,
  workflowId: string,
  updateId: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.workflowService.pollWorkflowExecutionUpdate({
        namespace: client.options.namespace,
        updateRef: { workflowExecution: { workflowId }, updateId },
        identity: 'test',
        waitPolicy: {
          lifecycleStage:
            temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage
              .UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED,
        },
      });
      return;
    } catch (error) {
      if ((error as { code?: unknown } | undefined)?.code !== GRPC_NOT_FOUND || Date.now() > deadline)
        throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
