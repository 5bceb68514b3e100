import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { DrctlConfig } from './config';
import { createProviderPorts } from './provider-ports';
import { shareAmongWorkers } from './worker-share';

/**
 * The composition root: configuration → provider clients → activities → a worker on drctl's task queue.
 * Resolves when the worker has shut down (SIGINT/SIGTERM, or `signal`).
 */
export async function runWorker(
  config: DrctlConfig,
  options: { signal?: AbortSignal; onReady?: () => void } = {},
): Promise<void> {
  const { address, namespace, taskQueue, apiKey, tls } = config.temporal;
  const connection = await NativeConnection.connect({
    address,
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(tls ? { tls: true } : {}),
  });
  const { ports, pacer, close } = createProviderPorts(config);
  const stopSharing = new AbortController();
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowsPath: require.resolve('../workflows'),
      activities: createActivities({ ...ports, temporal: new Client({ connection, namespace }) }),
      maxConcurrentActivityTaskExecutions: config.temporal.maxConcurrentActivities,
    });
    options.signal?.addEventListener('abort', () => worker.shutdown(), { once: true });
    void shareAmongWorkers(connection.workflowService, { namespace, taskQueue }, pacer, stopSharing.signal);
    options.onReady?.();
    await worker.run();
  } finally {
    stopSharing.abort();
    close();
    await connection.close();
  }
}
