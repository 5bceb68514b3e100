import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';

/** What the timeline records about a failed step: a type, the message that says what to do, and its cost. */
export interface StepFailure {
  type: string;
  message: string;
  attempts: number;
  providerMs: number;
}

interface AttemptMeta {
  drctlAttempt: number;
  providerMs: number;
}

/**
 * Reads a step's failure. Activities attach their attempt number and provider time as the last detail of
 * the ApplicationFailure they throw (see activities/step-outcome.ts); timeouts carry neither.
 */
export function describeStepFailure(error: unknown): StepFailure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const meta = lastMeta(cause.details);
    return {
      type: cause.type ?? 'Error',
      message: cause.message,
      attempts: meta?.drctlAttempt ?? 1,
      providerMs: meta?.providerMs ?? 0,
    };
  }
  if (cause instanceof TimeoutFailure) {
    return {
      type: `Timeout.${cause.timeoutType}`,
      message: `${cause.message}: the step did not finish within its timeout; raise the step's timeout or check the provider`,
      attempts: 0,
      providerMs: 0,
    };
  }
  const plain = cause as { name?: string; message?: string } | undefined;
  return {
    type: plain?.name ?? 'Error',
    message: plain?.message ?? String(cause),
    attempts: 0,
    providerMs: 0,
  };
}

function lastMeta(details: unknown[] | undefined | null): AttemptMeta | undefined {
  const last = details?.[details.length - 1] as Partial<AttemptMeta> | undefined;
  return typeof last?.drctlAttempt === 'number' ? (last as AttemptMeta) : undefined;
}
