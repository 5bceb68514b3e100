import { ApplicationFailure } from '@temporalio/common';
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
]);
const INVALID_STATE = new Set([
  'InvalidDBInstanceState',
  'InvalidDBInstanceStateFault',
  'InvalidDBClusterStateFault',
  'InvalidDBClusterState',
]);

/** The error's AWS code (`name` in SDK v3). */
export function awsErrorCode(error: unknown): string | undefined {
  const e = error as { name?: string; Code?: string };
  return e?.Code ?? e?.name;
}

/** Maps an RDS SDK error to drctl's failures; `what` names the call and resource for the message. */
export function toRdsFailure(error: unknown, what: string): unknown {
  if (error instanceof ApplicationFailure) return error;
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
      `${what}: access denied (${code}: ${message}); grant the worker's role this RDS action`,
    );
  }
  if (THROTTLING.has(code))
    return transientFailure('Throttling', `${what}: throttled by RDS (${message}); retrying`);
  return error;
}
