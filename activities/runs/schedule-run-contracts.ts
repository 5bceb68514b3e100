/** What a drill asks the worker about the schedule whose standing statement started it. Types only. */

export interface ScheduledRunRequest {
  /** The schedule the standing statement names (its `runId`). */
  scheduleId: string;
  /** The drill's workflow id and first run id, as Temporal gave them to it. */
  workflowId: string;
  runId: string;
  /** When the standing statement was signed (ISO): the schedule must have been created then, not later. */
  signedAt: string;
}

export interface ScheduledRunAnswer {
  /** The schedule's own record (its running and recent actions) names this run. */
  startedBySchedule: boolean;
  /** Why not, when not: the schedule does not exist, or names other runs. */
  why?: string;
}

export interface ScheduleRunActivities {
  /**
   * Reads the schedule from Temporal and answers whether it started this run. A run started by any client with
   * the schedule's arguments carries the same standing statement; only the schedule's record tells them apart.
   */
  confirmScheduledRun(request: ScheduledRunRequest): Promise<ScheduledRunAnswer>;
}
