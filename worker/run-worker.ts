import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { checkWorkerAccess } from '../auth/io/worker-access';
import type { DrctlConfig } from './config';
import { createProviderPorts } from './provider-ports';

/**
 * The composition root: configuration → provider clients → activities → a worker on drctl's task queue.
 * Resolves when the worker has shut down (SIGINT/SIGTERM, or `signal`).
 */
export async function runWorker(
  config: DrctlConfig,
  options: { signal?: AbortSignal; onReady?: () => void } = {},
): Promise<void> {
  const { address, namespace, taskQueue, apiKey, tls } = config.temporal;
  checkWorkerAccess({
    ...config.access,
    injections: config.drill.injections,
    configSource: config.source ?? 'the worker configuration',
  });
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
      activities: createActivities({
        ...ports,
        access: config.access,
        drillInjections: config.drill.injections,
      }),
    });
    options.signal?.addEventListener('abort', () => worker.shutdown(), { once: true });
    options.onReady?.();
    await worker.run();
  } finally {
    close();
    await connection.close();
  }
}
