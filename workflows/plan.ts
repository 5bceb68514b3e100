import { proxyActivities } from '@temporalio/workflow';
import { hasPatch } from './patch-bundle';
import type { CheckResult, PlannedChange } from '../activities/contracts';
import { stepKind, type KindActivities } from '../kinds/registry';
import type { LeafStep, Runbook } from '../runbooks/schema';
import { PLAN_ACTIVITY_OPTIONS } from './activity-options';
import { automaticPreflightStep, runsAutomaticPreflight } from './automatic-preflight';
import { innermostMessage } from './innermost-message';
import { leafStepsOf } from './leaf-steps';
import { runPreflightChecks } from './preflight-checks';
import type { PlannedStep, PlanResult } from './run-types';

/**
 * Computes what a failover would do, changing nothing. Each step is planned against the state the earlier
 * steps would leave (a flag step 2 turns on is "on" for step 5), not only against what is there now. The
 * read-only checks and reads of all steps run in parallel. The
 * verdict is ready only when every check of every step passed and every step could be planned. It runs on the
 * worker (which holds the credentials), so `drctl plan` needs no cloud access of its own.
 */
export async function planWorkflow(runbook: Runbook, decided: { checksOnce: boolean }): Promise<PlanResult> {
  const activities = proxyActivities<KindActivities>(PLAN_ACTIVITY_OPTIONS);
  const leaves = leafStepsOf(runbook);
  const groups = groupsOf(runbook);
  const automatic = runsAutomaticPreflight(runbook.steps) ? automaticPreflightStep() : undefined;
  const preflightId = automatic?.id ?? leaves.find((step) => step.kind === 'preflight')?.id;
  const checkedByPreflight =
    preflightId !== undefined && decided.checksOnce ? { checkedByPreflight: preflightId } : {};
  // Every pre-flight of the runbook makes the same checks: made once, however many steps show them.
  let preflight: Promise<CheckResult[]> | undefined;
  const runPreflight = decided.checksOnce
    ? () => (preflight ??= runPreflightChecks(runbook, activities))
    : () => runPreflightChecks(runbook, activities);
  const reads = new Map<string, Promise<unknown>>();
  const readOnce = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    if (!reads.has(key)) reads.set(key, read());
    return reads.get(key) as Promise<T>;
  };
  const planOne = async (step: LeafStep, known: ReadonlyMap<string, string>): Promise<Planned> => {
    const writable = new RecordingMap(known, stepKind(step.kind).providesEndpoints === true);
    const planned: PlannedStep = {
      stepId: step.id,
      kind: step.kind,
      changes: [],
      checks: [],
      ...(step.title === undefined ? {} : { title: step.title }),
      ...groups.get(step.id),
    };
    let changes: PlannedChange[] = [];
    try {
      const part = await stepKind(step.kind).plan(step, {
        runbook,
        activities,
        plannedWritable: writable,
        runPreflight,
        readOnce,
        ...checkedByPreflight,
      });
      changes = part.changes ?? [];
      planned.checks = part.checks ?? [];
      if (part.note !== undefined) planned.note = part.note;
      if (part.checkedBy !== undefined) planned.checkedBy = part.checkedBy;
    } catch (error) {
      planned.checks.push({
        check: `${step.id}: could not plan`,
        ok: false,
        message: innermostMessage(error),
      });
    }
    return { planned, changes, writable };
  };

  // Every step's reads are independent: plan them all at once. A step that asked for an endpoint an earlier
  // step's plan provides (DNS after a promotion) is planned again with it, once the earlier ones are known.
  // The run checks every target before its first change, preflight step or not: so does its plan.
  const automaticChecks = automatic === undefined ? Promise.resolve([]) : runPreflight();
  const first = leaves.map((step) => planOne(step, new Map()));
  const again = (step: LeafStep, result: Planned, before: readonly Planned[]): Promise<Planned> => {
    const available = new Map<string, string>();
    for (const earlier of before)
      for (const [key, value] of earlier.writable.written) available.set(key, value);
    return [...result.writable.reads].some((key) => available.has(key) && !result.writable.has(key))
      ? planOne(step, available)
      : Promise.resolve(result);
  };
  const results = hasPatch(PROMPT_REPLAN_PATCH)
    ? await Promise.all(
        // A step is planned again as soon as the earlier steps that provide endpoints are planned, not after
        // every other step's reads (a slow pre-flight check held DNS's second plan back).
        leaves.reduce<Array<Promise<Planned>>>((finals, step, index) => {
          const providers = finals.filter((_, earlier) => stepKind(leaves[earlier]!.kind).providesEndpoints);
          const own = first[index]!;
          return [
            ...finals,
            Promise.all([own, Promise.all(providers)]).then(([result, before]) =>
              again(step, result, before),
            ),
          ];
        }, []),
      )
    : await Promise.all([automaticChecks, Promise.all(first)]).then(async ([, firsts]) => {
        const finals: Planned[] = [];
        for (const [index, step] of leaves.entries()) finals.push(await again(step, firsts[index]!, finals));
        return finals;
      });

  const checks = await automaticChecks;
  const simulated = new SimulatedState();
  const steps: PlannedStep[] = [
    ...(automatic === undefined
      ? []
      : [
          {
            stepId: automatic.id,
            kind: automatic.kind,
            ...(automatic.title === undefined ? {} : { title: automatic.title }),
            changes: [],
            checks,
          },
        ]),
    ...results.map(({ planned, changes }) => ({
      ...planned,
      changes: simulated.apply(planned.stepId, changes),
    })),
  ];
  const failedChecks = steps.flatMap((step) => step.checks).filter((check) => !check.ok);
  // A check two pre-flight steps both show failed once.
  const failed = decided.checksOnce
    ? new Set(failedChecks.map((check) => check.check)).size
    : failedChecks.length;
  return { runbookId: runbook.id, steps, ready: failed === 0, failedChecks: failed };
}

/** The parallel group of each step that runs in one, by step id. */
function groupsOf(runbook: Runbook): Map<string, Pick<PlannedStep, 'group' | 'groupTitle'>> {
  const groups = new Map<string, Pick<PlannedStep, 'group' | 'groupTitle'>>();
  for (const step of runbook.steps) {
    if (step.kind !== 'parallel') continue;
    const group = { group: step.id, ...(step.title === undefined ? {} : { groupTitle: step.title }) };
    for (const member of step.steps) groups.set(member.id, group);
  }
  return groups;
}

/**
 * Plans that began after this make each read-only check once: a step whose plan is only the checks its pre-flight
 * entry makes (backups.verify) points at the pre-flight, and every pre-flight step shows the same checks, made
 * once. Earlier plans made them again for each (and counted a failed one as often).
 */
export const CHECKS_ONCE_PATCH = 'plan-makes-each-check-once';

/**
 * Plans that began after this plan a step again (DNS after a promotion) as soon as the earlier steps that provide
 * endpoints are planned; before, only once every step's first reads had answered.
 */
export const PROMPT_REPLAN_PATCH = 'plan-again-as-soon-as-earlier-steps-are-planned';

interface Planned {
  planned: PlannedStep;
  changes: PlannedChange[];
  writable: RecordingMap;
}

/**
 * The endpoints map a step's plan sees, remembering which databases it asked for and which it provided. Only a
 * kind that says it provides endpoints may write to it: the plan waits for no other before planning again.
 */
class RecordingMap extends Map<string, string> {
  readonly reads = new Set<string>();
  readonly written = new Map<string, string>();

  constructor(
    known: ReadonlyMap<string, string>,
    private readonly providesEndpoints: boolean = false,
  ) {
    super(known);
  }

  override get(key: string): string | undefined {
    this.reads.add(key);
    return super.get(key);
  }

  override set(key: string, value: string): this {
    // The Map constructor fills the known endpoints through set(), before the fields below exist.
    if (this.written === undefined) return super.set(key, value);
    if (!this.providesEndpoints)
      throw new Error(
        `planned an endpoint for "${key}", but its step kind does not declare providesEndpoints`,
      );
    this.written.set(key, value);
    return super.set(key, value);
  }
}

/**
 * What the estate would look like after the steps planned so far: each change's target holds the value the
 * last step to touch it would leave. A step is compared with that, not with what a read of today returns.
 */
class SimulatedState {
  private readonly values = new Map<string, { value: string; by: string }>();

  apply(stepId: string, changes: PlannedChange[]): PlannedChange[] {
    return changes.map((change) => {
      const earlier = this.values.get(change.target);
      this.values.set(change.target, { value: change.desired, by: stepId });
      if (earlier === undefined) return change;
      return {
        ...change,
        current: `${earlier.value} (after ${earlier.by})`,
        willChange: earlier.value !== change.desired,
      };
    });
  }
}
