import { Context } from '@temporalio/activity';

/** The workflow run this activity serves, recorded with probe rows; a fixed label outside Temporal. */
export function currentRunId(): string {
  try {
    const info = Context.current().info;
    const run = info.workflowExecution;
    return run ? `${run.workflowId}/${run.runId}` : `activity-${info.activityId}`;
  } catch {
    return 'drctl-probe';
  }
}
