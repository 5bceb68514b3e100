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
  /** Performs the step through its activities. Throws to fail the step. */
  run(step: z.output<Schema>, context: RunContext<A>): Promise<StepResult<U>>;
  /** Undoes what a completed step changed, after an operator's abort; says what it did or why it did not. */
  undo(undo: U, context: UndoContext<A>): Promise<UndoOutcome>;
  /** The step's counterpart in the failback runbook (`[]` drops it; databases are swapped by their provider). */
  failback(step: z.output<Schema>): Array<z.output<Schema>>;
  /** Cases the shared kind tester runs through `defineRunbook` (see test/unit/step-kinds.test.ts). */
  readonly examples: StepKindExamples;
}

export interface CrossCheckContext {
  runbook: Runbook;
  /** Databases promoted by steps that finish before this one starts (not those in the same parallel group). */
  promotedBefore: ReadonlySet<string>;
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
}

export interface PlanPart {
  changes?: PlannedChange[];
  checks?: CheckResult[];
  /** For steps that change nothing by nature (wait, probe, approval): what they would do. */
  note?: string;
}

/** What steps share during one run. */
export interface RunState {
  runbook: Runbook;
  /** Database name → endpoint of the member a promotion confirmed writable. DNS may point only here. */
  confirmedWritable: Map<string, string>;
}

export interface ApprovalRequest {
  prompt: string;
  twoPerson: boolean;
  /** Who must approve (N of a group, not the initiator); `twoPerson` is shorthand for one other person. */
  approvers?: ApprovalRule;
  timeoutMs?: number;
}

/** What a step may ask of the run it is part of. */
export interface RunControls {
  /** Waits for an operator's approval; resolves with who approved, or null when the run was aborted instead. */
  awaitApproval(stepId: string, request: ApprovalRequest): Promise<string | null>;
  /** Every pre-flight check of the runbook, derived from what its steps touch. */
  runPreflight(): Promise<CheckResult[]>;
  /** A durable timer. */
  sleep(ms: number): Promise<void>;
}

export interface RunContext<A> {
  runbook: Runbook;
  /** Activities with this step's timeout and retry policy. */
  activities: A;
  state: RunState;
  controls: RunControls;
  /** Shows checks in the timeline while the step still runs (pre-flight). */
  reportChecks(checks: CheckResult[]): void;
}

/** A step's result. `compensation` is the kind's undo data, or an `irreversible` reason. */
export type StepResult<U = unknown> = Partial<Omit<StepOutcome, 'compensation'>> & {
  checks?: CheckResult[];
  compensation?: U | Irreversible;
  /** The run was aborted while the step waited for an operator: it is recorded as skipped with this summary. */
  abortedWhileWaiting?: string;
};

export interface UndoContext<A> {
  runbook: Runbook;
  activities: A;
  /** True when a promotion completed in this run: nothing may make the old primary writable again. */
  promoted: boolean;
}

export interface UndoOutcome {
  status: 'undone' | 'not undone';
  detail: string;
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
