/** Temporal wraps an activity's own failure (ActivityFailure → ApplicationFailure): the innermost message is the useful one. */
export function innermostMessage(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  while (current?.cause) current = current.cause as { message?: string; cause?: unknown };
  return current?.message ?? String(error);
}
