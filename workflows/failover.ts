import { ApplicationFailure, defineQuery, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { OUTCOME_KEY } from '../common/search-attributes';
import { FailoverRun } from './failover-run';
import { abortUpdate, approveUpdate, decideUpdate, releaseSignal } from './operator-decision';
import type { FailoverInput, FailoverProgress, FailoverResult } from './run-types';

export const progressQuery = defineQuery<FailoverProgress>('progress');

/**
 * Runs a failover runbook. Succeeds with the timeline; when a step stops the run or an operator aborts it,
 * fails (so Temporal's own status says so) with the same result as the failure's detail.
 */
export async function failoverWorkflow(input: FailoverInput): Promise<FailoverResult> {
  const run = new FailoverRun(input);
  setHandler(progressQuery, () => run.progress());
  setHandler(decideUpdate, (decision) => run.decide(decision), {
    validator: (decision) => run.validateDecision(decision),
  });
  setHandler(approveUpdate, (approval) => run.approve(approval), {
    validator: (approval) => run.validateApproval(approval),
  });
  setHandler(abortUpdate, (request) => run.abort(request), {
    validator: (request) => run.validateAbort(request),
  });
  setHandler(releaseSignal, (request) => run.release(request));

  const result = await run.execute();
  upsertSearchAttributes([{ key: OUTCOME_KEY, value: result.status }]);
  if (result.status === 'aborted') {
    const undone = (result.rollback ?? []).filter((entry) => entry.status === 'undone').length;
    throw ApplicationFailure.nonRetryable(
      `failover ${input.runbook.id} aborted by an operator; ` +
        (result.rollback
          ? `${undone} of ${result.rollback.length} completed step(s) undone`
          : 'no rollback, as asked'),
      'FailoverAborted',
      result,
    );
  }
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
