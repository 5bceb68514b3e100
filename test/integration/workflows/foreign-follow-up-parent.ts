import { executeChild, workflowInfo } from '@temporalio/workflow';

/**
 * A test workflow of a foreign worker: starts a drctl fence follow-up as its own child on drctl's task queue,
 * naming itself as the failover (so the parent matches what the input names), and reports how the child ended.
 */
export async function foreignFollowUpParentWorkflow(
  taskQueue: string,
  input: Record<string, unknown>,
): Promise<string> {
  const { workflowId, runId } = workflowInfo();
  try {
    await executeChild('fenceFollowUpWorkflow', {
      taskQueue,
      workflowId: `${workflowId}-child`,
      args: [{ ...input, failover: { workflowId, runId } }],
    });
    return 'fenced';
  } catch (error) {
    const cause = (error as { cause?: { type?: string; message?: string } }).cause;
    return `${cause?.type}: ${cause?.message}`;
  }
}
