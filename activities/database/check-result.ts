import { ApplicationFailure } from '@temporalio/common';
import type { CheckResult } from '../contracts';

/** A check line named `database <name>: <what>`. */
export function checkLine(database: string, what: string, ok: boolean, message: string): CheckResult {
  return { check: `database ${database}: ${what}`, ok, message };
}

/**
 * Pre-flight turns a provider's verdict (not found, unreachable, access denied) into a failed check, so the
 * operator sees every finding at once; only throttling-like transient faults are rethrown to be retried.
 */
export function failureMessageOrThrow(
  error: unknown,
  keepAsVerdict: (e: ApplicationFailure) => boolean,
): string {
  if (error instanceof ApplicationFailure && (error.nonRetryable || keepAsVerdict(error)))
    return error.message;
  throw error;
}
