import type { Runbook } from '../runbooks/schema';
import { EvacuationValidationError } from './evacuation-validation-error';
import type { Evacuation } from './schema';

/**
 * How large an evacuation with its runbooks may be. A run loads the reviewed evacuation and every runbook it names
 * by value, in one activity result: one Temporal payload, which the server refuses past 2 MiB
 * (`limit.blobSize.error`); the run would then fail at its start, mid-incident. 1.5 MiB of JSON leaves room for
 * the codec's envelope and the data converter's encoding.
 */
export const MAX_EVACUATION_BYTES = 1.5 * 1024 * 1024;

/**
 * Refuses an evacuation whose load result `loaded` (what the worker's `loadReviewedEvacuation` returns: the plan,
 * its runbooks by value and their hashes) would not fit in one payload, naming the size, the largest runbooks and
 * what to do: split it into smaller evacuations. `label` names it in the error.
 */
export function assertEvacuationFits(label: string, loaded: { runbooks: Record<string, Runbook> }): void {
  const bytes = Buffer.byteLength(JSON.stringify(loaded));
  if (bytes <= MAX_EVACUATION_BYTES) return;
  const { runbooks } = loaded;
  const largest = Object.entries(runbooks)
    .map(([id, runbook]) => ({ id, bytes: Buffer.byteLength(JSON.stringify(runbook)) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3)
    .map((entry) => `${entry.id} ${kib(entry.bytes)}`);
  throw new EvacuationValidationError(label, [
    {
      path: 'waves',
      message:
        `its ${Object.keys(runbooks).length} runbooks come to ${kib(bytes)} by value (largest: ${largest.join(', ')}); ` +
        `a run carries them in one Temporal payload, which must stay at most ${kib(MAX_EVACUATION_BYTES)} ` +
        '(the server refuses 2 MiB): split it into smaller evacuations, e.g. one per wave or per group of services',
    },
  ]);
}

/**
 * What a run will load for `evacuation` (the shape of `loadReviewedEvacuation`'s result), for sizing it before
 * it is reviewed: hashes and source stand in at their length.
 */
export function loadResultShape(
  evacuation: Evacuation,
  runbooks: Record<string, Runbook>,
  source: string,
): {
  cover: { evacuation: Evacuation; runbookHashes: Record<string, string> };
  runbooks: Record<string, Runbook>;
  sha256: string;
  source: string;
} {
  const sha256 = '0'.repeat(64);
  const runbookHashes = Object.fromEntries(Object.keys(runbooks).map((id) => [id, sha256]));
  return { cover: { evacuation, runbookHashes }, runbooks, sha256, source };
}

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}
