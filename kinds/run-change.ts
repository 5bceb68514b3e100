import type { StepOutcome } from '../activities/contracts';

/**
 * The outcome as this run saw it: the state read before the step says whether the run changed something, so
 * an attempt that finds the effect in place (an earlier attempt of this step made it, then died) is not
 * reported as "nothing changed".
 */
export function withRunChange<T extends Pick<StepOutcome, 'changed' | 'summary'>>(
  outcome: T,
  runChanges: boolean,
  what: string,
  how = 'an earlier attempt of this step did it before it was recorded',
): T {
  if (outcome.changed === runChanges) return outcome;
  if (runChanges) {
    return {
      ...outcome,
      changed: true,
      summary: `${outcome.summary} (this run changed ${what}: ${how})`,
    };
  }
  return outcome;
}
