import type { z } from 'zod';
import type { CheckResult, Irreversible, PlannedChange, StepOutcome } from '../activities/contracts';
import type { ApprovalRule } from '../auth/approval-rule';
import type { RunbookIssue } from '../runbooks/runbook-validation-error';
import type { Runbook } from '../runbooks/schema';

/**
 * Everything about one step kind, in one place: its schema, its cross-checks, what pre-flight must read, how it
 * plans against a simulated state, how it runs, how it is undone and how it is reversed for a failback. This
 * half is pure (it is bundled into workflow code); a kind's I/O lives beside it in `activities.ts`, loaded by
 * the worker from the folder named after the kind (`dns.switch` → `kinds/dns-switch/activities.ts`).
 *
 * `A` is the kind's activity surface (what its `activities.ts` implements and what `run`/`plan`/`undo` call);
 * `U` is the undo data its activity reports when the step changed something.
 */
export interface StepKind<Schema extends z.ZodObject = z.ZodObject, A = unknown, U = unknown> {
  readonly kind: z.output<Schema> extends { kind: infer K extends string } ? K : never;
  /** One line for `drctl validate`, the README and error messages. */
  readonly description: string;
  /** True when the kind changes the estate (pre-flight must have passed before it runs). */
  readonly mutates: boolean;
  /**
   * True when its plan tells later steps the endpoint it would make writable (`plannedWritable.set`); a plan
   * waits only for such steps before it plans again a later step that asked for an endpoint.
   */
  readonly providesEndpoints?: true;
  /** The full step schema, common fields included (`leafStepSchema(kind, {...})`). */
  readonly schema: Schema;
  /** The activities `activities.ts` must provide; the registry test checks it does, and nothing else does. */
  readonly activityNames: ReadonlyArray<keyof A & string>;
  /** Checks across the runbook (references, order) once the schema passed. Paths are relative to the step. */
  crossCheck(step: z.output<Schema>, context: CrossCheckContext): RunbookIssue[];
  /** The read-only checks of what this step touches, run by pre-flight before the first change. */
  preflight(step: z.output<Schema>, runbook: Runbook): Array<PreflightRequest<A>>;
  /** What the step would change, read against current state; the plan overlays earlier steps' effects. */
  plan(step: z.output<Schema>, context: PlanContext<A>): Promise<PlanPart>;
  /**
   * Performs the step through its activities. Throws to fail the step. A mutating kind reads the state it will
   * change first (an activity, or a local one through `reads` for a quick read, so the read is in history) and
   * hands the undo to `controls.beforeEffect` before the activity that changes anything: a retry after a crash
   * then still knows the undo.
   */
  run(step: z.output<Schema>, context: RunContext<A>): Promise<StepResult>;
  /**
   * The read `run` makes before its effect, when no step of another kind changes what it reads (the records a DNS
   * step switches): the run starts it as the step before this one starts, so it is not a round trip of its own
   * between them. `run` gets it as `context.readAhead`, and its effect must refuse to act (`ChangedSinceRead`)
   * when the state moved since, since that read is the undo; `run` then reads again. Not started when the step
   * before is of the same kind (it may change what this one reads). A fence's effect instead finds out what it
   * really replaced and records that (see `database.fence`).
   */
  readAhead?(step: z.output<Schema>, activities: A, runbook: Runbook): Promise<unknown>;
  /**
   * The patch id runs began with once this kind's `readAhead` was added (the DNS step's predates this field and is
   * covered by the run's own `READ_AHEAD_PATCH`): a run recorded before it replays without the read.
   */
  readonly readAheadPatch?: string;
  /**
   * Undoes what a step changed, after an operator's abort (or an approval timeout that says so); says what it
   * did, or what it kept and why. Called for completed steps and for steps whose effect may have happened
   * (interrupted, failed after acting); undo data is always the state read before acting, so undo is idempotent.
   */
  undo(undo: U, context: UndoContext<A>): Promise<UndoOutcome>;
  /**
   * The step's counterpart in the failback runbook (`[]` drops it; databases are swapped by their provider).
   * `recorded` is what the failover run recorded before it changed anything, when the failback knows that run.
   */
  failback(
    step: z.output<Schema>,
    recorded: RecordedFailover,
    context: FailbackContext,
  ): Array<z.output<Schema>>;
  /**
   * How many different operators must `skip` this step when it failed and paused the run (default 1). A fence
   * needs two: skipping it goes on with an old primary that may still take writes.
   */
  readonly skipApprovers?: number;
  /** What the run must remember when an operator skips a failed step of this kind (a fence: it went on unfenced). */
  skipped?(step: z.output<Schema>, state: RunState, approvedBy: string[]): void;
  /** Cases the shared kind tester runs through `defineRunbook` (see test/unit/step-kinds.test.ts). */
  readonly examples: StepKindExamples;
}

export interface CrossCheckContext {
  runbook: Runbook;
  /** Databases promoted by steps that finish before this one starts (not those in the same parallel group). */
  promotedBefore: ReadonlySet<string>;
  /** Databases fenced by steps that finish before this one starts, likewise. */
  fencedBefore: ReadonlySet<string>;
}

/**
 * One read-only check pre-flight runs. Requests with the same `key` are merged (their `items` joined without
 * duplicates) and run once, so two flag steps check each flag once.
 */
export interface PreflightRequest<A, I = unknown> {
  key: string;
  /** Names the check when it cannot even run (`dns sandbox.drctl.internal.`). */
  label: string;
  items: I[];
  run(activities: A, items: I[]): Promise<CheckResult[]>;
}

/** A request whose items have a type of their own; merged requests share a key, so share an item type. */
export function preflightRequest<A, I>(request: PreflightRequest<A, I>): PreflightRequest<A> {
  return request as unknown as PreflightRequest<A>;
}

export interface PlanContext<A> {
  runbook: Runbook;
  /** Read-only activities with the plan's short timeouts. */
  activities: A;
  /** Database name → endpoint a promotion planned earlier would make writable. */
  plannedWritable: Map<string, string>;
  runPreflight(): Promise<CheckResult[]>;
  /**
   * The read `key` names, made once per plan however often the step is planned (again, with an endpoint an earlier
   * step's plan provides): the first call starts it, later ones share its answer, a failure included (the step
   * is then "could not plan" both times, not read again).
   */
  readOnce<T>(key: string, read: () => Promise<T>): Promise<T>;
  /**
   * The id of the pre-flight the plan also makes (the runbook's, or the one added before the first change), which
   * makes every step's read-only checks: a step whose plan is only those checks points at it instead of making them
   * again. Undefined when the plan makes no pre-flight.
   */
  checkedByPreflight?: string;
}

export interface PlanPart {
  changes?: PlannedChange[];
  checks?: CheckResult[];
  /** For steps that change nothing by nature (wait, probe, approval): what they would do. */
  note?: string;
  /** The pre-flight whose checks include this step's (`PlanContext.checkedByPreflight`): listed there. */
  checkedBy?: string;
}

/** What steps share during one run. */
export interface RunState {
  runbook: Runbook;
  /** Database name → endpoint of the member a promotion confirmed writable. DNS may point only here. */
  confirmedWritable: Map<string, string>;
  /** Databases this run went on with without fencing their old primary, and who approved that. */
  unfenced: Map<string, { approvedBy: string[] }>;
}

export interface ApprovalRequest {
  prompt: string;
  /** Who must approve: N distinct verified operators, from a group, not the initiator (auth/approval-rule). */
  approvers: ApprovalRule;
  /** How long to wait; without it the gate waits until answered or the run is aborted. */
  timeoutMs?: number;
}

/** How an approval gate ended. */
export type ApprovalAnswer =
  { outcome: 'approved'; approvedBy: string[] } | { outcome: 'aborted' } | { outcome: 'timed out' };

/**
 * What a mutating step records before its effect: the undo (read from the estate by an activity, so it is in
 * history), whether the step will change anything, and the state before (shown in the timeline; failback
 * restores flags from it). `promotion` names the database of a step that may make a new primary: once one
 * started, rollback keeps traffic off the old member.
 */
export interface EffectRecord {
  undo?: unknown;
  willChange: boolean;
  before?: unknown;
  promotion?: string;
  /**
   * Replaces this step's earlier record: the effect it announced refused before changing anything (the state
   * read ahead had moved, `ChangedSinceRead`, or a fence found someone else's fence in place), so the state read
   * again is what the step changes. Without it a second record keeps the first undo (a retried step may have
   * acted on its first attempt).
   */
  supersedes?: true;
  /**
   * Replaces the undo an earlier execution of this step recorded (an operator's retry, which otherwise keeps it):
   * the kind merged the two, keeping the earlier undo for what that execution changed and the state read now for
   * the rest (a writer may have changed those since).
   */
  mergedWithEarlier?: true;
}

/** What a step may ask of the run it is part of. */
export interface RunControls {
  /** Waits for operators' approval; says who approved, or that the run was aborted or the wait timed out. */
  awaitApproval(stepId: string, request: ApprovalRequest): Promise<ApprovalAnswer>;
  /** Every pre-flight check of the runbook, derived from what its steps touch. */
  runPreflight(): Promise<CheckResult[]>;
  /** A durable timer; an abort interrupts it. */
  sleep(ms: number): Promise<void>;
  /**
   * Records what the step is about to change, before the activity that changes it is called. Returns the undo
   * the run now holds for the step: an earlier execution's (an operator's retry keeps it: that execution may have
   * acted), else this record's.
   */
  beforeEffect(record: EffectRecord): RecordedEffect;
}

/** The undo a run holds for a step, and whether an earlier execution of the step recorded it. */
export interface RecordedEffect {
  undo?: unknown;
  byEarlierExecution: boolean;
  /**
   * Whether the run's record says the step changes something: this execution's plan, or an earlier execution's
   * (before an operator's retry) that found the change still to make.
   */
  willChange: boolean;
  /** After an operator's retry: the failure type the step's previous execution ended with. */
  earlierFailure?: string;
}

export interface RunContext<A> {
  runbook: Runbook;
  /** Activities with this step's timeout and retry policy. */
  activities: A;
  /**
   * The same activities run as local activities, for a read a step makes before its effect when that read is
   * quick and shares no rate limit (Unleash, PostgreSQL; not AWS, whose calls wait for the shared pacer, nor a
   * resumable page loop): its result is recorded in the workflow task that goes on to the effect, still in
   * history before it, without a round trip through the task queue. Runs that began before this existed get
   * `activities` here, so they replay what they recorded.
   */
  reads: A;
  /**
   * What the kind's `readAhead` read while the step before ran (first attempt only), or undefined when the run
   * did not read ahead; the promise resolves to undefined when that read failed (`run` then reads as usual), and
   * rejects when the step is cancelled while waiting for it.
   */
  readAhead?: Promise<unknown>;
  state: RunState;
  controls: RunControls;
  /** Shows checks in the timeline while the step still runs (pre-flight). */
  reportChecks(checks: CheckResult[]): void;
}

/** A step's result; its undo was recorded before it acted (`RunControls.beforeEffect`). */
export type StepResult = Partial<Omit<StepOutcome, 'compensation'>> & {
  checks?: CheckResult[];
  /** The run was aborted while the step waited for an operator: it is recorded as skipped with this summary. */
  abortedWhileWaiting?: string;
  /** The step ends the run whatever its `onFailure` says (an approval that timed out), rolling back or not. */
  halt?: { type: string; message: string; rollback: boolean };
};

/**
 * Whether a replica may have become the primary in this run: `completed` (a promotion step finished),
 * `possible` (one was under way when the run stopped, or failed after acting), or `none`.
 */
export type PromotionState = 'none' | 'completed' | 'possible';

export interface UndoContext<A> {
  runbook: Runbook;
  activities: A;
  /** Once a promotion completed (or may have), nothing may move traffic back to, or re-open, the old primary. */
  promotion: PromotionState;
  /** `partial`: the step did not finish (interrupted, or failed after acting), so its effect may be in part. */
  effect: 'complete' | 'partial';
}

export interface UndoOutcome {
  /** `kept`: deliberately left as it is by a safety rule (the detail says which); `not undone`: nothing to undo. */
  status: 'undone' | 'partly undone' | 'kept' | 'not undone';
  detail: string;
}

/** What a failback knows about the failover it reverses: the state that run recorded before its changes. */
export interface RecordedFailover {
  /** The failover's workflow and run id, for the failback's description. */
  run?: string;
  /** Flag values before the failover changed them: `project/environment/name` → enabled. */
  flagsBefore: ReadonlyMap<string, boolean>;
  /**
   * DNS record sets as the failover's switches read them before changing them: `dnsRecordKey(zone, type, name)` →
   * TTL and values (TTL null and no values: there was no such record). Absent when the failback knows no run.
   */
  recordsBefore?: ReadonlyMap<string, RecordSetBefore>;
}

/** Where a step's failback counterpart goes: the failback's targets (swapped), and what it promoted before. */
export interface FailbackContext {
  databases: Runbook['targets']['databases'];
  /** Databases a `database.promote` of the failback promotes before this step (a parallel group's after it). */
  promotedBefore: ReadonlySet<string>;
}

export interface RecordSetBefore {
  ttl: number | null;
  values: string[];
}

export interface StepKindExamples {
  /** Step inputs that must validate; `before` steps are placed ahead of it in the runbook. */
  valid: Array<{ step: Record<string, unknown>; before?: Array<Record<string, unknown>> }>;
  /** Step inputs that must be refused, with the problem's path relative to the step and its message. */
  invalid: Array<{
    step: Record<string, unknown>;
    before?: Array<Record<string, unknown>>;
    path: string;
    message: RegExp;
  }>;
}

/** Declares a step kind; the identity function exists so TypeScript infers the schema and activity types. */
export function defineStepKind<Schema extends z.ZodObject, A, U = never>(
  definition: StepKind<Schema, A, U>,
): StepKind<Schema, A, U> {
  return definition;
}

/** The undo of a kind whose steps change nothing. */
export async function nothingToUndo(): Promise<UndoOutcome> {
  return { status: 'not undone', detail: 'the step changed nothing' };
}

/** The kind's folder under `kinds/`: `dns.switch` → `dns-switch`. */
export function kindFolder(kind: string): string {
  return kind.replace(/\./g, '-');
}

/** The activity surface of a kind that has none (preflight, approval, wait). */
export type NoActivities = Record<never, never>;

export function isIrreversible(compensation: unknown): compensation is Irreversible {
  return (
    typeof compensation === 'object' &&
    compensation !== null &&
    (compensation as { kind?: unknown }).kind === 'irreversible'
  );
}
