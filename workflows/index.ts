/** The worker's workflow bundle entry: every workflow, query and update drctl registers. */
export { failoverWorkflow, progressQuery, progressSinceQuery } from './failover';
export { planWorkflow } from './plan';
export { abortUpdate, approveUpdate, decideUpdate } from './operator-decision';
export { drillWorkflow } from './drill';
export { evacuationWorkflow, evacuationProgressQuery } from './evacuation';
