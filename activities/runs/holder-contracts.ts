/** What a held failover asks the worker about the parent holding it. Types only: workflow code imports this file. */
import type { RecordedHeldReport, RecordedRelease } from '../../common/held-release';

export interface HolderRequest {
  /** The parent's workflow id and run id (Temporal's `workflowInfo().parent`). */
  workflowId: string;
  runId: string;
  /** Which release record to read: the held failover's runbook id, or the held evacuation's id. */
  runbookId: string;
}

export interface HolderState {
  /** Temporal's status of the parent run (`RUNNING`, `TERMINATED`, …), or `NOT_FOUND`. */
  status: string;
  /** The release the parent recorded for this runbook, if it recorded one. */
  release?: RecordedRelease;
  /**
   * When the worker read it (epoch ms, the worker's clock). The held run decides on this time, not on its own
   * clock: the answer is recorded with it, so a replay decides as the live run did (`awaitParentRelease`). The
   * times it is set against are the server's (workflow tasks'): a skew between the two clocks shifts those
   * decisions by as much (seconds, against a hold's minutes and the held reads' 10 s). Absent in answers
   * recorded before it was kept.
   */
  readAtMs?: number;
}

/** A held evacuation's status and what it recorded for its drill (`HELD_REPORT_MEMO_KEY`). */
export interface HeldRunState {
  status: string;
  report?: RecordedHeldReport;
}

export interface HolderActivities {
  /** Reads the parent's status and the release it recorded in its memo for the runbook. */
  readHolder(request: HolderRequest): Promise<HolderState>;
  /** Reads a held evacuation's status and whether it recorded holding every lock (its drill asks). */
  readHeldReport(request: { workflowId: string; runId: string }): Promise<HeldRunState>;
}
