import { ChildWorkflowCancellationType } from '@temporalio/workflow';
import { hasPatch } from './patch-bundle';

/**
 * Runs that began after this take a cancel through Temporal (its UI or CLI) as an abort with rollback (a
 * failover), and pass no cancel on to the runs they started; earlier ones ended where they stood, asked their
 * children to cancel too, and replay so. One id for both: they came in the same release.
 */
export const TEMPORAL_CANCEL_ABORTS_PATCH = 'temporal-cancel-aborts';

/**
 * How a run's children take a cancel of the run through Temporal: not at all (a fence follow-up goes on fencing,
 * a drill's failover is not cut between fence and promote). Runs begun before the patch asked them to cancel
 * (the SDK's default), which replay must repeat.
 */
export function childCancellation(): ChildWorkflowCancellationType {
  return hasPatch(TEMPORAL_CANCEL_ABORTS_PATCH)
    ? ChildWorkflowCancellationType.ABANDON
    : ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED;
}
