import type { DatabaseInput, DrctlActivities } from '../contracts';
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
  'checkDatabase' | 'planFence' | 'planPromote' | 'fenceDatabase' | 'promoteDatabase'
>;

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
    fenceDatabase: ({ name, target }: DatabaseInput) =>
      runStep(() => strategyFor(target).fence(name, target)),
    promoteDatabase: ({ name, target }: DatabaseInput) =>
      runStep(() => strategyFor(target).promote(name, target)),
  };
}
