import type { Client } from '@temporalio/client';
import { CliError, ExitCode } from './cli-error';

/**
 * Refuses early when no drctl worker polls the task queue: the run would sit queued with nobody to do it,
 * which at 3 a.m. looks exactly like a hang.
 */
export async function requireWorker(client: Client, namespace: string, taskQueue: string): Promise<void> {
  const { temporal } = await import('@temporalio/proto');
  const response = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  if ((response.pollers ?? []).length === 0) throw noWorkerError(namespace, taskQueue);
}

export function noWorkerError(namespace: string, taskQueue: string): CliError {
  return new CliError(
    'NoWorker',
    `no drctl worker is polling task queue "${taskQueue}" in namespace "${namespace}". ` +
      'Start one with `drctl worker` (it needs the AWS, PostgreSQL and Unleash credentials), then retry.',
    ExitCode.Environment,
  );
}
