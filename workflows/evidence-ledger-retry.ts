/**
 * What the evidence ledger does when it could not see a request's run closed. Pure, so the ledger workflow can
 * bundle it and a unit test can call it.
 */
import { PermanentFailure } from '../common/failure-types';

/** Drop the request (its run will never close), or move it to the back and wait this long before the next one. */
export type AfterWaitFailure = { drop: true } | { drop: false; retryAfterMs: number };

/** The first wait after a failure; each failure in a row doubles it. */
export const WAIT_RETRY_FIRST_MS = 1_000;
/** The longest wait: a ledger blocked on Temporal resumes within this long of it answering again. */
export const WAIT_RETRY_MAX_MS = 5 * 60_000;

/**
 * `failuresInARow` counts this failure and the ones before it with no run seen closed in between. A run that is not
 * in Temporal (NotFound) is dropped; anything else (Temporal unreachable, a run still open past the activity's
 * timeout) is tried again after a growing wait: retried at once, every turn would add events to the ledger's
 * history until Temporal terminated it, queue and all.
 */
export function nextStepAfterWaitFailure(
  failureType: string | undefined,
  failuresInARow: number,
): AfterWaitFailure {
  if (failureType === PermanentFailure.NotFound) return { drop: true };
  const doublings = Math.max(0, failuresInARow - 1);
  return { drop: false, retryAfterMs: Math.min(WAIT_RETRY_FIRST_MS * 2 ** doublings, WAIT_RETRY_MAX_MS) };
}
