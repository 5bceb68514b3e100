import type { Runbook } from '../runbooks/schema';
import { EvacuationValidationError } from './evacuation-validation-error';
import type { Evacuation } from './schema';

/**
 * How large an evacuation with its runbooks may be. A run loads the reviewed evacuation and every runbook it names
 * by value, in one activity result: one Temporal payload, which the server refuses past 2 MiB
 * (`limit.blobSize.error`); the run would then fail at its start, mid-incident. 1.5 MiB leaves room for the
 * codec's envelope and the runbook hashes beside them.
 */
export const MAX_EVACUATION_BYTES = 1.5 * 1024 * 1024;

/**
 * Refuses an evacuation whose runbooks by value would not fit in one payload, naming the size, the largest
 * runbooks and what to do: split it into smaller evacuations. `label` names it in the error.
 */
export function assertEvacuationFits(
  label: string,
  evacuation: Evacuation,
  runbooks: Record<string, Runbook>,
): void {
  const bytes = Buffer.byteLength(JSON.stringify({ evacuation, runbooks }));
  if (bytes <= MAX_EVACUATION_BYTES) return;
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
        `a run carries them in one Temporal payload, which must stay under ${kib(MAX_EVACUATION_BYTES)} ` +
        '(the server refuses 2 MiB): split it into smaller evacuations, e.g. one per wave or per group of services',
    },
  ]);
}

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}
