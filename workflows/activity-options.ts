import {
  ActivityCancellationType,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import { PERMANENT_FAILURE_TYPES } from '../common/failure-types';
import { durationToMs } from '../runbooks/duration';
import type { LeafStep, RetryPolicy } from '../runbooks/schema';

/**
 * A step's activity options. The heartbeat timeout is what lets a new worker take over a step whose worker
 * died: activities heartbeat while they wait, so a silent attempt is a dead one.
 */
export const HEARTBEAT_TIMEOUT = '15s';

/** The start-to-close timeout of a step whose kind makes its timeout optional (an approval's is its wait). */
const DEFAULT_STEP_TIMEOUT = '5m';

/**
 * An abort cancels a running step: its activity hears of it at its next heartbeat, and the run waits until the
 * activity has stopped (or finished what it had sent) before rolling back, so no late effect lands after the
 * undo.
 */
export function activityOptionsFor(step: LeafStep): ActivityOptions {
  return {
    startToCloseTimeout: durationToMs(step.timeout ?? DEFAULT_STEP_TIMEOUT),
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: retryOptions(step.retry),
  };
}

/** A step's reads before its effect as local activities: the step's timeout and retries, no heartbeats. */
export function localReadOptionsFor(step: LeafStep): LocalActivityOptions {
  return {
    startToCloseTimeout: durationToMs(step.timeout ?? DEFAULT_STEP_TIMEOUT),
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: retryOptions(step.retry),
  };
}

/** Read-only calls made while planning: short, few retries. */
export const PLAN_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '60s',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 3, initialInterval: '500ms', nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
};

function retryOptions(retry: RetryPolicy): ActivityOptions['retry'] {
  return {
    maximumAttempts: retry.maximumAttempts,
    initialInterval: durationToMs(retry.initialInterval),
    backoffCoefficient: retry.backoffCoefficient,
    maximumInterval: durationToMs(retry.maximumInterval),
    nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
  };
}
