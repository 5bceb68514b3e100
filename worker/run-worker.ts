import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { DrctlConfig } from './config';
import { createProviderPorts } from './provider-ports';

/**
 * The composition root: configuration → provider clients → activities → a worker on drctl's task queue.
 * Resolves when the worker has shut down (SIGINT/SIGTERM, or `signal`).
 */
/** The longest a running activity goes without hearing of an abort (its heartbeats are sent at least this often). */
export const ABORT_REACHES_ACTIVITY_WITHIN = '2s';

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
  const { ports, close } = createProviderPorts(config);
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowsPath: require.resolve('../workflows'),
      activities: createActivities(ports),
      // An abort reaches a running activity with the answer to its next heartbeat: send them often enough
      // that a long wait (a promotion, INSYNC) stops within seconds, not the default 80 % of the timeout.
      maxHeartbeatThrottleInterval: ABORT_REACHES_ACTIVITY_WITHIN,
    });
    options.signal?.addEventListener('abort', () => worker.shutdown(), { once: true });
    options.onReady?.();
    await worker.run();
  } finally {
    close();
    await connection.close();
  }
}
