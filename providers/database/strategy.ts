import type {
  CheckResult,
  DatabasePlan,
  PlannedChange,
  PromoteOutcome,
  StepOutcome,
} from '../../activities/contracts';
import type { PostgresPort } from '../../activities/database/postgres-port';
import type { RdsPort } from '../../activities/database/rds-port';
import type { DatabaseTarget } from '../../runbooks/schema';

type OutcomeBody = Omit<StepOutcome, 'providerMs' | 'attempt' | 'compensation'>;

/**
 * The I/O half of a database provider: what `providers/database/<provider>/strategy.ts` exports as
 * `createStrategy(ports, poll)`. The database step kinds pick the strategy by `target.provider`.
 */
export interface DatabaseStrategy<T extends DatabaseTarget> {
  check(name: string, target: T): Promise<CheckResult[]>;
  planFence(name: string, target: T): Promise<PlannedChange[]>;
  planPromote(name: string, target: T): Promise<DatabasePlan>;
  /** The body of the fence step; `runStep` adds timing and the attempt. */
  fence(name: string, target: T): Promise<OutcomeBody>;
  /** The body of the unfence step (undo of `fence`, idempotent). */
  unfence(name: string, target: T): Promise<OutcomeBody>;
  promote(name: string, target: T): Promise<Omit<PromoteOutcome, 'providerMs' | 'attempt' | 'compensation'>>;
}

/** The clients every database strategy may use. */
export interface DatabasePorts {
  postgres: PostgresPort;
  rds: RdsPort;
}

/** What a provider's strategy module exports. */
export interface StrategyModule {
  createStrategy(ports: DatabasePorts, poll?: PollPacing): DatabaseStrategy<DatabaseTarget>;
}

export type TargetOf<P extends DatabaseTarget['provider']> = Extract<DatabaseTarget, { provider: P }>;

/** Poll pacing for waits (tests shorten it). Defaults are pollUntil's: 200 ms growing ×1.5 to 5 s. */
export interface PollPacing {
  initialIntervalMs?: number;
  maxIntervalMs?: number;
}
