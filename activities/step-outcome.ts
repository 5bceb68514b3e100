import type { StepOutcome } from './contracts';
import { measureProviderTime } from './provider-timer';
import { currentAttempt } from './poll-until';

type OutcomeBody = Omit<StepOutcome, 'providerMs' | 'attempt'>;

/**
 * Runs a step activity's body, timing its provider calls, and completes the outcome with the provider time
 * and Temporal's attempt number. Every mutating step activity goes through here.
 */
export async function runStep<T extends OutcomeBody>(body: () => Promise<T>): Promise<T & Pick<StepOutcome, 'providerMs' | 'attempt'>> {
  const { result, providerMs } = await measureProviderTime(body);
  return { ...result, providerMs, attempt: currentAttempt() };
}
