import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadOrCreateSettings } from '../../sandbox/sandbox-settings';
import { LOOPBACK } from '../../sandbox/sandbox-settings';
import { EAGER_ACTIVITIES_PER_WORKFLOW_TASK } from '../../worker/run-worker';
import { installQuietRuntime } from './quiet-runtime';
import { getStack } from './stack';

// Bundles a workflow and runs it on the real Temporal dev server.
jest.setTimeout(90_000);

/**
 * The sandbox's Temporal server hands a step's activity straight back with the reply to the workflow task that
 * scheduled it (eager dispatch), as drctl's worker asks: counted by the server itself, on its metrics endpoint.
 */
async function eagerDispatchesOn(taskQueue: string): Promise<number> {
  const { ports } = await loadOrCreateSettings();
  const metrics = await (await fetch(`http://${LOOPBACK}:${ports.temporalMetrics}/metrics`)).text();
  // The server's metric labels spell the queue with underscores.
  const label = `taskqueue="${taskQueue.replaceAll('-', '_')}"`;
  return metrics
    .split('\n')
    .filter((line) => line.startsWith('activity_eager_execution{') && line.includes(label))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** The server reports its counters every second or so: the count once it stops changing, up to 10 s. */
async function settledCount(read: () => Promise<number>): Promise<number> {
  const deadline = Date.now() + 10_000;
  let count = await read();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const next = await read();
    if (next === count && count > 0) return count;
    count = next;
  }
  return count;
}

describe('eager activity dispatch on the sandbox Temporal server', () => {
  beforeAll(() => installQuietRuntime());

  it("starts an activity with the workflow task's reply, not through a task-queue poll", async () => {
    // GIVEN a worker that asks for eager dispatch as drctl's does, on a queue of its own
    const stack = getStack();
    const taskQueue = `eager-${randomUUID()}`;
    const nativeConnection = await NativeConnection.connect({ address: stack.temporal.address });
    const connection = await Connection.connect({ address: stack.temporal.address });
    const client = new Client({ connection, namespace: stack.temporal.namespace });
    try {
      const worker = await Worker.create({
        connection: nativeConnection,
        namespace: stack.temporal.namespace,
        taskQueue,
        workflowsPath: resolve(__dirname, 'workflows/one-activity.ts'),
        activities: { answer: async () => 'answered' },
        maxEagerActivityReservationsPerWorkflowTask: EAGER_ACTIVITIES_PER_WORKFLOW_TASK,
      });
      // WHEN a workflow schedules one activity
      const answer = await worker.runUntil(
        client.workflow.execute('oneActivity', { taskQueue, workflowId: `eager-${randomUUID()}` }),
      );
      // THEN it ran, and the server counts it as dispatched eagerly on that queue
      expect(answer).toBe('answered');
      expect(await settledCount(() => eagerDispatchesOn(taskQueue))).toBe(1);
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });
});
