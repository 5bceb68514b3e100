import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { countActivityWorkers } from '../../worker/worker-share';
import { installQuietRuntime } from './quiet-runtime';
import { getStack } from './stack';

// Starts a worker on the real Temporal dev server and waits for its poll to be listed.
jest.setTimeout(60_000);

/**
 * How a worker counts the workers sharing its task queue (its share of the account's AWS budget is 1/N), against
 * the real Temporal server's list of pollers.
 */
let connection: NativeConnection;

beforeAll(async () => {
  installQuietRuntime();
  connection = await NativeConnection.connect({ address: getStack().temporal.address });
});

afterAll(async () => {
  await connection?.close();
});

/** Runs an activity worker on `taskQueue` (under `identity`, else the SDK's default) until `body` settles. */
async function whileWorkerPolls<T>(
  taskQueue: string,
  identity: string | undefined,
  body: (worker: Worker) => Promise<T>,
): Promise<T> {
  const worker = await Worker.create({
    connection,
    namespace: getStack().temporal.namespace,
    taskQueue,
    ...(identity === undefined ? {} : { identity }),
    activities: { noop: async () => undefined },
  });
  let answer: T | undefined;
  await worker.runUntil(async () => {
    answer = await body(worker);
  });
  return answer as T;
}

/** Counts until Temporal lists `identity` among the queue's pollers; resolves with the count it gave then. */
async function countOnceListed(taskQueue: string, listed: string, self?: string): Promise<number> {
  const queue = { namespace: getStack().temporal.namespace, taskQueue };
  for (let attempt = 0; ; attempt++) {
    const response = await connection.workflowService.describeTaskQueue({
      namespace: queue.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
    });
    if ((response.pollers ?? []).some((poller) => poller.identity === listed))
      return countActivityWorkers(connection.workflowService, { ...queue, identity: self });
    if (attempt > 100) throw new Error(`Temporal never listed ${listed} polling ${taskQueue}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('GIVEN another worker polling the queue WHEN a new worker counts before its own first poll THEN it counts two workers, not one (it took the whole budget while the other also did)', async () => {
  const taskQueue = `share-${randomUUID()}`;
  const count = await whileWorkerPolls(taskQueue, 'other-worker@host-a', () =>
    countOnceListed(taskQueue, 'other-worker@host-a', 'new-worker@host-b'),
  );
  expect(count).toBe(2);
});

test('GIVEN a worker alone on the queue WHEN it counts after its poll is listed THEN it counts itself once', async () => {
  const taskQueue = `share-${randomUUID()}`;
  const count = await whileWorkerPolls(taskQueue, 'only-worker@host-a', () =>
    countOnceListed(taskQueue, 'only-worker@host-a', 'only-worker@host-a'),
  );
  expect(count).toBe(1);
});

test('GIVEN a worker with the SDK’s default identity WHEN it counts under the identity its options name (as run-worker does) THEN Temporal lists its poll under that same identity: one worker', async () => {
  const taskQueue = `share-${randomUUID()}`;
  const count = await whileWorkerPolls(taskQueue, undefined, (worker) =>
    countOnceListed(taskQueue, worker.options.identity, worker.options.identity),
  );
  expect(count).toBe(1);
});
