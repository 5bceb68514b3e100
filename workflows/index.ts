/** The worker's workflow bundle entry: every workflow, query and update drctl registers. */
export { failoverWorkflow, progressQuery } from './failover';
export { planWorkflow } from './plan';
export { abortUpdate, approveUpdate, decideUpdate, releaseSignal } from './operator-decision';
export { closeFollowUpUpdate, fenceFollowUpWorkflow, followUpQuery } from './fence-follow-up';
export { drillWorkflow } from './drill';
