import { ApplicationFailure } from '@temporalio/common';
import type { CheckResult, StepOutcome } from './contracts';
import { measureProviderTime } from './provider-timer';
import { currentAttempt } from './poll-until';

type OutcomeBody = Omit<StepOutcome, 'providerMs' | 'attempt'>;

/** What a failed attempt adds as the last detail of its failure, so the timeline can show attempts on failure too. */
export interface AttemptMeta {
  drctlAttempt: number;
  providerMs: number;
}

/**
 * Runs a step activity's body, timing its provider calls, and completes the outcome with the provider time
 * and Temporal's attempt number. On failure the same figures ride along as the failure's last detail; an
 * error that is not already an ApplicationFailure becomes a retryable one typed by its name.
 */
export async function runStep<T extends OutcomeBody>(
  body: () => Promise<T>,
): Promise<T & Pick<StepOutcome, 'providerMs' | 'attempt'>> {
  const started = performance.now();
  try {
    const { result, providerMs } = await measureProviderTime(body);
    return { ...result, providerMs, attempt: currentAttempt() };
  } catch (error) {
    const meta: AttemptMeta = {
      drctlAttempt: currentAttempt(),
      providerMs: Math.round(performance.now() - started),
    };
    if (error instanceof ApplicationFailure) {
      throw ApplicationFailure.create({
        message: error.message,
        type: error.type ?? undefined,
        nonRetryable: error.nonRetryable === true,
        details: [...(error.details ?? []), meta],
      });
    }
    const cause = error as Error;
    throw ApplicationFailure.create({
      message: cause.message ?? String(error),
      type: cause.name ?? 'Error',
      nonRetryable: false,
      details: [meta],
    });
  }
}

/**
 * Runs a pre-flight check activity's body, stamping its results with the provider time of its reads, so the
 * pre-flight step's timeline entry shows how much of it was the providers answering.
 */
export async function measuredChecks(body: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  const { result, providerMs } = await measureProviderTime(body);
  return result.map((check) => ({ ...check, providerMs }));
}
