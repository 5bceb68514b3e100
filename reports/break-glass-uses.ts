import type { DrillResult } from '../workflows/drill-types';
import type { RunAuthorization } from '../workflows/run-types';

/** Every break-glass key a drill used: at its own start and in its failover. Each report shows them all, loudly. */
export function breakGlassUsesOf(
  result: Pick<DrillResult, 'authorization' | 'failover'>,
): RunAuthorization['breakGlassUses'] {
  return [
    ...(result.authorization?.breakGlassUses ?? []),
    ...(result.failover.authorization?.breakGlassUses ?? []),
  ];
}
