import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { LOOPBACK, loadOrCreateSettings } from '../../sandbox/sandbox-settings';
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
  const metrics = (await (await fetch(`http://${LOOPBACK}:${ports.temporalMetrics}/metrics`)).text()).split(
    '\n',
  );
  const label = `taskqueue="${taskQueue}"`;
  // The queue must be in the server's metrics at all: a server that labels no metric by queue reads as "not found",
  // never as a count of 0.
  if (!metrics.some((line) => line.includes(label)))
    throw new Error(
      `the server's metrics name no task queue ${taskQueue}: they cannot say whether it was eager`,
    );
  return metrics
    .filter((line) => /^activity_eager_execution(_total)?\{/.test(line) && line.includes(label))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/**
 * The server reports its counters every second or so: the count once it stops changing (and is not 0), read again
 * while the queue is not in the metrics yet, up to 10 s.
 */
async function settledCount(read: () => Promise<number>): Promise<number> {
  const deadline = Date.now() + 10_000;
  let count: number | undefined;
  for (;;) {
    const next = await read().catch((error: unknown) => {
      if (Date.now() > deadline) throw error;
      return undefined;
    });
    if (next !== undefined && next === count && count > 0) return count;
    if (Date.now() > deadline && next !== undefined) return next;
    count = next;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('eager activity dispatch on the sandbox Temporal server', () => {
  beforeAll(() => installQuietRuntime());

  it("starts an activity with the workflow task's reply, not through a task-queue poll", async () => {
    // GIVEN a worker that asks for eager dispatch as drctl's does, on a queue of its own
    const stack = getStack();
    // No dashes: the server's metric labels would spell them as underscores.
    const taskQueue = `eager_${randomUUID().replaceAll('-', '_')}`;
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
