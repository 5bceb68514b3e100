import { proxyActivities } from '@temporalio/workflow';

/** Schedules one activity on the workflow's own task queue and returns its answer. */
export async function oneActivity(): Promise<string> {
  const { answer } = proxyActivities<{ answer(): Promise<string> }>({ startToCloseTimeout: '30s' });
  return answer();
}
