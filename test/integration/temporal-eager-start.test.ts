import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { getStack } from './stack';

/**
 * The sandbox's Temporal server refuses eager workflow start: a client that starts a failover on drctl's queue gets
 * no workflow task to answer itself (with one it could start a fence follow-up as the failover's child).
 */
let connection: Connection;
beforeAll(async () => {
  connection = await Connection.connect({ address: getStack().temporal.address });
});
afterAll(() => connection.close());

test("GIVEN the sandbox's Temporal server WHEN a client starts a failoverWorkflow asking to run its first task eagerly THEN the run starts and the client gets no workflow task (before: the server handed it one)", async () => {
  const { namespace } = getStack().temporal;
  const workflowId = `eager-start-${randomUUID()}`;
  const response = await connection.workflowService.startWorkflowExecution({
    namespace,
    workflowId,
    workflowType: { name: 'failoverWorkflow' },
    taskQueue: { name: `no-worker-${randomUUID()}` },
    requestId: randomUUID(),
    identity: 'a client that would answer the task itself',
    requestEagerExecution: true,
  });
  try {
    expect(response.runId).toMatch(/\S/);
    expect(response.eagerWorkflowTask ?? undefined).toBeUndefined();
  } finally {
    await connection.workflowService.terminateWorkflowExecution({
      namespace,
      workflowExecution: { workflowId, runId: response.runId },
      reason: 'eager start test over',
    });
  }
});
