/** What a held failover asks the worker about the parent holding it. Types only: workflow code imports this file. */
import type { RecordedRelease } from '../../common/held-release';

export interface HolderRequest {
  /** The parent's workflow id and run id (Temporal's `workflowInfo().parent`). */
  workflowId: string;
  runId: string;
  /** The held failover's runbook: which release record to read. */
  runbookId: string;
}

export interface HolderState {
  /** Temporal's status of the parent run (`RUNNING`, `TERMINATED`, …), or `NOT_FOUND`. */
  status: string;
  /** The release the parent recorded for this runbook, if it recorded one. */
  release?: RecordedRelease;
}

export interface HolderActivities {
  /** Reads the parent's status and the release it recorded in its memo for the runbook. */
  readHolder(request: HolderRequest): Promise<HolderState>;
}
