import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { dataConverterOptions } from '../security/codec/data-converter';
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
  const connection = await NativeConnection.connect({
    address,
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(tls ? { tls: true } : {}),
  });
  const { ports, close } = createProviderPorts(config);
  const codec = dataConverterOptions(config);
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowsPath: require.resolve('../workflows'),
      activities: createActivities(ports),
      ...codec.options,
    });
    options.signal?.addEventListener('abort', () => worker.shutdown(), { once: true });
    options.onReady?.();
    await worker.run();
  } finally {
    codec.close();
    close();
    await connection.close();
  }
}
