import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { WORKFLOW_CODE } from './workflow-bundle';
import { createActivities } from '../activities';
import { checkWorkerAccess } from '../auth/io/worker-access';
import { dataConverterOptions } from '../security/codec/data-converter';
import type { DrctlConfig } from './config';
import { createEvidencePorts } from './evidence-ports';
import { createProviderPorts } from './provider-ports';
import { shareAmongWorkers } from './worker-share';
import { temporalConnectionOptions } from './temporal-connection-options';
import { TemporalUnreachableError } from './temporal-unreachable-error';

/** The longest a running activity goes without hearing of an abort (its heartbeats are sent at least this often). */
export const ABORT_REACHES_ACTIVITY_WITHIN = '2s';

/**
 * How many activities a workflow task's reply may hand straight back to this worker (the SDK's default is 3), where
 * the server dispatches eagerly (`system.enableActivityEagerExecution`, off by default): a run's parallel reads (a
 * pre-flight has one per target) then all start at once rather than waiting for a poll. The sandbox leaves it off:
 * on 2 cores it spared ~150 ms of waits for a poll per failover, and the failover's total did not move.
 */
export const EAGER_ACTIVITIES_PER_WORKFLOW_TASK = 32;

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
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal)).catch(
    (error: unknown) => {
      throw new TemporalUnreachableError(config.temporal.address, Boolean(config.temporal.tls), error);
    },
  );
  const { ports, pacer, close } = createProviderPorts(config);
  const stopSharing = new AbortController();
  const codec = dataConverterOptions(config);
  // Evidence and evacuation activities read runs through this client: it must decode what the codec encrypted.
  const client = new Client({ connection, namespace, ...codec.options });
  const evidence = createEvidencePorts(config, client);
  try {
    const activities = createActivities({
      ...ports,
      access: config.access,
      drillInjections: config.drill.injections,
      evidence: evidence.ports,
      temporal: client,
      runs: { temporal: client },
    });
    // Every worker also serves the evidence ledger's queue, so the ledger never waits on one worker.
    const queues = [...new Set([taskQueue, config.evidence.taskQueue])];
    // A prebuilt bundle carries its converters: the workflow sandbox loads the failure converter (failure text
    // into encrypted payloads) from the bundle, not from the worker's dataConverter.
    const { failureConverterPath, payloadConverterPath } = codec.options.dataConverter ?? {};
    const workflowBundle = await bundleWorkflowCode({
      ...WORKFLOW_CODE,
      ...(failureConverterPath === undefined ? {} : { failureConverterPath }),
      ...(payloadConverterPath === undefined ? {} : { payloadConverterPath }),
    });
    const workers = await Promise.all(
      queues.map((queue) =>
        Worker.create({
          connection,
          namespace,
          taskQueue: queue,
          workflowBundle,
          activities,
          maxConcurrentActivityTaskExecutions: config.temporal.maxConcurrentActivities,
          maxEagerActivityReservationsPerWorkflowTask: EAGER_ACTIVITIES_PER_WORKFLOW_TASK,
          // An abort reaches a running activity with the answer to its next heartbeat: send them often enough
          // that a long wait (a promotion, INSYNC) stops within seconds, not the default 80 % of the timeout.
          maxHeartbeatThrottleInterval: ABORT_REACHES_ACTIVITY_WITHIN,
          ...codec.options,
        }),
      ),
    );
    options.signal?.addEventListener('abort', () => workers.forEach((worker) => worker.shutdown()), {
      once: true,
    });
    void shareAmongWorkers(
      connection.workflowService,
      // Its poll is not listed yet when the first count is made: counted by identity, it takes no share twice.
      { namespace, taskQueue, identity: workers[0]?.options.identity },
      pacer,
      stopSharing.signal,
    );
    options.onReady?.();
    await Promise.all(workers.map((worker) => worker.run()));
  } finally {
    stopSharing.abort();
    codec.close();
    close();
    evidence.close();
    await connection.close();
  }
}
