import type { Client } from '@temporalio/client';
import type { FenceFollowUpState } from '../workflows/fence-follow-up';
import type { FailoverProgress } from '../workflows/run-types';
import { terminalSafe } from './terminal-safe';

/** Reads one follow-up run (the latest run of its id unless `runId` names one): its live state or its result. */
export type FollowUpReader = (workflowId: string, runId?: string) => Promise<FenceFollowUpState>;

export type FollowUpStates = { followUpStates?: Record<string, FenceFollowUpState | { error: string }> };

/** The state of each follow-up a failover started (fencing an old primary it went on without), by id. */
export async function followUpStates(
  read: FollowUpReader,
  progress: Pick<FailoverProgress, 'followUps'>,
): Promise<FollowUpStates> {
  if (!progress.followUps?.length) return {};
  const states: Record<string, FenceFollowUpState | { error: string }> = {};
  for (const followUp of progress.followUps) {
    states[followUp.workflowId] = await read(followUp.workflowId).catch((error: unknown) => ({
      error: (error as Error).message.split('\n')[0] ?? 'unreadable',
    }));
  }
  return { followUpStates: states };
}

export function followUpLines({ followUpStates: states }: FollowUpStates): string {
  if (states === undefined) return '';
  return (
    Object.entries(states)
      .map(([workflowId, state]) =>
        'error' in state
          ? `follow-up ${workflowId}: ${terminalSafe(state.error)}`
          : followUpLine(workflowId, state),
      )
      .join('\n') + '\n'
  );
}

export function readFollowUpOverGrpc(client: Client): FollowUpReader {
  return async (workflowId, runId) => {
    const handle = client.workflow.getHandle(workflowId, runId);
    const description = await handle.describe();
    if (description.status.name === 'RUNNING') return handle.query<FenceFollowUpState>('followUp');
    return (await handle.result()) as FenceFollowUpState;
  };
}

export function followUpLine(workflowId: string, state: FenceFollowUpState): string {
  const head = `follow-up ${workflowId}: the old primary of ${state.database}`;
  switch (state.status) {
    case 'trying':
      return (
        `${head} is NOT fenced yet (the run went on unfenced, approved by ${terminalSafe(state.approvedBy.join(' and '))}); ` +
        `${state.attempts} attempt(s), last ${state.lastAttemptAt ?? 'never'}: ${terminalSafe(state.lastResult ?? '')}. ` +
        `It is fenced as soon as it answers; if it is gone for good: drctl close ${workflowId} --reason "…"`
      );
    case 'fenced':
      return `${head} is fenced (${state.endedAt ?? '?'}): ${terminalSafe(state.lastResult ?? '')}`;
    case 'closed':
      return `${head} was never fenced: follow-up closed by ${terminalSafe(state.closedBy?.operator ?? '?')} (${terminalSafe(state.closedBy?.reason ?? '')})`;
  }
}
