import { executeChild, makeContinueAsNewFunc, workflowInfo } from '@temporalio/workflow';

/**
 * A test workflow of a foreign worker: starts a drctl fence follow-up as its own child on drctl's task queue,
 * naming itself as the failover (so the parent matches what the input names) unless `input.failover` names
 * another, and reports how the child ended.
 */
export async function foreignFollowUpParentWorkflow(
  taskQueue: string,
  input: Record<string, unknown>,
): Promise<string> {
  const { workflowId, runId } = workflowInfo();
  return outcomeOf(
    executeChild('fenceFollowUpWorkflow', {
      taskQueue,
      workflowId: `${workflowId}-child`,
      args: [{ failover: { workflowId, runId }, ...input }],
    }),
  );
}

/** The same foreign workflow under the type name drctl's failover has, on the foreign worker's own queue. */
export const failoverWorkflow = foreignFollowUpParentWorkflow;

/**
 * A foreign parent whose child (a foreign workflow on the foreign queue) continues as new into a drctl fence
 * follow-up on drctl's task queue: the follow-up's run then has this parent and is "continued from" a run.
 */
export async function foreignContinuingParentWorkflow(
  taskQueue: string,
  input: Record<string, unknown>,
): Promise<string> {
  const { workflowId, runId } = workflowInfo();
  return outcomeOf(
    executeChild(foreignContinuingChildWorkflow, {
      workflowId: `${workflowId}-child`,
      args: [taskQueue, { ...input, failover: { workflowId, runId } }],
    }),
  );
}

export async function foreignContinuingChildWorkflow(
  taskQueue: string,
  input: Record<string, unknown>,
): Promise<never> {
  return makeContinueAsNewFunc<(input: Record<string, unknown>) => Promise<never>>({
    workflowType: 'fenceFollowUpWorkflow',
    taskQueue,
  })(input);
}

async function outcomeOf(child: Promise<unknown>): Promise<string> {
  try {
    await child;
    return 'fenced';
  } catch (error) {
    const cause = (error as { cause?: { type?: string; message?: string } }).cause;
    return `${cause?.type}: ${cause?.message}`;
  }
}
