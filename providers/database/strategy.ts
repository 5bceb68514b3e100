import type {
  CheckResult,
  DatabaseInput,
  DatabasePlan,
  PlannedChange,
  PromoteOutcome,
  StepOutcome,
} from '../../activities/contracts';
import type { PostgresPort } from '../../activities/database/postgres-port';
import type { LagMetricsPort } from '../../activities/database/lag-metrics-port';
import type { RdsPort } from '../../activities/database/rds-port';
import type { DatabaseTarget, RunbookMode } from '../../runbooks/schema';

type OutcomeBody = Omit<StepOutcome, 'providerMs' | 'attempt' | 'compensation'>;

/**
 * The I/O half of a database provider: what `providers/database/<provider>/strategy.ts` exports as
 * `createStrategy(ports, poll)`. The database step kinds pick the strategy by `target.provider`.
 */
export interface DatabaseStrategy<T extends DatabaseTarget> {
  check(name: string, target: T, context: StepContext): Promise<CheckResult[]>;
  planFence(name: string, target: T, context: StepContext): Promise<PlannedChange[]>;
  planPromote(name: string, target: T, context: StepContext): Promise<DatabasePlan>;
  /**
   * The body of the fence step; `runStep` adds timing and the attempt. An old primary that cannot be reached is
   * reported, not thrown (`facts.primaryReachable: false`, `facts.unreachable: 'host' | 'region'`), except in a
   * planned run, which needs it (PrimaryUnreachable). `undo` is what the step's undo passes back to `unfence`.
   * `recorded` is the plan's `undoDetail`, recorded in the run's history before this call (absent outside a
   * failover's fence step: a drill's injected outage, the fence follow-up, runs recorded before it existed).
   */
  fence(
    name: string,
    target: T,
    context: StepContext,
    recorded?: FenceUndoDetail,
  ): Promise<OutcomeBody & { undo?: FenceUndoDetail }>;
  /** The body of the unfence step (undo of `fence`, idempotent); restores only what that fence changed. */
  unfence(name: string, target: T, undo: FenceUndoDetail): Promise<OutcomeBody>;
  promote(
    name: string,
    target: T,
    context: StepContext,
  ): Promise<Omit<PromoteOutcome, 'providerMs' | 'attempt' | 'compensation'>>;
}

/** What a database step knows of its run: the runbook's mode and the approvals its gates collected. */
export interface StepContext {
  mode: RunbookMode;
  approvals: NonNullable<DatabaseInput['approvals']>;
  /** The run whose fence a fence goes on with (`DatabaseInput.fenceRun`); absent: the calling run. */
  fenceRun?: string;
}

/** Provider data a fence hands its undo (e.g. which fence's markers to remove, which security groups to restore). */
export type FenceUndoDetail = Record<string, string | string[] | boolean | undefined>;

export function stepContextOf(input: DatabaseInput): StepContext {
  return {
    mode: input.mode ?? 'unplanned',
    approvals: input.approvals ?? {},
    ...(input.fenceRun === undefined ? {} : { fenceRun: input.fenceRun }),
  };
}

/** The clients every database strategy may use. */
export interface DatabasePorts {
  postgres: PostgresPort;
  rds: RdsPort;
  /** Replication lag RDS and Aurora publish to CloudWatch. */
  lagMetrics: LagMetricsPort;
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
