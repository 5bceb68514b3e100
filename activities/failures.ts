import { ApplicationFailure } from '@temporalio/common';

/**
 * The closed list of failure types activities raise. Retry policies name the permanent ones so Temporal stops
 * retrying at once; the operator sees the type and a message that says what to do next.
 */
export const PermanentFailure = {
  NotFound: 'NotFound',
  ReplicaNotFound: 'ReplicaNotFound',
  ReplicaLagTooHigh: 'ReplicaLagTooHigh',
  ReplicaUnhealthy: 'ReplicaUnhealthy',
  AccessDenied: 'AccessDenied',
  InvalidState: 'InvalidState',
  ConfigurationMissing: 'ConfigurationMissing',
  BackupCheckFailed: 'BackupCheckFailed',
  PreflightFailed: 'PreflightFailed',
  ProbeFailed: 'ProbeFailed',
  FlagNotConfirmed: 'FlagNotConfirmed',
  UnsafeOrder: 'UnsafeOrder',
} as const;

export type PermanentFailureType = (typeof PermanentFailure)[keyof typeof PermanentFailure];

export const PERMANENT_FAILURE_TYPES: string[] = Object.values(PermanentFailure);

/** A permanent fault: not retried. `message` must say what went wrong, with the value, and what to do next. */
export function permanentFailure(type: PermanentFailureType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type, ...(details === undefined ? [] : [details]));
}

/** A transient fault worth retrying (throttling, 5xx, a database still coming up). */
export function transientFailure(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.retryable(message, type);
}
