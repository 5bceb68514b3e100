import { CancellationScope, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import { hasPatch } from './patch-bundle';
import type { CheckResult } from '../activities/contracts';
import { stepKind, type KindActivities } from '../kinds/registry';
import type { RunControls, RunState, StepResult } from '../kinds/step-kind';
import type { LeafStep, Runbook, Step } from '../runbooks/schema';
import { activityOptionsFor, localReadOptionsFor } from './activity-options';
import { runPreflightChecks } from './preflight-checks';

export type { RunState, StepResult } from '../kinds/step-kind';

/** What the run lends its steps: approvals and the record of effects. Pre-flight and timers are provided here. */
export type OperatorGates = Pick<RunControls, 'awaitApproval' | 'beforeEffect'> & {
  /** Every check of a pre-flight passed: the run may change things. */
  preflightPassed(): void;
  /** The checks this pre-flight step made while the run was held (`HeldReads`), once; undefined: read now. */
  heldChecks?(): Promise<CheckResult[]> | undefined;
};

/** Runs that began after this make a step's quick reads before its effect as local activities (`RunContext.reads`). */
export const LOCAL_STEP_READS_PATCH = 'step-reads-as-local-activities';

/** Runs that began after this start a step's `readAhead` as the step before it starts (`readAheadFor`). */
export const READ_AHEAD_PATCH = 'read-ahead-while-the-step-before-runs';

/** Runs that began after this also read ahead for the steps of a parallel group that comes next (`readAheadsFor`). */
export const GROUP_READ_AHEAD_PATCH = 'read-ahead-into-parallel-groups';

/**
 * Starts the reads ahead of `next` as `current` starts, by step id: `next`'s own, or, when `next` is a parallel
 * group, each of its steps' (runs that began after `GROUP_READ_AHEAD_PATCH`). An evacuation's services fence
 * their databases as one group: each fence's plan is then read during the pre-flight instead of after it. Steps
 * in `started` already have their read ahead (made while the run was held): none is started for them.
 */
export function readAheadsFor(
  current: Step,
  next: Step | undefined,
  runbook: Runbook,
  started: ReadonlyMap<string, unknown> = new Map(),
): Map<string, Promise<unknown>> {
  const reads = new Map<string, Promise<unknown>>();
  if (next === undefined) return reads;
  const leaves = next.kind === 'parallel' ? next.steps : [next];
  const ahead = leaves.filter((leaf) => !started.has(leaf.id) && readsAhead(current, leaf));
  if (ahead.length === 0) return reads;
  if (next.kind === 'parallel' && !hasPatch(GROUP_READ_AHEAD_PATCH)) return reads;
  for (const leaf of ahead) {
    const read = readAheadFor(leaf, runbook);
    if (read !== undefined) reads.set(leaf.id, read);
  }
  return reads;
}

/** Whether `next`'s kind reads ahead, and `current` has no step of that kind (whose effect the read could miss). */
function readsAhead(current: Step, next: LeafStep): boolean {
  const running = current.kind === 'parallel' ? current.steps : [current];
  return stepKind(next.kind).readAhead !== undefined && !running.some((step) => step.kind === next.kind);
}

/**
 * Starts `next`'s read ahead (its kind's `readAhead`, with its timeout and retry policy), or undefined for a run
 * that began before the kind's read ahead. A failed read ahead resolves to undefined: the step then reads as
 * usual, and meets the failure there if it lasts.
 */
function readAheadFor(next: LeafStep, runbook: Runbook): Promise<unknown> | undefined {
  const kind = stepKind(next.kind);
  if (kind.readAhead === undefined || !hasPatch(kind.readAheadPatch ?? READ_AHEAD_PATCH)) return undefined;
  const activities = proxyActivities<KindActivities>(activityOptionsFor(next));
  return kind.readAhead(next, activities, runbook).catch(() => undefined);
}

/**
 * `read`, or a rejection as soon as the step's scope is cancelled (an abort): the read ahead was started outside
 * the step's scope, so awaiting it alone would hold the abort until the read answered (Route 53 slow, retrying).
 */
function unlessCancelled(read: Promise<unknown>): Promise<unknown> {
  const guarded = Promise.race([read, CancellationScope.current().cancelRequested]);
  guarded.catch(() => undefined); // a step that never awaits it must not leave an unhandled rejection
  return guarded;
}

/** Performs one leaf step through its kind, with the step's own timeout and retry policy. */
export function performStep(
  step: LeafStep,
  state: RunState,
  gates: OperatorGates,
  onChecks: (checks: CheckResult[]) => void,
  readAhead?: Promise<unknown>,
): Promise<StepResult> {
  const activities = proxyActivities<KindActivities>(activityOptionsFor(step));
  return stepKind(step.kind).run(step, {
    runbook: state.runbook,
    activities,
    reads: hasPatch(LOCAL_STEP_READS_PATCH)
      ? proxyLocalActivities<KindActivities>(localReadOptionsFor(step))
      : activities,
    ...(readAhead === undefined ? {} : { readAhead: unlessCancelled(readAhead) }),
    state,
    controls: {
      awaitApproval: (stepId, request) => gates.awaitApproval(stepId, request),
      runPreflight: async () => {
        // Checks made while held ran outside this step's scope: an abort must not wait for them to answer.
        const held = gates.heldChecks?.();
        const checks = await (held === undefined
          ? runPreflightChecks(state.runbook, activities)
          : (unlessCancelled(held) as Promise<CheckResult[]>));
        if (checks.every((check) => check.ok)) gates.preflightPassed();
        return checks;
      },
      sleep: (ms) => sleep(ms),
      beforeEffect: (record) => gates.beforeEffect(record),
    },
    reportChecks: onChecks,
  });
}
