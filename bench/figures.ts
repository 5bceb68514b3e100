import { formatMs } from '../runbooks/duration';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** `median max` of a series, each padded for a column. */
export function medianMax(values: readonly number[]): string {
  return `${formatMs(median(values)).padStart(7)} ${formatMs(Math.max(...values)).padStart(7)}`;
}
