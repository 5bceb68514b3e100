import { proxyActivities } from '@temporalio/workflow';
import type { PlannedChange } from '../activities/contracts';
import { stepKind, type KindActivities } from '../kinds/registry';
import type { Runbook } from '../runbooks/schema';
import { PLAN_ACTIVITY_OPTIONS } from './activity-options';
import { automaticPreflightStep, runsAutomaticPreflight } from './automatic-preflight';
import { innermostMessage } from './innermost-message';
import { leafStepsOf } from './leaf-steps';
import { runPreflightChecks } from './preflight-checks';
import type { PlannedStep, PlanResult } from './run-types';

/**
 * Computes what a failover would do, changing nothing. Each step is planned against the state the earlier
 * steps would leave (a flag step 2 turns on is "on" for step 5), not only against what is there now. The
 * verdict is ready only when every check of every step passed and every step could be planned. It runs on the
 * worker (which holds the credentials), so `drctl plan` needs no cloud access of its own.
 */
export async function planWorkflow(runbook: Runbook): Promise<PlanResult> {
  const activities = proxyActivities<KindActivities>(PLAN_ACTIVITY_OPTIONS);
  const plannedWritable = new Map<string, string>();
  const simulated = new SimulatedState();
  const steps: PlannedStep[] = [];
  if (runsAutomaticPreflight(runbook.steps)) {
    // The run checks every target before its first change, preflight step or not: so does its plan.
    const step = automaticPreflightStep();
    steps.push({
      stepId: step.id,
      kind: step.kind,
      ...(step.title === undefined ? {} : { title: step.title }),
      changes: [],
      checks: await runPreflightChecks(runbook, activities),
    });
  }
  for (const step of leafStepsOf(runbook)) {
    const planned: PlannedStep = {
      stepId: step.id,
      kind: step.kind,
      changes: [],
      checks: [],
      ...(step.title === undefined ? {} : { title: step.title }),
    };
    try {
      const part = await stepKind(step.kind).plan(step, {
        runbook,
        activities,
        plannedWritable,
        runPreflight: () => runPreflightChecks(runbook, activities),
      });
      planned.changes = simulated.apply(step.id, part.changes ?? []);
      planned.checks = part.checks ?? [];
      if (part.note !== undefined) planned.note = part.note;
    } catch (error) {
      planned.checks.push({
        check: `${step.id}: could not plan`,
        ok: false,
        message: innermostMessage(error),
      });
    }
    steps.push(planned);
  }
  const failed = steps.flatMap((step) => step.checks).filter((check) => !check.ok).length;
  return { runbookId: runbook.id, steps, ready: failed === 0, failedChecks: failed };
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
