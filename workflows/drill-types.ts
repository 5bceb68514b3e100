/** A drill's input and its result: the result is the source of truth every report renders. Plain JSON. */
import { ApplicationFailure } from '@temporalio/common';
import type { CanaryStats, DataLossMeasurement, InjectionAction } from '../activities/drill-contracts';
import type { OperatorAction, RunAuthorization, StartRequest, TimelineEntry } from './run-types';

/** How a drill runs. Its reason is the signed start's; what it injects is also signed (see drillDetail). */
export interface DrillOptions {
  /** The database whose primary the drill fails (default: the first promoted in the runbook). */
  database?: string;
  action: InjectionAction;
  /** For `stop-primary` on self-managed PostgreSQL: the name of one of the worker's configured injections. */
  inject?: string;
  canaryIntervalMs: number;
  /** How long the canary writes before the failure is injected. */
  warmupMs: number;
}

/** What a client (or a schedule) sends: the reviewed runbook's id and hash, the signed start, the options. */
export interface DrillInput extends StartRequest {
  options: DrillOptions;
}

/**
 * The drill options that are signed into the start statement's `detail`, so neither the failure injected nor
 * the database it hits can be changed after the operator signed (nor in a schedule's stored arguments).
 */
export function drillDetail(
  options: Pick<DrillOptions, 'action' | 'inject' | 'database'>,
): Record<string, string> {
  return { action: options.action, inject: options.inject ?? '', database: options.database ?? '' };
}

/**
 * Refuses (NotAuthorized, nothing changed) a drill whose options are missing or differ from what its start signed,
 * naming each option changed (`action: signed "fence-primary", sent "stop-primary"`).
 */
export function refuseUnsignedOptions(
  options: Pick<DrillOptions, 'action' | 'inject' | 'database'> | undefined,
  signedDetail: Record<string, string>,
): void {
  if (typeof options !== 'object' || options === null || typeof options.action !== 'string')
    throw ApplicationFailure.nonRetryable(
      'run refused, nothing was changed: the drill has no options ({ action, inject?, database?, canaryIntervalMs, warmupMs })',
      'NotAuthorized',
    );
  const changed = optionsChangedSinceSigned(options, signedDetail);
  if (changed !== undefined) throw ApplicationFailure.nonRetryable(changed, 'NotAuthorized');
}

/**
 * Which signed drill options a start changed after the operator signed them: a refusal message naming each
 * (`action: signed "fence-primary", sent "stop-primary"`), or undefined when the options are as signed.
 */
export function optionsChangedSinceSigned(
  options: Pick<DrillOptions, 'action' | 'inject' | 'database'>,
  signedDetail: Record<string, string>,
): string | undefined {
  const asked = drillDetail(options);
  const changed = Object.keys(asked).filter((key) => signedDetail[key] !== asked[key]);
  if (changed.length === 0) return undefined;
  return `run refused by the access policy, nothing was changed: the drill's ${changed.join(', ')} differ${changed.length === 1 ? 's' : ''} from what was signed (${changed.map((key) => `${key}: signed "${signedDetail[key] ?? ''}", sent "${asked[key]}"`).join('; ')})`;
}

/** The injection summary of a drill (or a service of one) nothing was injected into. */
export const NOT_INJECTED = 'not injected';

export interface ObjectiveVerdict {
  objective: 'RTO' | 'RPO';
  targetMs: number;
  measuredMs: number;
  /** targetMs − measuredMs: positive is headroom, negative is the miss. */
  marginMs: number;
  passed: boolean;
  /** Why the drill could not measure this objective; set only when that does not fail the drill. */
  notMeasured?: string;
}

export interface CriticalPathStep {
  stepId: string;
  kind: string;
  /** Offset from the injection, and duration. */
  startMs: number;
  durationMs: number;
  /** Share of the RTO this step took (0..1). */
  shareOfRto: number;
}

export type RestoredBy = 'write-probe' | 'failover-end';

/** What restoration is measured by: a runbook with a write probe through DNS by its write, else its failover's end. */
export function restoredByOf(probed: boolean): { restoredBy: RestoredBy } {
  return { restoredBy: probed ? 'write-probe' : 'failover-end' };
}

export interface DrillResult {
  drillId: string;
  runbookId: string;
  /** sha256 of the reviewed runbook that ran, so a report pins the exact version. */
  runbookHash: string;
  reason: string;
  initiator: string;
  startedAt: string;
  endedAt: string;
  objectives: { rtoMs: number; rpoMs: number; rto: string; rpo: string };
  /**
   * `injectedAt`: when the injection began, the origin of the RTO and of every offset; `inEffectAt`: when it was
   * certainly in effect, the end of the RPO's window (absent from drills recorded before drctl kept it, where
   * `injectedAt` was that moment). See InjectFailureOutcome.
   */
  injection: { action: InjectionAction; injectedAt: string; inEffectAt?: string; summary: string };
  restoredAt: string | null;
  /**
   * What `restoredAt` is (or would have been): the first write a probe made through the switched DNS name, or, for
   * a runbook without such a probe, the failover's end (no client write was measured). Absent from drills recorded
   * before drctl kept it.
   */
  restoredBy?: RestoredBy;
  measured: { rtoMs: number | null; rpoMs: number | null };
  dataLoss: DataLossMeasurement | null;
  canary: CanaryStats | null;
  verdicts: ObjectiveVerdict[];
  passed: boolean;
  /** The drill's failover: the runbook's lock id, and the run id of this failover among the runs under it. */
  failover: {
    workflowId: string;
    runId?: string;
    status: string;
    timeline: TimelineEntry[];
    operatorActions?: OperatorAction[];
    authorization?: RunAuthorization;
  };
  /** The drill's own signed start, and the policy and reviewed runbook that governed it. */
  operatorActions?: OperatorAction[];
  authorization?: RunAuthorization;
  criticalPath: CriticalPathStep[];
  environment: { temporalNamespace: string; taskQueue: string; workerBuild?: string };
  /** Set when the drill could not complete its measurement. */
  error?: string;
  /** An operator aborted the drill before the failure was injected: it measured nothing (outcome `called-off`). */
  calledOff?: { by: string; at: string; reason: string };
  /**
   * Why the drill could not begin: another run holds its runbook's lock (a scheduled drill has no check before its
   * start, and a run may take the lock just after drctl's). Nothing was injected or measured (outcome `refused`).
   */
  refusal?: string;
}

/**
 * A drill's outcome as history and reports name it: `called-off` and `refused` are neither a pass nor a failed
 * measurement (nothing was tested).
 */
export type DrillOutcome = 'passed' | 'failed' | 'called-off' | 'refused';

export function drillOutcome(result: Pick<DrillResult, 'passed' | 'calledOff' | 'refusal'>): DrillOutcome {
  if (result.passed) return 'passed';
  if (result.calledOff !== undefined) return 'called-off';
  return result.refusal === undefined ? 'failed' : 'refused';
}

/** The headline word of a report (`PASS`, `FAIL`, `CALLED OFF`, `REFUSED`). */
export const OUTCOME_HEADLINE: Record<DrillOutcome, string> = {
  passed: 'PASS',
  failed: 'FAIL',
  'called-off': 'CALLED OFF',
  refused: 'REFUSED',
};

/** Who called the drill off, when and why, as one sentence for every view. */
export function calledOffSentence(calledOff: NonNullable<DrillResult['calledOff']>): string {
  const reason = calledOff.reason.replace(/[.\s]+$/, '');
  return `Called off by ${calledOff.by} at ${calledOff.at}: ${reason}. Nothing was injected and nothing was measured.`;
}

/**
 * Why a drill tested nothing (called off by an operator, or refused at its start), as one sentence for every view;
 * undefined for a drill that ran its test (passed or failed).
 */
export function untestedSentence(result: Pick<DrillResult, 'calledOff' | 'refusal'>): string | undefined {
  if (result.calledOff !== undefined) return calledOffSentence(result.calledOff);
  if (result.refusal === undefined) return undefined;
  return `Refused at its start: ${result.refusal.replace(/[.\s]+$/, '')}. Nothing was injected and nothing was measured.`;
}
