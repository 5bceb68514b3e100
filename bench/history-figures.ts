import type { Client } from '@temporalio/client';

/** A run's own figures from its recorded history: start to close, and how much of it had an activity running. */
export interface HistoryFigures {
  /** The workflow execution from its start event to its close event. */
  totalMs: number;
  /** Time during which at least one activity was running (overlaps counted once): the run's I/O, its ceiling. */
  activityMs: number;
}

export async function historyFigures(
  client: Client,
  workflowId: string,
  /** The run; its latest when left out. */
  runId?: string,
): Promise<HistoryFigures> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const at = (event: (typeof events)[number]) =>
    Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
  const started = new Map<string, number>();
  const intervals: Array<[number, number]> = [];
  for (const event of events) {
    const start = event.activityTaskStartedEventAttributes;
    if (start) started.set(String(start.scheduledEventId), at(event));
    const end =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    const from = end ? started.get(String(end.scheduledEventId)) : undefined;
    if (from !== undefined) intervals.push([from, at(event)]);
  }
  const first = events[0];
  const last = events[events.length - 1];
  return {
    totalMs: first && last ? at(last) - at(first) : 0,
    activityMs: unionLength(intervals),
  };
}

/** The length of the union of closed intervals. */
export function unionLength(intervals: ReadonlyArray<readonly [number, number]>): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let current: [number, number] | undefined;
  for (const [from, to] of sorted) {
    if (current && from <= current[1]) current[1] = Math.max(current[1], to);
    else {
      if (current) total += current[1] - current[0];
      current = [from, to];
    }
  }
  return total + (current ? current[1] - current[0] : 0);
}
