import { PermanentFailure } from '../../common/failure-types';
import {
  WAIT_RETRY_FIRST_MS,
  WAIT_RETRY_MAX_MS,
  nextStepAfterWaitFailure,
} from '../../workflows/evidence-ledger-retry';

/**
 * The ledger once moved a request it could not see closed to the back of its queue and waited for it again at
 * once: a run missing from Temporal made it spin, ~6 history events a turn, until Temporal terminated it at
 * 51,200 events and every queued request was lost.
 */

describe('what the ledger does after a failed wait for a run to close', () => {
  it('GIVEN the run is not in Temporal THEN its request is dropped', () => {
    expect(nextStepAfterWaitFailure(PermanentFailure.NotFound, 1)).toEqual({ drop: true });
    expect(nextStepAfterWaitFailure(PermanentFailure.NotFound, 40)).toEqual({ drop: true });
  });

  it.each([
    ['Temporal unreachable', 'Error'],
    ['the wait timing out', undefined],
    ['the worker missing its evidence setup', PermanentFailure.ConfigurationMissing],
  ])('GIVEN %s THEN the request is kept and tried again after a wait', (_why, type) => {
    expect(nextStepAfterWaitFailure(type, 1)).toEqual({ drop: false, retryAfterMs: WAIT_RETRY_FIRST_MS });
  });

  it('GIVEN failures in a row THEN the wait doubles, up to a few minutes and no more', () => {
    const waits = [1, 2, 3, 4, 10, 50, 5000].map(
      (failures) => (nextStepAfterWaitFailure('Error', failures) as { retryAfterMs: number }).retryAfterMs,
    );

    expect(waits).toEqual([
      1_000,
      2_000,
      4_000,
      8_000,
      WAIT_RETRY_MAX_MS,
      WAIT_RETRY_MAX_MS,
      WAIT_RETRY_MAX_MS,
    ]);
    expect(WAIT_RETRY_MAX_MS).toBeLessThanOrEqual(5 * 60_000);
  });
});
