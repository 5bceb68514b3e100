import { ApplicationFailure, ChildWorkflowFailure } from '@temporalio/common';
import { durationToMs } from '../runbooks/duration';
import type { DatabaseTarget, Runbook, SqlProbe } from '../runbooks/schema';
import type { CriticalPathStep, DrillResult, ObjectiveVerdict } from './drill-types';
import { leafStepsOf } from './leaf-steps';
import type { FailoverResult, OperatorAction, TimelineEntry } from './run-types';

/**
 * Pass/fail per objective with its margin. An objective that should have been measured and was not fails; an RPO
 * the drill had no way to measure (`rpoNotMeasurable`, the reason) is reported as not measured and judged neither
 * way: `passed` is false, and `drillPassed` does not count it.
 */
export function judgeObjectives(
  runbook: Runbook,
  measured: { rtoMs: number | null; rpoMs: number | null },
  rpoNotMeasurable?: string,
): ObjectiveVerdict[] {
  const verdict = (objective: 'RTO' | 'RPO', targetMs: number, value: number | null): ObjectiveVerdict => ({
    objective,
    targetMs,
    measuredMs: value ?? Number.NaN,
    marginMs: value === null ? Number.NaN : targetMs - value,
    passed: value !== null && value <= targetMs,
  });
  const rpo = verdict('RPO', durationToMs(runbook.objectives.rpo), measured.rpoMs);
  return [
    verdict('RTO', durationToMs(runbook.objectives.rto), measured.rtoMs),
    rpoNotMeasurable === undefined || measured.rpoMs !== null
      ? rpo
      : { ...rpo, notMeasured: rpoNotMeasurable },
  ];
}

/** The drill passes with no error and every objective met, except one it had no way to measure. */
export function drillPassed(error: string | undefined, verdicts: ObjectiveVerdict[]): boolean {
  return (
    error === undefined && verdicts.every((verdict) => verdict.passed || verdict.notMeasured !== undefined)
  );
}

type Member = { connection?: string } & Record<string, unknown>;

/** The members of a drilled database, as far as the drill needs them: a provider and optional connections. */
export interface DrilledTarget {
  provider: string;
  primary?: Member;
  replica?: Member;
}

/**
 * Where the canary writes and where the data loss is read: the primary's and the replica's PostgreSQL
 * connections. Self-managed PostgreSQL always has them; an RDS instance has them when the runbook names one on
 * each member; otherwise the RPO cannot be measured, and the reason says what to configure.
 */
export function measurementConnections(
  target: DrilledTarget,
): { primary: string; replica: string } | { notMeasurable: string } {
  const primary = target.primary?.connection;
  const replica = target.replica?.connection;
  if (primary !== undefined && replica !== undefined) return { primary, replica };
  if (target.provider === 'rds-instance')
    return {
      notMeasurable: `not measured: the ${target.provider} target has no ${primary === undefined ? 'primary.connection' : 'replica.connection'}; name a PostgreSQL connection to each member's endpoint so the drill can write its canary and measure the RPO`,
    };
  return {
    notMeasurable: `not measured: the drill has no PostgreSQL connection to a ${target.provider} target's members, so it cannot write a canary there`,
  };
}

/**
 * The share of a measured RTO a step took: the part of it between the injection and the restoration (offsets from
 * the injection), over the RTO. A step after service was back (the rest of DNS's INSYNC wait, the probe) took
 * none of it; sequential steps' shares sum to at most 1.
 */
export function shareOfRecovery(startMs: number, durationMs: number, rtoMs: number): number {
  if (rtoMs <= 0) return 0;
  const within = Math.min(startMs + durationMs, rtoMs) - Math.max(startMs, 0);
  return Math.max(0, within) / rtoMs;
}

/**
 * Where the recovery time went: each failover step's offset from the injection, its duration, and its share
 * of the RTO (`shareOfRecovery`). Steps of a parallel group overlap; their shares may sum to more than the group's
 * wall time.
 */
export function criticalPath(
  timeline: TimelineEntry[],
  injectedAt: string,
  rtoMs: number | null,
): CriticalPathStep[] {
  const injected = Date.parse(injectedAt);
  const ended = timeline.filter((entry) => entry.endedAt !== undefined);
  return ended
    .map((entry) => {
      const durationMs = entry.durationMs ?? 0;
      const startMs = Date.parse(entry.startedAt) - injected;
      return {
        stepId: entry.stepId,
        kind: entry.kind,
        startMs,
        durationMs,
        shareOfRto: rtoMs ? shareOfRecovery(startMs, durationMs, rtoMs) : 0,
      };
    })
    .filter((step, index) => rtoMs === null || (step.shareOfRto > 0 && lastOfItsGroup(ended, ended[index]!)));
}

/**
 * Whether a step is the one its parallel group waited for (it ended last), or in no group: of a group, only that
 * one is on the critical path.
 */
export function lastOfItsGroup(timeline: readonly TimelineEntry[], entry: TimelineEntry): boolean {
  if (entry.group === undefined) return true;
  const ends = timeline
    .filter((other) => other.group === entry.group && other.endedAt !== undefined)
    .map((other) => Date.parse(other.endedAt as string));
  return entry.endedAt !== undefined && Date.parse(entry.endedAt) >= Math.max(...ends);
}

/**
 * How much longer the drill waits for the restoration probe once the failover has ended: until the RTO has passed
 * since the injection (an RTO of hours gets hours), never a fixed few minutes.
 */
export function restorationWaitMs(injectedAt: string, rtoMs: number, nowMs: number): number {
  return Math.max(0, Date.parse(injectedAt) + rtoMs - nowMs);
}

/** Every reason the drill failed, in the order found; one does not hide another. Undefined when there is none. */
export function drillError(reasons: Array<string | undefined>): string | undefined {
  const found = reasons.filter((reason): reason is string => reason !== undefined);
  return found.length === 0 ? undefined : found.join('; ');
}

/** Service is back when a client following DNS can write: the runbook's SQL probe that goes through DNS. */
export function restorationProbe(runbook: Runbook): SqlProbe | undefined {
  for (const step of leafStepsOf(runbook)) {
    if (step.kind === 'probe' && step.probe.type === 'sql' && step.probe.via)
      return { ...step.probe, write: true };
  }
  return undefined;
}

/** What a drill of one runbook injects into and measures: its promoted database, the canary's connections, the probe. */
export interface DrillTargets {
  databaseName?: string;
  target?: DatabaseTarget;
  connections?: { primary: string; replica: string };
  /** Why the RPO cannot be measured (set when it cannot): reported as not measured, judged neither way. */
  rpoNotMeasurable?: string;
  probe?: SqlProbe;
}

/** The drilled database (`database`, or the first one the runbook promotes) and how the drill measures it. */
export function drillTargetsOf(runbook: Runbook, database?: string): DrillTargets {
  const databaseName =
    database ?? leafStepsOf(runbook).find((step) => step.kind === 'database.promote')?.database;
  const target = databaseName === undefined ? undefined : runbook.targets.databases[databaseName];
  const probe = restorationProbe(runbook);
  const connections = target === undefined ? undefined : measurementConnections(target);
  return {
    ...(databaseName === undefined || target === undefined ? {} : { databaseName, target }),
    ...(connections !== undefined && 'primary' in connections ? { connections } : {}),
    ...(connections !== undefined && 'notMeasurable' in connections
      ? { rpoNotMeasurable: connections.notMeasurable }
      : {}),
    ...(target === undefined
      ? {
          rpoNotMeasurable:
            'not measured: the runbook promotes no database, so there is no data to lose or measure',
        }
      : {}),
    ...(probe === undefined ? {} : { probe }),
  };
}

/** The drill's verdicts, pass/fail and end time, from what it measured against the runbook's objectives. */
export function judgedDrillResult(
  runbook: Runbook,
  result: DrillResult,
  rpoNotMeasurable: string | undefined,
  endedAt: string,
): DrillResult {
  const verdicts = judgeObjectives(runbook, result.measured, rpoNotMeasurable);
  return { ...result, verdicts, passed: drillPassed(result.error, verdicts), endedAt };
}

/** A failover's result as the drill report keeps it. */
export function failoverSummary(result: FailoverResult): DrillResult['failover'] {
  return {
    workflowId: result.workflowId,
    ...(result.runId === undefined ? {} : { runId: result.runId }),
    status: result.status,
    timeline: result.timeline,
    operatorActions: result.operatorActions,
    ...(result.authorization === undefined ? {} : { authorization: result.authorization }),
  };
}

/** The operator's abort that ended a drill's failover (or evacuation) before the injection: it was called off. */
export function calledOffBy(
  recorded: { operatorActions: readonly OperatorAction[] } | undefined,
): DrillResult['calledOff'] {
  const abort = recorded?.operatorActions.find((action) => action.action === 'abort');
  return abort === undefined ? undefined : { by: abort.operator, at: abort.at, reason: abort.reason };
}

/** A failed or aborted failover carries its result as its failure's detail. */
export function failedFailoverResult(error: unknown): FailoverResult | undefined {
  if (!(error instanceof ChildWorkflowFailure) || !(error.cause instanceof ApplicationFailure))
    return undefined;
  const detail = error.cause.details?.[0] as FailoverResult | undefined;
  return detail?.timeline ? detail : undefined;
}
