import { durationToMs } from '../runbooks/duration';
import type { Runbook } from '../runbooks/schema';
import type { CriticalPathStep, ObjectiveVerdict } from './drill-types';
import type { TimelineEntry } from './run-types';

/** Pass/fail per objective with its margin; an objective that could not be measured fails. */
export function judgeObjectives(
  runbook: Runbook,
  measured: { rtoMs: number | null; rpoMs: number | null },
): ObjectiveVerdict[] {
  const verdict = (objective: 'RTO' | 'RPO', targetMs: number, value: number | null): ObjectiveVerdict => ({
    objective,
    targetMs,
    measuredMs: value ?? Number.NaN,
    marginMs: value === null ? Number.NaN : targetMs - value,
    passed: value !== null && value <= targetMs,
  });
  return [
    verdict('RTO', durationToMs(runbook.objectives.rto), measured.rtoMs),
    verdict('RPO', durationToMs(runbook.objectives.rpo), measured.rpoMs),
  ];
}

/**
 * Where the recovery time went: each failover step's offset from the injection, its duration, and its share
 * of the RTO. Steps of a parallel group overlap; their shares may sum to more than the group's wall time.
 */
export function criticalPath(
  timeline: TimelineEntry[],
  injectedAt: string,
  rtoMs: number | null,
): CriticalPathStep[] {
  const injected = Date.parse(injectedAt);
  return timeline
    .filter((entry) => entry.endedAt !== undefined)
    .map((entry) => {
      const durationMs = entry.durationMs ?? 0;
      return {
        stepId: entry.stepId,
        kind: entry.kind,
        startMs: Date.parse(entry.startedAt) - injected,
        durationMs,
        shareOfRto: rtoMs && rtoMs > 0 ? durationMs / rtoMs : 0,
      };
    });
}
