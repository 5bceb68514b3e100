/** The data a failover run takes, reports while running, and returns. Plain JSON throughout. */
import type { Runbook } from '../runbooks/schema';
import type { CheckResult, PlannedChange } from '../activities/contracts';

export interface FailoverOptions {
  /** Why this run was started (an incident id, a drill). Required: an auditor asks first. */
  reason: string;
  /** Who started it (the CLI's operator identity). */
  initiator: string;
  /** Set when the operator started the run although its plan was not ready: why. Recorded as an action. */
  forceReason?: string;
  /**
   * Set by a drill, which takes the runbook's lock (starts this run) before it injects the failure: the run
   * waits, changing nothing, until the drill sends `release`, or ends after this many ms without one.
   */
  holdUntilReleasedMs?: number;
}

export interface FailoverInput {
  runbook: Runbook;
  options: FailoverOptions;
}

/** `interrupted`: an operator's abort stopped the step while it ran (a wait, an activity, an approval). */
export type StepStatus =
  'running' | 'succeeded' | 'failed' | 'paused' | 'skipped' | 'continued' | 'interrupted';

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
  /** The state the step read before it changed anything (its undo comes from it; failback restores flags from it). */
  before?: unknown;
}

export type RunStatus = 'running' | 'paused' | 'succeeded' | 'failed' | 'aborted';

/** Every operator action on a run, for the audit trail: who, when, why. */
export interface OperatorAction {
  action: 'start' | 'force' | 'approve' | 'retry' | 'skip' | 'abort' | 'release';
  operator: string;
  reason: string;
  at: string;
  stepId?: string;
}

/** What the run is waiting for from an operator. */
export interface AwaitingOperator {
  stepId: string;
  /** `decision`: a failed step paused (retry/skip/abort); `approval`: an approval gate. */
  kind: 'decision' | 'approval';
  prompt: string;
  twoPerson?: boolean;
  /**
   * Gates that need several different operators (an approval, going on unfenced, skipping a failed fence):
   * the rule, who approved so far and how many more are needed.
   */
  approvers?: { rule: string; approvedBy: string[]; needed: number };
  error?: { type: string; message: string };
}

/**
 * One compensation after an abort, in reverse step order: `undone`, `partly undone`, `kept` (left as it is by a
 * safety rule, which the detail names), `not undone` (nothing to undo, or irreversible), or `failed`.
 */
export interface RollbackEntry {
  stepId: string;
  status: 'undone' | 'partly undone' | 'kept' | 'not undone' | 'failed';
  detail: string;
}

/** A follow-up a run started: a workflow that fences an old primary the run went on without fencing. */
export interface FollowUpRef {
  database: string;
  workflowId: string;
  /** `started` by this run, or `already running` (an earlier run's follow-up of the same database). */
  status: 'started' | 'already running' | 'could not start';
  detail?: string;
}

export interface FailoverProgress {
  /** The runbook's lock id (see common/run-lock.ts): every run of the runbook has it. */
  workflowId: string;
  /** Temporal's id of this run among the runs that shared the workflow id. */
  runId: string;
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
  awaiting: AwaitingOperator[];
  /** Present after an abort with rollback: what was undone and what was not. */
  rollback?: RollbackEntry[];
  /** Follow-ups that outlive the run (fencing an old primary the run went on without fencing). */
  followUps?: FollowUpRef[];
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
