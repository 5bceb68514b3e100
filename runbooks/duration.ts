/**
 * Durations in runbooks are strings such as `250ms`, `30s`, `5m`, `1h` or `1m30s`, so a runbook reads the way
 * an operator speaks and stays plain JSON. Temporal accepts the same format for timeouts.
 */
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS };
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

/**
 * The shortest readable form of a millisecond count: 1500 → "1.5s", 90000 → "1m30s", 1 h 0 min 20 s → "1h20s";
 * a day or more to the minute, "1d2h20m" (a backup's age, not a step's). From a minute on it rounds down (never
 * "29m60s", and an age beside a limit it exceeds reads at most as the limit); below, to the shown decimal.
 */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1).replace(/\.?0+$/, '')}s`;
  if (ms >= DAY_MS) return parts(ms, [DAY_MS, 'd'], [HOUR_MS, 'h'], [MINUTE_MS, 'm']);
  if (ms >= HOUR_MS) return parts(ms, [HOUR_MS, 'h'], [MINUTE_MS, 'm'], [1000, 's']);
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`;
}

/** `ms` in the given units, largest first, each whole (rounded down), units at zero left out. */
function parts(ms: number, ...units: Array<[number, string]>): string {
  let rest = ms;
  let text = '';
  for (const [unitMs, unit] of units) {
    const count = Math.floor(rest / unitMs);
    rest -= count * unitMs;
    if (count > 0) text += `${count}${unit}`;
  }
  return text;
}
