import { ActivityFailure, ApplicationFailure } from '@temporalio/common';

/** The type of the ApplicationFailure an activity threw, as workflow code sees it (the activity failure's cause). */
export function failureTypeOf(error: unknown): string | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}
