/**
 * How a parent (an evacuation, a drill) that started a failover held proves it released it. A `release` signal
 * can come from anyone who may signal workflows in the namespace, so the held failover acts on what its parent
 * recorded, not on the signal: the parent writes each release into its own memo (in the same workflow task that
 * sends the signal, so the record is there before the signal arrives), and the held run reads its parent's memo
 * (`readHolder`) when a signal comes and now and then while it waits. Pure, so workflow code and activities
 * share the key.
 */

/** The parent's memo key recording its release of the held failover of `runbookId`. */
export function releaseMemoKey(runbookId: string): string {
  return `drctl.release.${runbookId}`;
}

/** What the parent recorded: go on (`proceed`), or end having changed nothing, and why. */
export interface RecordedRelease {
  proceed: boolean;
  reason: string;
}
