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
  /**
   * Set by a parent that takes the runbook's lock (starts this run) ahead of its effect: a drill before it
   * injects the failure, an evacuation before its first wave. The run waits, changing nothing, until the parent
   * sends `release`, or ends after this many ms without one.
   */
  holdUntilReleasedMs?: number;
  /** Set by a parent that records its releases (`common/held-release.ts`): see `StartRequest.heldByParent`. */
  heldByParent?: ParentHoldRequest;
}

/**
 * A run held by its parent until the parent records its release: a `release` signal only makes the run look
 * (anyone may signal). It ends, having changed nothing, when the parent records a drop, ends without releasing
 * it, or `withinMs` runs out (none: as long as the parent runs).
 */
export interface ParentHoldRequest {
  withinMs?: number;
  /**
   * The parent releases the run as soon as it holds every lock (an evacuation's first wave): the run makes its
   * pre-flight while it waits (`workflows/held-reads.ts`).
   */
  readsWhileHeld?: boolean;
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
  /**
   * Only from a parent (a drill, an evacuation), which takes the runbook's lock (starts this run) ahead of its
   * effect: the run waits, changing nothing, until the parent sends `release`, or ends after this many ms without one.
   * Runs started before parents recorded their releases; new ones use `heldByParent`.
   */
  holdUntilReleasedMs?: number;
  /** Only from a parent that records its releases: the run waits, changing nothing, until it records one. */
  heldByParent?: ParentHoldRequest;
}

/** `interrupted`: an operator's abort stopped the step while it ran (a wait, an activity, an approval). */
export type StepStatus =
  'running' | 'succeeded' | 'failed' | 'paused' | 'skipped' | 'continued' | 'interrupted';

export interface TimelineEntry {
  stepId: string;
  kind: string;
  /** Whether the step's kind changes the estate (its `mutates`); absent in runs recorded before it was kept. */
  mutates?: boolean;
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
/**
 * The evacuation run whose signed start covers a child failover's (and an abort it forwards): the run, the
 * evacuation's id and sha256, and the evacuation as signed (its plan and runbooks' hashes: re-hashed offline).
 */
export interface StartCover {
  runId: string;
  id: string;
  sha256: string;
  cover?: EvacuationCover;
}

export interface RunAuthorization {
  /** sha256 of the worker's access policy file. */
  policySha256: string;
  /** The reviewed catalog's runbook id the start named (a failback's base runbook). */
  runbookId: string;
  /** sha256 of that reviewed runbook. */
  runbookHash: string;
  /** Run ids the start statement may name besides this run's: the drill or schedule that started it. */
  startedBy?: string[];
  /** The workflow id of the parent (a drill, an evacuation) that started this run: its recorded reason is prefixed by it. */
  parent?: string;
  /**
   * What the start statement was signed for when that is not this runbook: the evacuation run (`runId`), the
   * evacuation's id and sha256, and the evacuation as signed (`cover`: its hash recomputes to `sha256` and it lists
   * this runbook with this hash), as the worker verified it. An abort the evacuation forwards is signed for it too.
   */
  signedFor?: StartCover;
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
  /** The policy and reviewed runbook that governed the run. */
  authorization?: RunAuthorization;
  awaiting: AwaitingOperator[];
  /**
   * While the parent that started it holds it under its lock, changing nothing (a drill until it injects its
   * failure, an evacuation until the service's wave starts): the parent's workflow id.
   */
  heldBy?: string;
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
  /** The pre-flight step whose checks include this step's (listed there, not again here). */
  checkedBy?: string;
  /** The parallel group the step runs in (its id, as in a timeline entry), beside the group's other steps. */
  group?: string;
  /** That group's title, when it has one. */
  groupTitle?: string;
}

export interface PlanResult {
  runbookId: string;
  steps: PlannedStep[];
  /** True only when every check of every step passed and every step could be planned. */
  ready: boolean;
  /** How many checks failed (including steps that could not be planned). */
  failedChecks: number;
}
