import type { DatabaseInput, Irreversible } from '../../activities/contracts';
import type { ActivityPorts } from '../../activities/ports';
import { runStep } from '../../activities/step-outcome';
import { createStrategies } from '../../providers/database/strategies';
import { stepContextOf } from '../../providers/database/strategy';
import type { DatabaseActivityDeps } from '../database-fence/activities';
import type { DatabasePromoteActivities } from './definition';

/** What undoes a promotion: nothing in place; the operator fails back instead. */
export const PROMOTION_IRREVERSIBLE: Irreversible = {
  kind: 'irreversible',
  reason:
    'a promoted replica cannot be demoted in place; fail back with drctl failback once the old primary is rebuilt as a replica',
};

export function activitiesFromPorts(ports: ActivityPorts): DatabasePromoteActivities {
  return createPromoteActivities({ postgres: ports.postgres, rds: ports.rds, lagMetrics: ports.lagMetrics });
}

/** The promotion of a database's replica, dispatching on `target.provider`. */
export function createPromoteActivities({
  poll = {},
  ...ports
}: DatabaseActivityDeps): DatabasePromoteActivities {
  const strategyFor = createStrategies(ports, poll);
  return {
    planPromote: (input: DatabaseInput) =>
      strategyFor(input.target).planPromote(input.name, input.target, stepContextOf(input)),
    promoteDatabase: (input: DatabaseInput) =>
      runStep(async () => ({
        ...(await strategyFor(input.target).promote(input.name, input.target, stepContextOf(input))),
        compensation: PROMOTION_IRREVERSIBLE,
      })),
  };
}
