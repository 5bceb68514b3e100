import { ScheduleNotFoundError, type ScheduleDescription } from '@temporalio/client';
import { heartbeat, sleep } from '../poll-until';
import { STATEMENT_MAX_AGE_MS, STATEMENT_MAX_SKEW_MS } from '../../auth/operator-authority';
import { PermanentFailure, permanentFailure } from '../failures';
import type { RunRecordDeps } from './recorded-failover';
import type { ScheduleRunActivities, ScheduledRunAnswer } from './schedule-run-contracts';

/**
 * How long a run looks for itself in its schedule's record. The scheduler records an action once the start it
 * asked for returned, so a run's first task can read the schedule a moment before it is named there.
 */
const RECORD_LAG_ALLOWANCE_MS = 15_000;
const FIRST_INTERVAL_MS = 200;
const MAX_INTERVAL_MS = 2_000;

/**
 * A schedule's standing statement is checked against the schedule itself: the run must be one of the actions
 * the schedule took (running, or recent), by workflow id and first run id.
 */
export function createScheduleRunActivities(
  deps: RunRecordDeps | undefined,
  options: { recordLagAllowanceMs?: number } = {},
): ScheduleRunActivities {
  const allowance = options.recordLagAllowanceMs ?? RECORD_LAG_ALLOWANCE_MS;
  return {
    confirmScheduledRun: async ({ scheduleId, workflowId, runId, signedAt }) => {
      if (!deps)
        throw permanentFailure(
          PermanentFailure.ConfigurationMissing,
          "this worker has no Temporal client for reading a drill's schedule; it is built by the worker (worker/run-worker.ts)",
        );
      const handle = deps.temporal.schedule.getHandle(scheduleId);
      const deadline = Date.now() + allowance;
      let interval = FIRST_INTERVAL_MS;
      for (;;) {
        let described: ScheduleDescription;
        try {
          described = await handle.describe();
        } catch (error) {
          if (error instanceof ScheduleNotFoundError)
            return {
              startedBySchedule: false,
              why: `schedule ${scheduleId} does not exist (deleted, or never created)`,
            };
          throw error;
        }
        const recreated = createdLongAfter(described, signedAt);
        if (recreated !== undefined) return { startedBySchedule: false, why: recreated };
        const answer = answerFrom(described, scheduleId, workflowId, runId, allowance);
        if (answer.startedBySchedule || Date.now() >= deadline) return answer;
        heartbeat({ scheduleId, lookingFor: workflowId });
        await sleep(interval);
        interval = Math.min(interval * 2, MAX_INTERVAL_MS);
      }
    },
  };
}

/**
 * drctl creates a schedule right after its operator signs the `schedule create` statement. A schedule created
 * later under the same id carries a statement taken from the one before (deleted, or never drctl's): anyone who
 * may create schedules could otherwise run drills under its signer's name for as long as the signer holds `drill`.
 */
function createdLongAfter(described: ScheduleDescription, signedAt: string): string | undefined {
  const signedMs = Date.parse(signedAt);
  const createdMs = described.info.createdAt.getTime();
  if (!Number.isNaN(signedMs) && createdMs - signedMs <= STATEMENT_MAX_AGE_MS + STATEMENT_MAX_SKEW_MS)
    return undefined;
  return `schedule ${described.scheduleId} was created at ${described.info.createdAt.toISOString()}, not when its statement was signed (${signedAt}): it is not the schedule the statement created`;
}

function answerFrom(
  described: ScheduleDescription,
  scheduleId: string,
  workflowId: string,
  runId: string,
  allowanceMs: number,
): ScheduledRunAnswer {
  const taken = [
    ...described.info.runningActions,
    ...described.info.recentActions.map((result) => result.action),
  ];
  const isThisRun = taken.some(
    (action) => action.workflow.workflowId === workflowId && action.workflow.firstExecutionRunId === runId,
  );
  if (isThisRun) return { startedBySchedule: true };
  return {
    startedBySchedule: false,
    why: `schedule ${scheduleId}'s record of the runs it started (${taken.length} running or recent) does not name ${workflowId} run ${runId}, after ${allowanceMs / 1000} s`,
  };
}
