/** The RTO and RPO verdicts as every report shows them, whether or not the drill got to measure them. */
import type { DrillResult } from '../workflows/drill-types';

export type ObjectiveName = 'RTO' | 'RPO';

export interface ObjectiveRow {
  objective: ObjectiveName;
  targetMs: number;
  /** The objective as the runbook wrote it, e.g. "15m". */
  targetText: string;
  measuredMs: number | null;
  /** targetMs − measuredMs: positive is headroom, negative is the miss; null when not measured. */
  marginMs: number | null;
  /** null when not measured: neither met nor missed. */
  passed: boolean | null;
  /** Why the drill has no way to measure it (N/A by design, not a measurement that failed). */
  notMeasurable?: string;
}

export const OBJECTIVES: readonly ObjectiveName[] = ['RTO', 'RPO'];

export function objectiveRow(result: DrillResult, objective: ObjectiveName): ObjectiveRow {
  const targetMs = objective === 'RTO' ? result.objectives.rtoMs : result.objectives.rpoMs;
  const targetText = objective === 'RTO' ? result.objectives.rto : result.objectives.rpo;
  const verdict = result.verdicts.find((candidate) => candidate.objective === objective);
  if (verdict) {
    // Not measured (the drill stopped before it could: its NaN is null once the result was JSON), or one the drill
    // has no way to measure (an RDS pair without connections): neither met nor missed.
    const measured = knownMs(verdict.measuredMs);
    return {
      objective,
      targetMs: verdict.targetMs,
      targetText,
      measuredMs: measured,
      marginMs: measured === null ? null : knownMs(verdict.marginMs),
      passed: verdict.notMeasured === undefined && measured !== null ? verdict.passed : null,
      ...(verdict.notMeasured === undefined ? {} : { notMeasurable: verdict.notMeasured }),
    };
  }
  // No verdict: the drill stopped before judging; show what was measured, if anything, against the target.
  const measuredMs = objective === 'RTO' ? result.measured.rtoMs : result.measured.rpoMs;
  return {
    objective,
    targetMs,
    targetText,
    measuredMs,
    marginMs: measuredMs === null ? null : targetMs - measuredMs,
    passed: measuredMs === null ? null : measuredMs <= targetMs,
  };
}

export function objectiveRows(result: DrillResult): ObjectiveRow[] {
  return OBJECTIVES.map((objective) => objectiveRow(result, objective));
}

/** A figure in ms, or null when there is none (NaN in the workflow, null once its result was JSON). */
export function knownMs(ms: number | null | undefined): number | null {
  return ms === null || ms === undefined || Number.isNaN(ms) ? null : ms;
}

/** "PASS", "FAIL", or "N/A" when not measured. */
export function verdictLabel(passed: boolean | null): 'PASS' | 'FAIL' | 'N/A' {
  if (passed === null) return 'N/A';
  return passed ? 'PASS' : 'FAIL';
}
