import type { Compensation, DatabaseInput, DrctlActivities } from '../contracts';
import { runStep } from '../step-outcome';
import type { DatabaseTarget } from '../../runbooks/schema';
import { createAuroraClusterStrategy } from './aurora-cluster-strategy';
import type { DatabaseStrategy, PollPacing } from './database-strategy';
import type { PostgresPort } from './postgres-port';
import { createPostgresStrategy } from './postgres-strategy';
import { createRdsInstanceStrategy } from './rds-instance-strategy';
import type { RdsPort } from './rds-port';

export interface DatabaseActivityDeps {
  postgres: PostgresPort;
  rds: RdsPort;
  /** Pacing of every wait (promotion, stop, failover). Default: pollUntil's 200 ms growing to 5 s. */
  poll?: PollPacing;
}

export type DatabaseActivities = Pick<
  DrctlActivities,
  'checkDatabase' | 'planFence' | 'planPromote' | 'fenceDatabase' | 'unfenceDatabase' | 'promoteDatabase'
>;

/** What undoes a promotion: nothing in place; the operator fails back instead. */
export const PROMOTION_IRREVERSIBLE: Compensation = {
  kind: 'irreversible',
  reason:
    'a promoted replica cannot be demoted in place; fail back with drctl failback once the old primary is rebuilt as a replica',
};

/** The database activities, dispatching on `target.provider` to one strategy per provider. */
export function createDatabaseActivities({
  postgres,
  rds,
  poll = {},
}: DatabaseActivityDeps): DatabaseActivities {
  const strategies = {
    postgres: createPostgresStrategy(postgres, poll),
    'rds-instance': createRdsInstanceStrategy(rds, poll),
    'aurora-cluster': createAuroraClusterStrategy(rds, poll),
  };
  // The union of targets cannot index a map of differently typed strategies; each entry matches its provider.
  const strategyFor = (target: DatabaseTarget) =>
    strategies[target.provider] as DatabaseStrategy<DatabaseTarget>;

  return {
    checkDatabase: ({ name, target }: DatabaseInput) => strategyFor(target).check(name, target),
    planFence: ({ name, target }: DatabaseInput) => strategyFor(target).planFence(name, target),
    planPromote: ({ name, target }: DatabaseInput) => strategyFor(target).planPromote(name, target),
    fenceDatabase: (input: DatabaseInput) =>
      runStep(async () => {
        const outcome = await strategyFor(input.target).fence(input.name, input.target);
        // Only a fence that changed something has an effect to undo.
        return outcome.changed
          ? { ...outcome, compensation: { kind: 'database.unfence', database: input } satisfies Compensation }
          : outcome;
      }),
    unfenceDatabase: ({ name, target }: DatabaseInput) =>
      runStep(() => strategyFor(target).unfence(name, target)),
    promoteDatabase: ({ name, target }: DatabaseInput) =>
      runStep(async () => ({
        ...(await strategyFor(target).promote(name, target)),
        compensation: PROMOTION_IRREVERSIBLE,
      })),
  };
}
