import type { LeafStep, Runbook } from '../runbooks/schema';

/** Every leaf step in order, parallel groups flattened. */
export function leafStepsOf(runbook: Runbook): LeafStep[] {
  return runbook.steps.flatMap((step) => (step.kind === 'parallel' ? step.steps : [step]));
}
