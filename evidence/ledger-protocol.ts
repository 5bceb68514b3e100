/**
 * The names the evidence ledger is reached by, and what a request carries. Plain data: the ledger workflow,
 * the activity that signals it, and `drctl evidence` all import this file.
 */

/** One ledger per Temporal namespace: the fixed workflow id is what makes it the chain's single writer. */
export const LEDGER_WORKFLOW_ID = 'drctl-evidence-ledger';
export const LEDGER_WORKFLOW_TYPE = 'evidenceLedgerWorkflow';
export const RUN_ENDED_SIGNAL = 'evidenceRunEnded';
export const LEDGER_QUERY = 'evidenceLedger';

/** "Run X has ended (or is about to): bundle its evidence once it is closed." */
export interface EvidenceRequest {
  workflowId: string;
  runId: string;
  workflowType: string;
  requestedAt: string;
}

export function requestKey(request: Pick<EvidenceRequest, 'workflowId' | 'runId'>): string {
  return `${request.workflowId}/${request.runId}`;
}
