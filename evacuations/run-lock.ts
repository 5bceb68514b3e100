/**
 * The workflow id a runbook's failover runs under inside an evacuation: one id per runbook, so Temporal itself
 * refuses a second run of the same runbook while one is running (no visibility query to race).
 *
 * Provisional: the `safety` work is moving every failover to a deterministic per-runbook id (`runLockId` in
 * `common/`); once it is on main this function is replaced by it, so evacuation children and standalone
 * failovers share one lock. Pure: bundled into the evacuation workflow.
 */
export function provisionalRunLockId(runbookId: string): string {
  return `failover-lock-${runbookId}`;
}
