/**
 * The lock that lets one failover of a runbook run at a time: every run that changes a runbook's estate (its
 * failover, its failback, a drill's child failover, a region evacuation's child) uses this workflow id, and
 * Temporal refuses a second start while one with the same id runs. Runs that follow each other share the id
 * and differ by Temporal's run id. Pure, so workflow code and the CLI compute the same id.
 */
export function runLockId(runbookId: string): string {
  return `failover-${runbookId}`;
}

/** The suffix `failbackRunbook` gives the runbook it derives; a failback takes its failover's lock. */
export const FAILBACK_SUFFIX = '-failback';

/** The runbook whose lock a run takes: a derived failback runbook locks the runbook it came from. */
export function lockedRunbookId(runbookId: string, kind: 'failover' | 'failback'): string {
  return kind === 'failback' && runbookId.endsWith(FAILBACK_SUFFIX)
    ? runbookId.slice(0, -FAILBACK_SUFFIX.length)
    : runbookId;
}

/** The follow-up that fences an old primary a run went on without fencing, one per runbook and database. */
export function fenceFollowUpId(runbookId: string, database: string): string {
  return `fence-follow-up-${runbookId}-${database}`;
}
