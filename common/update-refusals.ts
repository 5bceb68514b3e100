/**
 * Why a run refused an operator's update, as the failure's type, where the sender acts on the reason: an
 * evacuation forwarding its abort tells a failover that has ended from one that said no. Pure data, so workflow
 * code can name them.
 */
export const UpdateRefusal = {
  /** The run's steps are over (it may still be closing): there is nothing left to act on. */
  RunEnded: 'RunEnded',
  /** Another abort is already under way in the run. */
  AbortUnderWay: 'AbortUnderWay',
  /** The run is still verifying its start against the access policy: ask again in a moment. */
  StartBeingVerified: 'StartBeingVerified',
} as const;
