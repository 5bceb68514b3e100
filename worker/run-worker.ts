import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { DrctlConfig } from './config';
import { createEvidencePorts } from './evidence-ports';
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
  const evidence = createEvidencePorts(config, new Client({ connection, namespace }));
  try {
    const activities = createActivities({ ...ports, evidence: evidence.ports });
    // Every worker also serves the evidence ledger's queue, so the ledger never waits on one worker.
    const queues = [...new Set([taskQueue, config.evidence.taskQueue])];
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
    const workers = await Promise.all(
      queues.map((queue) =>
        Worker.create({
          connection,
          namespace,
          taskQueue: queue,
          workflowBundle,
          activities,
        }),
      ),
    );
    options.signal?.addEventListener('abort', () => workers.forEach((worker) => worker.shutdown()), {
      once: true,
    });
    options.onReady?.();
    await Promise.all(workers.map((worker) => worker.run()));
  } finally {
    close();
    evidence.close();
    await connection.close();
  }
}
