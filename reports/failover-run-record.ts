import type { RunRecord } from '../auth/recorded-actions';
import type { FailoverResult, RunAuthorization } from '../workflows/run-types';

/** What a run's authorization record gives a RunRecord, for re-verifying its operators' signatures. */
export function authorizationFields(
  authorization: RunAuthorization,
): Pick<RunRecord, 'runbookHash' | 'policySha256' | 'startedBy' | 'parent' | 'signedFor'> {
  return {
    runbookHash: authorization.runbookHash,
    policySha256: authorization.policySha256,
    ...(authorization.startedBy === undefined ? {} : { startedBy: authorization.startedBy }),
    ...(authorization.parent === undefined ? {} : { parent: authorization.parent }),
    ...(authorization.signedFor === undefined ? {} : { signedFor: authorization.signedFor }),
  };
}

/**
 * What a drill's failover recorded about itself (report, evidence). Its parent is the drill: failovers recorded
 * before they kept their parent are checked as the drill's.
 */
export function failoverRunRecord(workflowId: string, result: FailoverResult, drillId: string): RunRecord {
  const authorization = result.authorization;
  if (authorization === undefined)
    return { runId: workflowId, runbookId: result.runbookId, operatorActions: result.operatorActions };
  return {
    runId: workflowId,
    runbookId: authorization.runbookId,
    ...authorizationFields(authorization),
    parent: authorization.parent ?? drillId,
    operatorActions: result.operatorActions,
  };
}
