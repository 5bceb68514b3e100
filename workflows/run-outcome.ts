import type { TimelineEntry } from './run-types';

/** The error of the one timeline entry of a run its parent held under its lock and never released. */
export const NOT_RELEASED_ERROR = 'NotReleased';

/**
 * A failover's outcome: its status, except that one its parent (an evacuation, a drill) held under its lock and
 * never released is `not-released`, not failed: it changed nothing. `drctl runs`, `status` and the evidence
 * bundle all say it so.
 */
export function runOutcome<S extends string>(run: {
  status: S;
  timeline: readonly TimelineEntry[];
}): S | 'not-released' {
  const [only, ...more] = run.timeline;
  return run.status === 'failed' && more.length === 0 && only?.error?.type === NOT_RELEASED_ERROR
    ? 'not-released'
    : run.status;
}
