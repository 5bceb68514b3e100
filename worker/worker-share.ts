import { temporal } from '@temporalio/proto';
import type { AwsPacer } from '../activities/aws-pacing/aws-pacer';

type WorkflowService = Pick<temporal.api.workflowservice.v1.WorkflowService, 'describeTaskQueue'>;

/** How often a worker recounts the workers of its task queue. */
export const SHARE_INTERVAL_MS = 15_000;

/** A task queue, and the identity this worker polls it under (counted whether or not it has polled yet). */
export interface SharedQueue {
  namespace: string;
  taskQueue: string;
  identity?: string;
}

/**
 * Keeps the pacer's share of the account's API budget at 1/N, N being the workers polling the task queue for
 * activities (Temporal lists each poller's identity), this one included. Workers are counted, not trusted to
 * coordinate: with N workers each paces at rate/N, so together they stay within the account's limits without a
 * shared store. A failed count keeps the last share. Returns when `signal` aborts.
 */
export async function shareAmongWorkers(
  service: WorkflowService,
  queue: SharedQueue,
  pacer: AwsPacer,
  signal: AbortSignal,
  intervalMs = SHARE_INTERVAL_MS,
): Promise<void> {
  while (!signal.aborted) {
    const workers = await countActivityWorkers(service, queue).catch(() => undefined);
    if (workers !== undefined) pacer.setShare(workers);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}

/**
 * Distinct identities polling `taskQueue` for activity tasks, this worker's (`queue.identity`) among them: a worker
 * counts before its first poll is listed, and counting only the others it took their share as well as its own
 * until its next count (two workers each at the whole budget). At least 1.
 */
export async function countActivityWorkers(service: WorkflowService, queue: SharedQueue): Promise<number> {
  const response = await service.describeTaskQueue({
    namespace: queue.namespace,
    taskQueue: { name: queue.taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  const identities = new Set((response.pollers ?? []).map((poller) => poller.identity ?? ''));
  if (queue.identity !== undefined) identities.add(queue.identity);
  return Math.max(1, identities.size);
}
