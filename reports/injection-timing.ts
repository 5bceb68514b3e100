import { NOT_INJECTED, type DrillResult } from '../workflows/drill-types';
import { formatMs } from '../runbooks/duration';
import { msBetween } from './format';

/** How a drill's injection was timed, and from which moments its RTO and RPO were measured, for every report. */
export interface InjectionTiming {
  /** When the injection began: the RTO's origin. */
  began: string;
  /** When it was certainly in effect, and how long it took to get there; absent for drills recorded before. */
  inEffect?: { at: string; tookMs: number };
  /**
   * The canary's first failed write of the run it stopped on: the outage was visible to a client then. With a
   * note when it came before the injection began (another cause, or the canary's and injection's workers' clocks
   * apart): the RTO's origin is then in question.
   */
  writesFailingSince?: string;
  writesFailedFirst?: string;
  /** One sentence: what the RTO and RPO were measured between. */
  method: string;
}

/**
 * What the RTO was measured to: a client write through the switched name, or, for a runbook without a write probe,
 * the failover's end. Drills recorded before drctl kept which one leave both possible.
 */
export function restorationMeasuredBy(result: Pick<DrillResult, 'restoredBy'>): string {
  switch (result.restoredBy) {
    case 'write-probe':
      return 'the first write through the switched name';
    case 'failover-end':
      return "the failover's end (the runbook has no write probe through DNS, so no client write was measured)";
    case undefined:
      return "the first write through the switched name (or, for a runbook without a write probe, the failover's end)";
  }
}

/** Null when nothing was injected. */
export function injectionTiming(
  result: Pick<DrillResult, 'injection' | 'canary' | 'restoredBy'>,
): InjectionTiming | null {
  if (result.injection.summary === NOT_INJECTED) return null;
  const { injectedAt, inEffectAt } = result.injection;
  const failing = result.canary?.writesFailingSince ?? undefined;
  const failedFirst =
    failing !== undefined && Date.parse(failing) < Date.parse(injectedAt)
      ? "before the injection began: another cause, or the canary's and the injection's worker clocks apart"
      : undefined;
  const base = {
    began: injectedAt,
    ...(failing === undefined ? {} : { writesFailingSince: failing }),
    ...(failedFirst === undefined ? {} : { writesFailedFirst: failedFirst }),
  };
  if (inEffectAt === undefined) {
    return {
      ...base,
      method: `RTO from when the injection returned to ${restorationMeasuredBy(result)}; RPO from the newest canary row on the promoted database to that same moment (the drill was recorded before the start of an injection was timed).`,
    };
  }
  const tookMs = msBetween(injectedAt, inEffectAt);
  return {
    ...base,
    inEffect: { at: inEffectAt, tookMs },
    method: `RTO from when the injection began to ${restorationMeasuredBy(result)}, so the injection's own ${formatMs(tookMs)} counts as outage; RPO from the newest canary row on the promoted database to when the injection was in effect, a conservative bound that includes those ${formatMs(tookMs)}.`,
  };
}
