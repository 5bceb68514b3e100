import type { ActivityOptions } from '@temporalio/workflow';
import { PERMANENT_FAILURE_TYPES } from '../common/failure-types';
import { durationToMs } from '../runbooks/duration';
import type { LeafStep, RetryPolicy } from '../runbooks/schema';

/**
 * A step's activity options. The heartbeat timeout is what lets a new worker take over a step whose worker
 * died: activities heartbeat while they wait, so a silent attempt is a dead one.
 */
export const HEARTBEAT_TIMEOUT = '15s';

export function activityOptionsFor(step: LeafStep): ActivityOptions {
  return {
    startToCloseTimeout: durationToMs(step.timeout),
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
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
