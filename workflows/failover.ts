import { ApplicationFailure, defineQuery, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { OUTCOME_KEY } from '../common/search-attributes';
import { FailoverRun } from './failover-run';
import { decideUpdate } from './operator-decision';
import type { FailoverInput, FailoverProgress, FailoverResult } from './run-types';

export const progressQuery = defineQuery<FailoverProgress>('progress');

/**
 * Runs a failover runbook. Succeeds with the timeline; when a step aborts the run, fails (so Temporal's own
 * status says so) with the same result as the failure's detail.
 */
export async function failoverWorkflow(input: FailoverInput): Promise<FailoverResult> {
  const run = new FailoverRun(input);
  setHandler(progressQuery, () => run.progress());
  setHandler(decideUpdate, (decision) => run.decide(decision), {
    validator: (decision) => run.validateDecision(decision),
  });

  const result = await run.execute();
  upsertSearchAttributes([{ key: OUTCOME_KEY, value: result.status }]);
  if (result.status === 'failed') {
    const failed = result.timeline.filter((entry) => entry.status === 'failed');
    const last = failed[failed.length - 1];
    throw ApplicationFailure.nonRetryable(
      `failover ${input.runbook.id} stopped at step ${last?.stepId ?? '?'}: ${last?.error?.message ?? 'failed'}`,
      'FailoverFailed',
      result,
    );
  }
  return result;
}
