/**
 * The activities a drill runs around its failover, with their timeouts, shared by the drill of a runbook and the
 * drill of an evacuation: pre-flight checks, the failure injection and data-loss read (once each), the canary and
 * the restoration probe (bounded by the runbook's own objectives, which may be hours).
 */
import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { CanaryStats, DrillActivities, RestorationOutcome } from '../activities/drill-contracts';
import { PERMANENT_FAILURE_TYPES } from '../common/failure-types';
import type { KindActivities } from '../kinds/registry';
import type { SqlProbe } from '../runbooks/schema';
import { HEARTBEAT_TIMEOUT } from './activity-options';
import { innermostMessage } from './innermost-message';

const CANARY_MAX_MS = 30 * 60_000;

export const drillChecks = proxyActivities<KindActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
});

export const drillOnce = proxyActivities<DrillActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 1 },
});

const canaryActivity = proxyActivities<DrillActivities>({
  startToCloseTimeout: CANARY_MAX_MS + 60_000,
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 1 },
});

/**
 * Starts the canary writing to `connection` until its writes have failed for a second (the failure took); resolves
 * to what it wrote, or to null after telling `onError` why it failed (the RPO is then not measured).
 */
export function startCanary(
  input: { drillId: string; connection: string; intervalMs: number },
  onError: (message: string) => void,
): Promise<CanaryStats | null> {
  return canaryActivity
    .runCanary({ ...input, stopAfterFailingMs: 1000, maxDurationMs: CANARY_MAX_MS })
    .catch((error: unknown) => {
      onError(innermostMessage(error));
      return null;
    });
}

/**
 * Probes through the switched DNS name until a write succeeds, for at most the runbook's RTO; null when none did
 * or the drill cancelled it (`scope.cancel()`).
 */
export function startRestorationProbe(
  probe: SqlProbe,
  drillId: string,
  rtoMs: number,
): { restoration: Promise<RestorationOutcome | null>; scope: CancellationScope } {
  // The probe may run as long as the RTO allows (objectives are often hours), not an activity's default bound.
  const prober = proxyActivities<DrillActivities>({
    startToCloseTimeout: rtoMs + 60_000,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 1 },
  });
  const scope = new CancellationScope();
  const restoration = scope
    .run(() => prober.probeUntilRestored({ probe, drillId, intervalMs: 100, maxWaitMs: rtoMs }))
    .catch(() => null);
  return { restoration, scope };
}
