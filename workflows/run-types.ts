/** The data a failover run takes, reports while running, and returns. Plain JSON throughout. */
import type { Runbook } from '../runbooks/schema';
import type { CheckResult, PlannedChange } from '../activities/contracts';
import type { EvacuationCover } from '../evacuations/evacuation-hash';
import type { SignedStatement } from '../auth/signature';

export interface FailoverOptions {
  /** Why this run was started (an incident id, a drill). Required: an auditor asks first. */
  reason: string;
  /** Who started it (the CLI's operator identity). */
  initiator: string;
}

/** What the interpreter runs once the start is authorized: the reviewed runbook by value, and why/by whom. */
export interface FailoverInput {
  runbook: Runbook;
  options: FailoverOptions;
}

/**
 * What a client sends to start a failover (or failback): the reviewed runbook's id and the sha256 it planned
 * against, and the signed start statement. The worker loads the runbook from its own catalog.
 */
export type FailoverRequest = StartRequest;

/** Which reviewed runbook a client asks to run: the catalog id and the sha256 it planned against. */
export interface RunbookReference {
  id: string;
  sha256: string;
  /** `failback`: the failback derived from that runbook. */
  variant?: 'failback';
}

/** What a client sends to start a run: a reference into the worker's catalog and the signed start. */
export interface StartRequest {
  runbook: RunbookReference;
  start: SignedStatement;
  /** A child of an evacuation: the evacuation as signed, to show this runbook is part of it. */
  evacuation?: EvacuationCover;
}

export type StepStatus = 'running' | 'succeeded' | 'failed' | 'paused' | 'skipped' | 'continued';

export interface TimelineEntry {
  stepId: string;
  kind: string;
  title?: string;
  /** The parallel group the step ran in, if any. */
  group?: string;
  status: StepStatus;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  attempts: number;
  /** Time inside provider calls (AWS, PostgreSQL, Unleash) summed over the successful attempt. */
  providerMs: number;
  changed?: boolean;
  summary?: string;
  facts?: Record<string, string | number | boolean | null>;
  checks?: CheckResult[];
  error?: { type: string; message: string };
  /** Operator decisions taken while the step was paused, in order. */
  decisions?: Array<{ action: string; operator: string; reason: string; at: string }>;
}

export type RunStatus = 'running' | 'paused' | 'succeeded' | 'failed' | 'aborted';

/**
 * Every operator action on a run, for the audit trail: who (the verified owner of the signing key), when
 * (workflow time of acceptance), why, and the signed statement itself so it can be re-verified offline.
 */
export interface OperatorAction {
  action: 'start' | 'approve' | 'retry' | 'skip' | 'abort';
  operator: string;
  reason: string;
  at: string;
  stepId?: string;
  /** Signed with a break-glass key: an emergency path, reported loudly. */
  breakGlass?: boolean;
  signed?: SignedStatement;
}

/** Which access policy and which reviewed runbook governed a run: recorded at its start, in history. */
export interface RunAuthorization {
  /** sha256 of the worker's access policy file. */
  policySha256: string;
  /** The reviewed catalog's runbook id the start named (a failback's base runbook). */
  runbookId: string;
  /** sha256 of that reviewed runbook. */
  runbookHash: string;
  /** Run ids the start statement may name besides this run's: the drill or schedule that started it. */
  startedBy?: string[];
  /** Why the initiator started it although its plan was not ready (`--force`, signed in the start). */
  forcedPastPlan?: string;
  /** Every break-glass use in the run, in order. Empty in a normal run. */
  breakGlassUses: Array<{
    action: string;
    keyId: string;
    holder: string;
    reason: string;
    at: string;
    stepId?: string;
  }>;
}

/** What the run is waiting for from an operator. */
export interface AwaitingOperator {
  stepId: string;
  /** `decision`: a failed step paused (retry/skip/abort); `approval`: an approval gate. */
  kind: 'decision' | 'approval';
  prompt: string;
  twoPerson?: boolean;
  /** For an approval: the rule (e.g. `2 approvers from dba, not the initiator`) and who approved so far. */
  approvers?: { rule: string; approvedBy: string[]; needed: number };
  error?: { type: string; message: string };
}

/** One compensation run after an abort, in reverse step order. */
export interface RollbackEntry {
  stepId: string;
  status: 'undone' | 'not undone' | 'failed';
  detail: string;
}

export interface FailoverProgress {
  workflowId: string;
  runbookId: string;
  status: RunStatus;
  reason: string;
  initiator: string;
  startedAt: string;
  endedAt?: string;
  /** Steps running now (more than one inside a parallel group). */
  currentSteps: string[];
  timeline: TimelineEntry[];
  /** Total steps in the runbook (leaves), for a progress bar. */
  totalSteps: number;
  operatorActions: OperatorAction[];
  /** The policy and reviewed runbook that governed the run. */
  authorization?: RunAuthorization;
  awaiting: AwaitingOperator[];
  /** Present after an abort with rollback: what was undone and what was not. */
  rollback?: RollbackEntry[];
}

export type FailoverResult = FailoverProgress & {
  status: 'succeeded' | 'failed' | 'aborted';
  endedAt: string;
};

export interface PlannedStep {
  stepId: string;
  kind: string;
  title?: string;
  /** What the step would change against current state; empty when nothing would change. */
  changes: PlannedChange[];
  /** Read-only checks (pre-flight, backups) and their current results. */
  checks: CheckResult[];
  /** For steps that change nothing by nature (wait, probe): what they would do. */
  note?: string;
}

export interface PlanResult {
  runbookId: string;
  steps: PlannedStep[];
  /** True only when every check of every step passed and every step could be planned. */
  ready: boolean;
  /** How many checks failed (including steps that could not be planned). */
  failedChecks: number;
}
