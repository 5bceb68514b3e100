import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { EvacuationProgress } from '../../evacuations/evacuation-types';
import { catalogDir, drctl } from './drctl-process';

/** A one-step runbook pointing one record at `value`, reviewed into the env's catalog. */
export function dnsRunbook(
  env: NodeJS.ProcessEnv,
  id: string,
  record: { name: string; type: 'A' | 'CNAME'; value: string },
  zone = 'sandbox.drctl.internal.',
  /** Waits at an approval step `go-ahead` first (holding its runbook's lock meanwhile). */
  options: { approvalFirst?: boolean } = {},
): void {
  const runbook = {
    id,
    title: `${id}: ${options.approvalFirst ? 'waits for an approval, then moves' : 'move'} ${record.name}`,
    owner: 'tests',
    objectives: { rto: '5m', rpo: '1m' },
    targets: {},
    steps: [
      ...(options.approvalFirst ? [{ id: 'go-ahead', kind: 'approval' }] : []),
      { id: 'switch-dns', kind: 'dns.switch', zone: { name: zone }, records: [{ ttl: 30, ...record }] },
    ],
  };
  writeFileSync(join(catalogDir(env), `${id}.json`), JSON.stringify(runbook));
}

/** An evacuation's progress (its result once ended), as `drctl status --output json` shows it. */
export async function evacuationStatus(
  env: NodeJS.ProcessEnv,
  workflowId: string,
): Promise<EvacuationProgress> {
  const status = await drctl(['status', workflowId, '--output', 'json'], env);
  expect(status.stderr).toBe('');
  return JSON.parse(status.stdout) as EvacuationProgress;
}

/** Once the run has finished a workflow task after its latest signal: whatever the signal did is done. */
export async function signalHandled(temporal: Client, workflowId: string): Promise<void> {
  for (;;) {
    const events = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const signalled = events
      .map((event) => Boolean(event.workflowExecutionSignaledEventAttributes))
      .lastIndexOf(true);
    if (signalled >= 0 && events.slice(signalled).some((event) => event.workflowTaskCompletedEventAttributes))
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The activities a closed run left running when it closed (scheduled, with no completion, failure, time-out or
 * cancellation recorded before its closing event), and how many of its workflow tasks failed.
 */
export async function stateAtClose(
  temporal: Client,
  workflowId: string,
): Promise<{ outstanding: string[]; failedTasks: number }> {
  const events = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const failedTasks = events.filter((event) => event.workflowTaskFailedEventAttributes).length;
  const outstanding = new Map<string, string>();
  for (const event of events) {
    const id = String(event.eventId);
    if (event.activityTaskScheduledEventAttributes) {
      outstanding.set(id, event.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
      continue;
    }
    const ended =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    if (ended) outstanding.delete(String(ended.scheduledEventId));
    const closed =
      event.workflowExecutionCompletedEventAttributes ??
      event.workflowExecutionFailedEventAttributes ??
      event.workflowExecutionCanceledEventAttributes ??
      event.workflowExecutionTerminatedEventAttributes ??
      event.workflowExecutionTimedOutEventAttributes ??
      event.workflowExecutionContinuedAsNewEventAttributes;
    if (closed) return { outstanding: [...outstanding.values()], failedTasks };
  }
  throw new Error(`${workflowId} has not closed`);
}
