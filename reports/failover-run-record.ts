import type { RunRecord } from '../auth/recorded-actions';
import type { FailoverResult } from '../workflows/run-types';

/** What a failover recorded about itself, for re-verifying its operators' signatures (report, evidence). */
export function failoverRunRecord(workflowId: string, result: FailoverResult): RunRecord {
  const authorization = result.authorization;
  return {
    runId: workflowId,
    runbookId: authorization?.runbookId ?? result.runbookId,
    ...(authorization === undefined
      ? {}
      : {
          runbookHash: authorization.runbookHash,
          policySha256: authorization.policySha256,
          ...(authorization.startedBy === undefined ? {} : { startedBy: authorization.startedBy }),
        }),
    operatorActions: result.operatorActions,
  };
}
