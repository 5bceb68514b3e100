import { stepKind } from '../kinds/registry';
import type { LeafStep, Step } from '../runbooks/schema';

/** The id the interpreter gives the pre-flight it runs before the first change of a runbook. */
export const AUTOMATIC_PREFLIGHT_ID = 'automatic-preflight';

/** True when the step, or a step of its parallel group, changes the estate. */
export function changesEstate(step: Step): boolean {
  const leaves = step.kind === 'parallel' ? step.steps : [step];
  return leaves.some((leaf) => stepKind(leaf.kind).mutates);
}

/** Whether the interpreter adds its own pre-flight: no explicit one comes before the first change. */
export function runsAutomaticPreflight(steps: readonly Step[]): boolean {
  for (const step of steps) {
    if (step.kind === 'preflight') return false;
    if (changesEstate(step)) return true;
  }
  return false;
}

/** The pre-flight every run gets before its first change, as a step of its own in the timeline. */
export function automaticPreflightStep(): LeafStep {
  return stepKind('preflight').schema.parse({
    id: AUTOMATIC_PREFLIGHT_ID,
    kind: 'preflight',
    title: 'Pre-flight of every target the runbook touches, before the first change',
    timeout: '2m',
  }) as LeafStep;
}
