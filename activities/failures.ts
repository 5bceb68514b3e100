import { ApplicationFailure } from '@temporalio/common';
import type { PermanentFailureType } from '../common/failure-types';

export {
  PermanentFailure,
  PERMANENT_FAILURE_TYPES,
  type PermanentFailureType,
} from '../common/failure-types';

/** A permanent fault: not retried. `message` must say what went wrong, with the value, and what to do next. */
export function permanentFailure(
  type: PermanentFailureType,
  message: string,
  details?: unknown,
): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type, ...(details === undefined ? [] : [details]));
}

/** A transient fault worth retrying (throttling, 5xx, a database still coming up). */
export function transientFailure(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.retryable(message, type);
}
