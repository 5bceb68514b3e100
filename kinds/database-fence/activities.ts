import type { DatabaseInput } from '../../activities/contracts';
import type { ActivityPorts } from '../../activities/ports';
import { runStep } from '../../activities/step-outcome';
import { createStrategies } from '../../providers/database/strategies';
import type { DatabasePorts, PollPacing } from '../../providers/database/strategy';
import type { DatabaseFenceActivities, FenceUndo } from './definition';

export interface DatabaseActivityDeps extends DatabasePorts {
  /** Pacing of every wait (promotion, stop, failover). Default: pollUntil's 200 ms growing to 5 s. */
  poll?: PollPacing;
}

export function activitiesFromPorts(ports: ActivityPorts): DatabaseFenceActivities {
  return createFenceActivities({ postgres: ports.postgres, rds: ports.rds });
}

/** Pre-flight of a database, and the fence of its old primary, dispatching on `target.provider`. */
export function createFenceActivities({
  poll = {},
  ...ports
}: DatabaseActivityDeps): DatabaseFenceActivities {
  const strategyFor = createStrategies(ports, poll);
  return {
    checkDatabase: ({ name, target }: DatabaseInput) => strategyFor(target).check(name, target),
    planFence: ({ name, target }: DatabaseInput) => strategyFor(target).planFence(name, target),
    fenceDatabase: (input: DatabaseInput) =>
      runStep(async () => {
        const outcome = await strategyFor(input.target).fence(input.name, input.target);
        // Only a fence that changed something has an effect to undo.
        return outcome.changed
          ? { ...outcome, compensation: { database: input } satisfies FenceUndo }
          : outcome;
      }),
    unfenceDatabase: ({ name, target }: DatabaseInput) =>
      runStep(() => strategyFor(target).unfence(name, target)),
  };
}
