/** The worker's workflow bundle entry: every workflow, query and update drctl registers. */
export { failoverWorkflow, progressQuery, progressSinceQuery } from './failover';
// Plans are of reviewed runbooks only, on a signed request: the raw planWorkflow (runbook by value) is not registered.
export { reviewedPlanWorkflow as planWorkflow } from './reviewed-plan';
export { abortUpdate, approveUpdate, decideUpdate, releaseSignal } from './operator-decision';
export { closeFollowUpUpdate, fenceFollowUpWorkflow, followUpQuery } from './fence-follow-up';
export { drillWorkflow } from './drill';
export { evidenceLedgerWorkflow, evidenceLedgerQuery, evidenceRunEndedSignal } from './evidence-ledger';
export { evacuationWorkflow, evacuationProgressQuery } from './evacuation';
export { evacuationDrillWorkflow } from './evacuation-drill';
