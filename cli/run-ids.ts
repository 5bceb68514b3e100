import { randomBytes } from 'node:crypto';

/**
 * The workflow id of a drill or an evacuation: `<kind>-<subject>-<UTC second>-<6 hex digits>`. The second makes
 * it readable and sort by start; the random suffix keeps starts within one second apart: each id names one run
 * for its report, and a start the workflow refuses for its signer still uses its id, so a refused operator's
 * start and a permitted one's in the same second must not share it.
 */
export function startedRunId(kind: 'drill' | 'evacuation', subjectId: string, startedAt: Date): string {
  const second = startedAt.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `${kind}-${subjectId}-${second}-${randomBytes(3).toString('hex')}`;
}
