import type { Client } from '@temporalio/client';

/** What a wake-up of the history long poll saw: new workflow tasks completed, and whether the run closed. */
export interface HistoryNews {
  progressed: boolean;
  closed: boolean;
}

/**
 * Waits on a run's history with Temporal's long poll (`waitNewEvent`): the server answers as soon as new events
 * are written, so a watcher learns of every change when it happens, with no fixed polling interval. Yields once
 * per answer that carried events. State in a workflow changes only when one of its tasks completes, so
 * `progressed` says whether a query could see anything new. Ends after the run's close event.
 */
export async function* watchHistory(client: Client, workflowId: string): AsyncGenerator<HistoryNews> {
  const proto = await import('@temporalio/proto');
  // Loaded by tsx, a CommonJS module's exports arrive as `default`; compiled by tsc, `default` is the module too.
  const temporal = proto.temporal ?? (proto as unknown as { default: typeof proto }).default.temporal;
  const types = temporal.api.enums.v1.EventType;
  const closing = new Set<number>([
    types.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    types.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    types.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    types.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    types.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    types.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
  ]);
  let nextPageToken: Uint8Array | undefined;
  for (;;) {
    const response = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      ...(nextPageToken === undefined ? {} : { nextPageToken }),
      waitNewEvent: true,
      skipArchival: true,
    });
    const events = response.history?.events ?? [];
    nextPageToken =
      response.nextPageToken && response.nextPageToken.length > 0 ? response.nextPageToken : undefined;
    if (events.length === 0) {
      if (nextPageToken === undefined) return;
      continue;
    }
    const closed = events.some((event) => closing.has(event.eventType ?? 0));
    const progressed = events.some((event) => event.eventType === types.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    yield { progressed: progressed || closed, closed };
    if (closed) return;
  }
}
