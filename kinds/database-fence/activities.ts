import type { DatabaseInput } from '../../activities/contracts';
import type { ActivityPorts } from '../../activities/ports';
import { measuredChecks, runStep } from '../../activities/step-outcome';
import { createStrategies } from '../../providers/database/strategies';
import {
  stepContextOf,
  type DatabasePorts,
  type FenceUndoDetail,
  type PollPacing,
} from '../../providers/database/strategy';
import type { DatabaseFenceActivities, FenceUndo } from './definition';

export interface DatabaseActivityDeps extends DatabasePorts {
  /** Pacing of every wait (promotion, stop, failover). Default: pollUntil's 200 ms growing to 5 s. */
  poll?: PollPacing;
}

export function activitiesFromPorts(ports: ActivityPorts): DatabaseFenceActivities {
  return createFenceActivities({ postgres: ports.postgres, rds: ports.rds, lagMetrics: ports.lagMetrics });
}

/** Pre-flight of a database, and the fence of its old primary, dispatching on `target.provider`. */
export function createFenceActivities({
  poll = {},
  ...ports
}: DatabaseActivityDeps): DatabaseFenceActivities {
  const strategyFor = createStrategies(ports, poll);
  return {
    checkDatabase: (input: DatabaseInput) =>
      measuredChecks(() => strategyFor(input.target).check(input.name, input.target, stepContextOf(input))),
    planFence: (input: DatabaseInput) =>
      strategyFor(input.target).planFence(input.name, input.target, stepContextOf(input)),
    fenceDatabase: (input: DatabaseInput, recorded?: FenceUndoDetail) =>
      runStep(async () => {
        const { undo, ...outcome } = await strategyFor(input.target).fence(
          input.name,
          input.target,
          stepContextOf(input),
          recorded,
        );
        // Only a fence that changed something has an effect to undo.
        return outcome.changed
          ? {
              ...outcome,
              compensation: { database: input, ...(undo ? { detail: undo } : {}) } satisfies FenceUndo,
            }
          : outcome;
      }),
    unfenceDatabase: (input: DatabaseInput, detail?: FenceUndoDetail) =>
      runStep(() => strategyFor(input.target).unfence(input.name, input.target, detail ?? {})),
  };
}
