import { ApplicationFailure } from '@temporalio/common';
import { regionUnreachableFailure, regionUnreachableReason } from '../aws-region';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);
const NOT_FOUND = new Set([
  'DBInstanceNotFound',
  'DBInstanceNotFoundFault',
  'DBClusterNotFoundFault',
  'DBClusterNotFound',
  'GlobalClusterNotFoundFault',
  'InvalidGroup.NotFound',
]);
const INVALID_STATE = new Set([
  'InvalidDBInstanceState',
  'InvalidDBInstanceStateFault',
  'InvalidDBClusterStateFault',
  'InvalidDBClusterState',
  'InvalidGlobalClusterStateFault',
]);

/** The error's AWS code (`name` in SDK v3). */
export function awsErrorCode(error: unknown): string | undefined {
  const e = error as { name?: string; Code?: string };
  return e?.Code ?? e?.name;
}

/**
 * Maps an RDS (or CloudWatch, EC2) SDK error to drctl's failures; `what` names the call and resource for the
 * message. A Region that does not answer is RegionUnreachable (retryable), named with `region`.
 */
export function toRdsFailure(error: unknown, what: string, region?: string): unknown {
  if (error instanceof ApplicationFailure) return error;
  const unreachable = regionUnreachableReason(error);
  if (unreachable !== undefined) return regionUnreachableFailure(region ?? 'unknown', what, unreachable);
  const code = awsErrorCode(error) ?? 'Error';
  const message = (error as Error)?.message ?? String(error);
  if (NOT_FOUND.has(code)) {
    return permanentFailure(
      PermanentFailure.NotFound,
      `${what}: not found (${message}); check the id and region in the runbook`,
    );
  }
  if (INVALID_STATE.has(code)) {
    return permanentFailure(
      PermanentFailure.InvalidState,
      `${what}: refused in its current state (${code}: ${message}); check its status in the RDS console, then re-run the step`,
    );
  }
  if (ACCESS_DENIED.has(code)) {
    return permanentFailure(
      PermanentFailure.AccessDenied,
      `${what}: access denied (${code}: ${message}); grant the worker's role this action`,
    );
  }
  if (THROTTLING.has(code))
    return transientFailure('Throttling', `${what}: throttled by RDS (${message}); retrying`);
  return error;
}
