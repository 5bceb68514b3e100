import { ActivityFailure, ApplicationFailure } from '@temporalio/common';

/** The type of the ApplicationFailure an activity threw, as workflow code sees it (the activity failure's cause). */
export function failureTypeOf(error: unknown): string | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

/** The first detail of the ApplicationFailure an activity threw (the activity failure's cause), if any. */
export function failureDetailOf(error: unknown): unknown {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
}

/** The message of the ApplicationFailure an activity threw (the activity failure's cause), else the error's own. */
export function failureMessageOf(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
