/**
 * How a drill of an evacuation is judged, from what each service's own drill measurement found: pure, so the
 * workflow and the unit tests compose results the same way. Each service is judged by the single-runbook drill's
 * rules against its own runbook's objectives (see drill-measurement.ts).
 */
import type { CanaryStats, DataLossMeasurement } from '../activities/drill-contracts';
import type { EvacuationProgress, ServiceProgress } from '../evacuations/evacuation-types';
import { runLockId } from '../common/run-lock';
import { durationToMs } from '../runbooks/duration';
import type { Runbook } from '../runbooks/schema';
import { criticalPath, drillError, failoverSummary, judgedDrillResult } from './drill-measurement';
import { NOT_INJECTED, restoredByOf, type DrillResult } from './drill-types';
import type { ServiceDrillResult, WaveTiming } from './evacuation-drill-types';
import type { FailoverResult } from './run-types';

/** What the drill of an evacuation shares with each service's result: who, why, when, where. */
export type DrillCommon = Pick<DrillResult, 'drillId' | 'reason' | 'initiator' | 'startedAt' | 'environment'>;

/** What the drill found for one service, before it is judged. */
export interface ServiceMeasurement {
  runbook: Runbook;
  runbookHash: string;
  wave: string;
  /** The service as the evacuation ended it (undefined when the evacuation never got to it). */
  progress: ServiceProgress | undefined;
  injection: DrillResult['injection'];
  /** Why the failure could not be injected into its database. */
  injectionError?: string;
  restoredAt: string | null;
  /** The runbook has a probe through DNS, so `restoredAt` null means no write got through within the RTO. */
  probed: boolean;
  canary: CanaryStats | null;
  canaryError?: string;
  dataLoss: DataLossMeasurement | null;
  failover: FailoverResult | null;
  /** Why its RPO cannot be measured at all (no database, no connections): N/A, judged neither way. */
  rpoNotMeasurable?: string;
}

/**
 * One service's drill result, judged by the single-runbook drill's rules against its own objectives: every reason
 * it failed is kept (a failover that did not succeed, no write through DNS within its RTO, a canary that failed).
 */
export function serviceDrillResult(
  common: DrillCommon,
  measurement: ServiceMeasurement,
  endedAt: string,
): ServiceDrillResult {
  const { runbook, progress, injection, restoredAt, failover } = measurement;
  const state = progress?.state ?? 'skipped';
  const measuredRtoMs =
    restoredAt === null ? null : Date.parse(restoredAt) - Date.parse(injection.injectedAt);
  const error = drillError([
    measurement.injectionError === undefined
      ? undefined
      : `the failure could not be injected: ${measurement.injectionError}`,
    state === 'succeeded'
      ? undefined
      : `its failover ${state === 'skipped' || state === 'refused' ? `was ${state}` : state}${progress?.detail ? `: ${progress.detail}` : ''}`,
    state === 'succeeded' && restoredAt === null && measurement.probed
      ? `no write through the switched DNS name succeeded within the RTO (${runbook.objectives.rto}) of the injection`
      : undefined,
    measurement.canaryError === undefined
      ? undefined
      : `the canary failed, so the RPO was not measured: ${measurement.canaryError}`,
  ]);
  const result: DrillResult = {
    ...common,
    runbookId: runbook.id,
    runbookHash: measurement.runbookHash,
    endedAt,
    objectives: {
      rtoMs: durationToMs(runbook.objectives.rto),
      rpoMs: durationToMs(runbook.objectives.rpo),
      rto: runbook.objectives.rto,
      rpo: runbook.objectives.rpo,
    },
    injection,
    restoredAt,
    ...restoredByOf(measurement.probed),
    measured: { rtoMs: measuredRtoMs, rpoMs: measurement.dataLoss?.rpoMs ?? null },
    dataLoss: measurement.dataLoss,
    canary: measurement.canary,
    verdicts: [],
    passed: false,
    failover: failover
      ? failoverSummary(failover)
      : {
          workflowId: progress?.workflowId ?? runLockId(runbook.id),
          ...(progress?.runId === undefined ? {} : { runId: progress.runId }),
          status: progress?.workflowId ? state : 'not started',
          timeline: [],
        },
    criticalPath: failover ? criticalPath(failover.timeline, injection.injectedAt, measuredRtoMs) : [],
    ...(error === undefined ? {} : { error }),
  };
  return {
    ...judgedDrillResult(runbook, result, measurement.rpoNotMeasurable, endedAt),
    wave: measurement.wave,
    state,
    ...(progress?.detail === undefined ? {} : { detail: progress.detail }),
  };
}

/** Every service passed and the drill itself had no error. A service's unmeasurable RPO is N/A, not a failure. */
export function evacuationDrillPassed(
  error: string | undefined,
  services: readonly ServiceDrillResult[],
): boolean {
  return error === undefined && services.length > 0 && services.every((service) => service.passed);
}

/** The first injection, the moment the drilled region went down; null when nothing was injected. */
export function firstInjection(services: readonly ServiceDrillResult[]): string | null {
  const times = services
    .filter((service) => service.injection.summary !== NOT_INJECTED)
    .map((service) => service.injection.injectedAt)
    .sort();
  return times[0] ?? null;
}

export { NOT_INJECTED } from './drill-types';

/** First injection → the last service restored; null when any service was not restored (or nothing injected). */
export function restoredAllMs(
  injectedAt: string | null,
  services: readonly ServiceDrillResult[],
): number | null {
  if (injectedAt === null || services.length === 0) return null;
  if (services.some((service) => service.restoredAt === null)) return null;
  const last = Math.max(...services.map((service) => Date.parse(service.restoredAt as string)));
  return last - Date.parse(injectedAt);
}

/**
 * Each wave as the drill saw it, as offsets from the first injection: the first of its services started, the last
 * ended, and who approved it. A wave none of whose services started has null times.
 */
export function waveTimings(evacuation: EvacuationProgress, injectedAt: string | null): WaveTiming[] {
  const origin = injectedAt === null ? Date.parse(evacuation.startedAt) : Date.parse(injectedAt);
  return evacuation.waves.map((wave) => {
    const services = evacuation.services.filter((service) => service.wave === wave.id);
    const starts = services.flatMap((s) => (s.startedAt && s.workflowId ? [Date.parse(s.startedAt)] : []));
    const ends = services.flatMap((s) => (s.endedAt && s.workflowId ? [Date.parse(s.endedAt)] : []));
    const startMs = starts.length === 0 ? null : Math.min(...starts) - origin;
    const endMs = ends.length === 0 || ends.length < starts.length ? null : Math.max(...ends) - origin;
    return {
      id: wave.id,
      ...(wave.title === undefined ? {} : { title: wave.title }),
      services: services.map((service) => service.runbookId),
      startMs,
      endMs,
      durationMs: startMs === null || endMs === null ? null : endMs - startMs,
      ...(wave.approvedBy === undefined ? {} : { approvedBy: wave.approvedBy }),
    };
  });
}

/** The evacuation run's own time, start to end; null while it has not ended. */
export function evacuationMs(evacuation: Pick<EvacuationProgress, 'startedAt' | 'endedAt'>): number | null {
  return evacuation.endedAt === undefined
    ? null
    : Date.parse(evacuation.endedAt) - Date.parse(evacuation.startedAt);
}

/**
 * The figures a drill of an evacuation records for `drctl drill history`: the RTO is the time until every service
 * was restored; the RPO the worst measured, recorded only when no service failed to measure one it could.
 */
export function historyFigures(
  restoredAll: number | null,
  services: readonly ServiceDrillResult[],
): { rtoMs?: number; rpoMs?: number } {
  const rpos = services.map((service) => service.verdicts.find((v) => v.objective === 'RPO'));
  // Unmeasured is NaN in the workflow and null once the result went through JSON.
  const measuredMs = (value: number | null | undefined): value is number =>
    typeof value === 'number' && !Number.isNaN(value);
  const unmeasured = rpos.some(
    (v) => v === undefined || (!measuredMs(v.measuredMs) && v.notMeasured === undefined),
  );
  const measured = rpos.flatMap((v) => (v && measuredMs(v.measuredMs) ? [v.measuredMs] : []));
  return {
    ...(restoredAll === null ? {} : { rtoMs: restoredAll }),
    ...(unmeasured || measured.length === 0 ? {} : { rpoMs: Math.max(...measured) }),
  };
}
