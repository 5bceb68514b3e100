import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { checkWorkerAccess } from '../auth/io/worker-access';
import { dataConverterOptions } from '../security/codec/data-converter';
import type { DrctlConfig } from './config';
import { createProviderPorts } from './provider-ports';
import { temporalConnectionOptions } from './temporal-connection-options';

/**
 * The composition root: configuration → provider clients → activities → a worker on drctl's task queue.
 * Resolves when the worker has shut down (SIGINT/SIGTERM, or `signal`).
 */
export async function runWorker(
  config: DrctlConfig,
  options: { signal?: AbortSignal; onReady?: () => void; onWarning?: (line: string) => void } = {},
): Promise<void> {
  const { namespace, taskQueue } = config.temporal;
  const access = checkWorkerAccess({
    ...config.access,
    injections: config.drill.injections,
    configSource: config.source ?? 'the worker configuration',
  });
  for (const file of access.broken) {
    options.onWarning?.(
      `runbook file ${file.source} is broken and will not run: ${file.message.replace(/\s*\n\s*/g, ' ')}`,
    );
  }
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const { ports, close } = createProviderPorts(config);
  const codec = dataConverterOptions(config);
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
