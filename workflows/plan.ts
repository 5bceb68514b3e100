import { proxyActivities } from '@temporalio/workflow';
import type { PlannedChange } from '../activities/contracts';
import { stepKind, type KindActivities } from '../kinds/registry';
import type { LeafStep, Runbook } from '../runbooks/schema';
import { PLAN_ACTIVITY_OPTIONS } from './activity-options';
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
export async function planWorkflow(runbook: Runbook): Promise<PlanResult> {
  const activities = proxyActivities<KindActivities>(PLAN_ACTIVITY_OPTIONS);
  const leaves = leafStepsOf(runbook);
  const planOne = async (step: LeafStep, writable: RecordingMap): Promise<Planned> => {
    const planned: PlannedStep = {
      stepId: step.id,
      kind: step.kind,
      changes: [],
      checks: [],
      ...(step.title === undefined ? {} : { title: step.title }),
    };
    let changes: PlannedChange[] = [];
    try {
      const part = await stepKind(step.kind).plan(step, {
        runbook,
        activities,
        plannedWritable: writable,
        runPreflight: () => runPreflightChecks(runbook, activities),
      });
      changes = part.changes ?? [];
      planned.checks = part.checks ?? [];
      if (part.note !== undefined) planned.note = part.note;
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
  const first = await Promise.all(leaves.map((step) => planOne(step, new RecordingMap())));
  const available = new Map<string, string>();
  const results: Planned[] = [];
  for (const [index, step] of leaves.entries()) {
    let result = first[index] as Planned;
    if ([...result.writable.reads].some((key) => available.has(key) && !result.writable.has(key))) {
      result = await planOne(step, new RecordingMap(available));
    }
    for (const [key, value] of result.writable.written) available.set(key, value);
    results.push(result);
  }

  const simulated = new SimulatedState();
  const steps = results.map(({ planned, changes }) => ({
    ...planned,
    changes: simulated.apply(planned.stepId, changes),
  }));
  const failed = steps.flatMap((step) => step.checks).filter((check) => !check.ok).length;
  return { runbookId: runbook.id, steps, ready: failed === 0, failedChecks: failed };
}

interface Planned {
  planned: PlannedStep;
  changes: PlannedChange[];
  writable: RecordingMap;
}

/** The endpoints map a step's plan sees, remembering which databases it asked for and which it provided. */
class RecordingMap extends Map<string, string> {
  readonly reads = new Set<string>();
  readonly written = new Map<string, string>();

  override get(key: string): string | undefined {
    this.reads.add(key);
    return super.get(key);
  }

  override set(key: string, value: string): this {
    this.written?.set(key, value);
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
