/**
 * What a HIPAA auditor asks of a contingency-plan test (45 CFR 164.308(a)(7)(ii)(D), "testing and revision
 * procedures"), read from a drill's result: the method (a drill, which failure was injected and how), who took
 * part (operators from the recorded operator actions, "verified" only where a signature is present and
 * verifies), the results against the objectives, and the follow-up actions (every failed or unmeasured
 * objective and every failed step becomes one corrective action).
 */
import { formatMs } from '../runbooks/duration';
import {
  NOT_INJECTED,
  untestedSentence,
  drillOutcome,
  type DrillOutcome,
  type DrillResult,
} from '../workflows/drill-types';
import type { OperatorAction } from '../workflows/run-types';
import { formatMeasured } from './format';
import { restorationMeasuredBy } from './injection-timing';
import { objectiveRows } from './objective-rows';
import { stepRows } from './step-rows';

export const CONTINGENCY_TEST_REGULATION = '45 CFR 164.308(a)(7)(ii)(D)';

/** An operator action as the timeline holds it; signed actions carry their `signed` statement. */
export type RecordedOperatorAction = OperatorAction;

export interface SignatureVerdict {
  status: 'verified' | 'invalid' | 'unsigned' | 'unchecked';
  detail?: string;
}

export interface AuditContext {
  /** The operator actions of the drill's failover, as its timeline recorded them. */
  operatorActions?: readonly RecordedOperatorAction[];
  /** Checks one action's signature. Without it, no participant is marked verified. */
  checkSignature?: (action: RecordedOperatorAction) => SignatureVerdict;
}

export interface AuditParticipant {
  operator: string;
  /** What they did, in order: "start", "approve fence-primary", … */
  actions: string[];
  /** True only when every recorded action of theirs carries a signature that verifies. */
  verified: boolean;
  evidence: string;
}

export interface AuditResult {
  objective: 'RTO' | 'RPO';
  objectiveMs: number;
  measuredMs: number | null;
  /**
   * `not measured`: the drill failed to measure it (judged failed). `not applicable`: the drill had no way to
   * measure it and said so without failing (an RDS pair without connections); `notMeasuredBecause` says why.
   */
  /** `not tested`: the drill was called off before its injection. */
  verdict: 'met' | 'missed' | 'not measured' | 'not applicable' | 'not tested';
  notMeasuredBecause?: string;
}

export interface FollowUpAction {
  id: string;
  /** What prompted it: `objective RTO`, `step fence-primary`, `drill error`. */
  source: string;
  action: string;
}

export interface AuditMapping {
  regulation: string;
  method: {
    type: 'drill';
    injectedFailure: string;
    how: string;
    /** When the failure was injected; null when the drill stopped before injecting it. */
    injectedAt: string | null;
    measurement: string;
    runbookId: string;
    runbookSha256: string;
  };
  participants: AuditParticipant[];
  /** Where the participant list came from. */
  participantsSource: 'signed operator actions' | 'operator actions' | 'drill result only';
  results: AuditResult[];
  passed: boolean;
  /** `called-off` (an operator stopped the drill before its injection) or `refused` (its lock was held): nothing was tested. */
  outcome: DrillOutcome;
  followUps: FollowUpAction[];
}

const FAILED_STEP_STATUSES = new Set(['failed', 'continued']);

export function buildAuditMapping(result: DrillResult, context: AuditContext = {}): AuditMapping {
  const results = objectiveRows(result).map((row): AuditResult => {
    // An unmeasured objective is judged failed by the drill (NaN, stored as null): here it is "not measured".
    const measuredMs = row.measuredMs === null || Number.isNaN(row.measuredMs) ? null : row.measuredMs;
    const because = result.verdicts.find((verdict) => verdict.objective === row.objective)?.notMeasured;
    if (because !== undefined) {
      return {
        objective: row.objective,
        objectiveMs: row.targetMs,
        measuredMs: null,
        verdict: 'not applicable',
        notMeasuredBecause: because,
      };
    }
    return {
      objective: row.objective,
      objectiveMs: row.targetMs,
      measuredMs,
      verdict:
        untestedSentence(result) !== undefined
          ? 'not tested'
          : measuredMs === null
            ? 'not measured'
            : row.passed
              ? 'met'
              : 'missed',
    };
  });
  const { participants, source } = participantsOf(result, context);
  return {
    regulation: CONTINGENCY_TEST_REGULATION,
    method: {
      type: 'drill',
      injectedFailure: result.injection.action,
      how: result.injection.summary,
      injectedAt: result.injection.summary === NOT_INJECTED ? null : result.injection.injectedAt,
      measurement: measurementOf(result),
      runbookId: result.runbookId,
      runbookSha256: result.runbookHash,
    },
    participants,
    participantsSource: source,
    results,
    passed: result.passed,
    outcome: drillOutcome(result),
    followUps: followUpsOf(result, results),
  };
}

function measurementOf(result: DrillResult): string {
  const canary = result.canary
    ? `a canary wrote timestamped rows to the primary (${result.canary.acknowledged} acknowledged)`
    : 'no canary ran';
  // Drills recorded before the injection's start was timed measured both from when it returned.
  const timed = result.injection.inEffectAt !== undefined;
  return (
    `${canary}; RTO = ${restorationMeasuredBy(result)} − ${timed ? 'injection began' : 'failure injected'}; ` +
    `RPO = ${timed ? 'injection in effect' : 'failure injected'} − newest canary row present on the promoted database; ` +
    `the failover ran as workflow ${result.failover.workflowId}`
  );
}

function participantsOf(
  result: DrillResult,
  context: AuditContext,
): { participants: AuditParticipant[]; source: AuditMapping['participantsSource'] } {
  if (!context.operatorActions || context.operatorActions.length === 0) {
    // Only what the drill result itself says: the initiator and any decision taken at a paused step.
    const byOperator = new Map<string, string[]>([[result.initiator, ['start']]]);
    for (const entry of result.failover.timeline) {
      for (const decision of entry.decisions ?? []) {
        const list = byOperator.get(decision.operator) ?? [];
        list.push(`${decision.action} ${entry.stepId}`);
        byOperator.set(decision.operator, list);
      }
    }
    return {
      source: 'drill result only',
      participants: [...byOperator.entries()].map(([operator, actions]) => ({
        operator,
        actions,
        verified: false,
        evidence: 'not verified: no recorded operator actions were given to this report',
      })),
    };
  }
  const check = context.checkSignature ?? defaultCheck;
  const byOperator = new Map<string, { actions: string[]; verdicts: SignatureVerdict[] }>();
  for (const action of context.operatorActions) {
    const entry = byOperator.get(action.operator) ?? { actions: [], verdicts: [] };
    entry.actions.push(action.stepId ? `${action.action} ${action.stepId}` : action.action);
    entry.verdicts.push(check(action));
    byOperator.set(action.operator, entry);
  }
  const participants = [...byOperator.entries()].map(([operator, entry]) => {
    const verified = entry.verdicts.every((verdict) => verdict.status === 'verified');
    return { operator, actions: entry.actions, verified, evidence: evidenceText(entry.verdicts) };
  });
  return {
    source: participants.some((participant) => participant.verified)
      ? 'signed operator actions'
      : 'operator actions',
    participants,
  };
}

function defaultCheck(action: RecordedOperatorAction): SignatureVerdict {
  return action.signed === undefined || action.signed === null
    ? { status: 'unsigned' }
    : { status: 'unchecked', detail: 'no signature verifier was configured' };
}

function evidenceText(verdicts: SignatureVerdict[]): string {
  const counts = new Map<SignatureVerdict['status'], number>();
  for (const verdict of verdicts) counts.set(verdict.status, (counts.get(verdict.status) ?? 0) + 1);
  const total = verdicts.length;
  if (counts.get('verified') === total)
    return `verified: ${total} of ${total} action(s) signed, signature verified`;
  const parts: string[] = [];
  for (const status of ['invalid', 'unsigned', 'unchecked', 'verified'] as const) {
    const count = counts.get(status);
    if (!count) continue;
    const detail = verdicts.find((verdict) => verdict.status === status && verdict.detail)?.detail;
    parts.push(`${count} ${LABELS[status]}${detail ? ` (${detail})` : ''}`);
  }
  return `not verified: ${parts.join(', ')}`;
}

const LABELS: Record<SignatureVerdict['status'], string> = {
  verified: 'signature verified',
  invalid: 'signature INVALID',
  unsigned: 'unsigned',
  unchecked: 'signature not checked',
};

function followUpsOf(result: DrillResult, results: AuditResult[]): FollowUpAction[] {
  const untested = untestedSentence(result);
  if (untested !== undefined) {
    // Nothing was tested: the one thing to do is to run the drill.
    return [
      {
        id: 'FU-1',
        source: result.calledOff === undefined ? 'drill refused' : 'drill called off',
        action: `${untested} Run the drill again to test the objectives.`,
      },
    ];
  }
  const actions: Array<Omit<FollowUpAction, 'id'>> = [];
  for (const row of results) {
    if (row.verdict === 'missed') {
      const over = (row.measuredMs ?? 0) - row.objectiveMs;
      actions.push({
        source: `objective ${row.objective}`,
        action:
          `${row.objective} objective missed: measured ${formatMeasured(row.measuredMs)} against ${formatMs(row.objectiveMs)} ` +
          `(${formatMs(over)} over). ${row.objective === 'RTO' ? rtoAdvice(result) : rpoAdvice(result)} Then repeat the drill.`,
      });
    } else if (row.verdict === 'not applicable') {
      actions.push({
        source: `objective ${row.objective}`,
        action: `${row.objective} could not be measured by this drill (${row.notMeasuredBecause}), so the objective is not shown to be met: make it measurable and repeat the drill.`,
      });
    } else if (row.verdict === 'not measured') {
      actions.push({
        source: `objective ${row.objective}`,
        action: `${row.objective} was not measured, so the objective is not shown to be met: fix what stopped the measurement${
          result.error ? ` (${result.error})` : ''
        } and repeat the drill.`,
      });
    }
  }
  for (const entry of result.failover.timeline) {
    if (!FAILED_STEP_STATUSES.has(entry.status)) continue;
    actions.push({
      source: `step ${entry.stepId}`,
      action: `Step ${entry.stepId} (${entry.kind}) ${entry.status === 'continued' ? 'failed and the run went on' : 'failed'}${
        entry.error ? `: ${entry.error.type}: ${entry.error.message}` : ''
      }. Correct the cause in the runbook or the estate and repeat the drill.`,
    });
  }
  if (result.error && !actions.some((action) => action.action.includes(result.error ?? ''))) {
    actions.push({
      source: 'drill error',
      action: `The drill reported: ${result.error}. Correct the cause and repeat the drill.`,
    });
  }
  return actions.map((action, index) => ({ id: `FU-${index + 1}`, ...action }));
}

/**
 * Where to shorten the recovery: the critical step that took the largest part of it, computed from the timeline
 * as the report's step table is (drills recorded before kept a step's whole duration as its share).
 */
function rtoAdvice(result: DrillResult): string {
  const rtoMs = result.measured.rtoMs;
  const [largest] = stepRows(result)
    .filter((row) => row.critical && row.shareOfRto !== null)
    .sort((a, b) => (b.shareOfRto ?? 0) - (a.shareOfRto ?? 0));
  if (largest?.shareOfRto == null || rtoMs === null)
    return 'Find where the recovery time went (the failover steps) and shorten it.';
  return `Shorten the critical path: step ${largest.stepId} took ${formatMs(Math.round(largest.shareOfRto * rtoMs))} of the ${formatMs(rtoMs)} recovery (${(largest.shareOfRto * 100).toFixed(0)}%).`;
}

function rpoAdvice(result: DrillResult): string {
  const lost = result.dataLoss?.lostRows;
  return `Reduce replication lag or move to synchronous replication${
    lost === undefined ? '' : ` (${lost} acknowledged row(s) were lost)`
  }.`;
}
