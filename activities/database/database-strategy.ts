import type { CheckResult, DatabasePlan, PlannedChange, PromoteOutcome, StepOutcome } from '../contracts';
import type { DatabaseTarget } from '../../runbooks/schema';

type OutcomeBody = Omit<StepOutcome, 'providerMs' | 'attempt'>;

/** What one database provider implements; `createDatabaseActivities` picks the strategy by `target.provider`. */
export interface DatabaseStrategy<T extends DatabaseTarget> {
  check(name: string, target: T): Promise<CheckResult[]>;
  planFence(name: string, target: T): Promise<PlannedChange[]>;
  planPromote(name: string, target: T): Promise<DatabasePlan>;
  /** The body of the fence step; `runStep` adds timing and the attempt. */
  fence(name: string, target: T): Promise<OutcomeBody>;
  /** The body of the unfence step (undo of `fence`, idempotent). */
  unfence(name: string, target: T): Promise<OutcomeBody>;
  promote(name: string, target: T): Promise<Omit<PromoteOutcome, 'providerMs' | 'attempt'>>;
}

export type TargetOf<P extends DatabaseTarget['provider']> = Extract<DatabaseTarget, { provider: P }>;

/** Poll pacing for waits (tests shorten it). Defaults are pollUntil's: 200 ms growing ×1.5 to 5 s. */
export interface PollPacing {
  initialIntervalMs?: number;
  maxIntervalMs?: number;
}
