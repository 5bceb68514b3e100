/**
 * How a parent (an evacuation, a drill) that started a failover held proves it released it. A `release` signal
 * can come from anyone who may signal workflows in the namespace, so the held failover acts on what its parent
 * recorded, not on the signal: the parent writes each release into its own memo (in the same workflow task that
 * sends the signal, so the record is there before the signal arrives), and the held run reads its parent's memo
 * (`readHolder`) when a signal comes and now and then while it waits. Pure, so workflow code and activities
 * share the key.
 */

/**
 * The parent's memo key recording its release of the run it holds: a failover, by its runbook's id; the
 * evacuation a drill holds, by the evacuation's id.
 */
export function releaseMemoKey(heldId: string): string {
  return `drctl.release.${heldId}`;
}

/**
 * The other way: an evacuation a drill started records in its own memo whether it holds every lock before it
 * tells the drill (`evacuationHeld`), and the drill injects its failure only on that record.
 */
export const HELD_REPORT_MEMO_KEY = 'drctl.held';

/** What the held evacuation recorded for its drill: every lock held, or why not. */
export interface RecordedHeldReport {
  held: boolean;
  detail?: string;
}

/**
 * What the parent recorded: go on (`proceed`), or end having changed nothing, and why (its first characters).
 * `runId`: the held run's own run id, which only the parent knows once it started the run, so a record written
 * into the memo by whoever started the parent (a start may carry a memo) counts for nothing.
 */
export interface RecordedRelease {
  proceed: boolean;
  runId: string;
  reason: string;
}
