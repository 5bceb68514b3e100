/**
 * Durations in runbooks are strings such as `250ms`, `30s`, `5m`, `1h` or `1m30s`, so a runbook reads the way
 * an operator speaks and stays plain JSON. Temporal accepts the same format for timeouts.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PATTERN = /^(\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART_PATTERN = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export type Duration = string;

export function isDuration(text: string): boolean {
  return DURATION_PATTERN.test(text);
}

/** Milliseconds in a duration string; throws a RangeError naming the allowed forms when it is not one. */
export function durationToMs(text: Duration): number {
  if (!isDuration(text)) {
    throw new RangeError(
      `"${text}" is not a duration: use a number and a unit, e.g. 250ms, 30s, 5m, 1h, 1m30s`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART_PATTERN)) {
    total += Number(amount) * (UNIT_MS[unit as string] ?? 0);
  }
  return Math.round(total);
}

/** The shortest readable form of a millisecond count: 1500 → "1.5s", 90000 → "1m30s". */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1).replace(/\.?0+$/, '')}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`;
}
