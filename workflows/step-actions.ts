import { proxyActivities, sleep } from '@temporalio/workflow';
import type { CheckResult } from '../activities/contracts';
import { stepKind, type KindActivities } from '../kinds/registry';
import type { RunControls, RunState, StepResult } from '../kinds/step-kind';
import type { LeafStep } from '../runbooks/schema';
import { activityOptionsFor } from './activity-options';
import { runPreflightChecks } from './preflight-checks';

export type { RunState, StepResult } from '../kinds/step-kind';

/** What the run lends its steps: approvals. Pre-flight and timers are provided here. */
export type OperatorGates = Pick<RunControls, 'awaitApproval'>;

/** Performs one leaf step through its kind, with the step's own timeout and retry policy. */
export function performStep(
  step: LeafStep,
  state: RunState,
  gates: OperatorGates,
  onChecks: (checks: CheckResult[]) => void,
): Promise<StepResult> {
  const activities = proxyActivities<KindActivities>(activityOptionsFor(step));
  return stepKind(step.kind).run(step, {
    runbook: state.runbook,
    activities,
    state,
    controls: {
      awaitApproval: (stepId, request) => gates.awaitApproval(stepId, request),
      runPreflight: () => runPreflightChecks(state.runbook, activities),
      sleep: (ms) => sleep(ms),
    },
    reportChecks: onChecks,
  });
}
