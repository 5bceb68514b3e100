/** What a failback asks the worker about the failover it reverses. Types only: workflow code imports this file. */

export interface RecordedFailoverRequest {
  /** The reviewed runbook the failback reverses (its lock is `runLockId(runbookId)`). */
  runbookId: string;
  /** Temporal's run id of the failover to reverse (signed as `detail.fromRun`); default the latest failover. */
  runId?: string;
}

/** The state the failover recorded before its changes, as plain JSON (history keeps it). */
export interface RecordedFailoverRecord {
  /** `failover-ehr-db run <run id>`. */
  run: string;
  /** `project/environment/name` → enabled, before the failover changed it. */
  flagsBefore: Array<[string, boolean]>;
  /**
   * `dnsRecordKey(zone, type, name)` → the record set before the failover switched it (absent in records read by
   * workers from before it was kept).
   */
  recordsBefore?: Array<[string, { ttl: number | null; values: string[] }]>;
}

export interface RunRecordActivities {
  /** Reads the recorded `before` state of a closed failover of the runbook; refuses when there is none. */
  readRecordedFailover(request: RecordedFailoverRequest): Promise<RecordedFailoverRecord>;
}
