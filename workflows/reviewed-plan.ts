import { failbackRecord } from './failback-record';
import { CHECKS_ONCE_PATCH, planWorkflow } from './plan';
import { authorizeStart } from './run-authority';
import type { PlanResult, StartRequest } from './run-types';
import { decidePatchesAtStart } from './patches-at-start';
import { hasPatch } from './patch-bundle';

/** A plan, with the reviewed runbook's hash it was made against and who asked for it. */
export type ReviewedPlanResult = PlanResult & {
  runbookHash: string;
  plannedBy: string;
  policySha256: string;
};

/**
 * `drctl plan` on the worker: a signed `plan` statement checked against the access policy, the runbook from
 * the worker's reviewed catalog by id and hash, then the plan (which changes nothing).
 */
export async function reviewedPlanWorkflow(request: StartRequest): Promise<ReviewedPlanResult> {
  decidePatchesAtStart();
  // Asked in the first task, before the start's local activities, and kept (as the failover's patches are).
  const checksOnce = hasPatch(CHECKS_ONCE_PATCH);
  const { runbook, initiator, authorization } = await authorizeStart(
    request,
    { actions: ['plan'] },
    failbackRecord(request),
  );
  const plan = await planWorkflow(runbook, { checksOnce });
  return {
    ...plan,
    runbookHash: authorization.runbookHash,
    plannedBy: initiator.owner,
    policySha256: authorization.policySha256,
  };
}
