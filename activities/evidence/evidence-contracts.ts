/** What the workflows and the evidence activities exchange. Types only (workflow code imports this file). */
import type { EvidenceRequest } from '../../evidence/ledger-protocol';

export type EvidenceRequestAck =
  | { requested: true; ledgerWorkflowId: string; workflowId: string; runId: string }
  /** A drill's failover: its history, result and operator actions go into the drill's bundle. */
  | { requested: false; includedIn: string };

/** The run asking for its evidence, as its workflow knows it. */
export interface EvidenceCaller {
  parent: { workflowId: string; runId: string } | null;
}

export interface AppendedBundle {
  sequence: number;
  manifestKey: string;
  manifestSha256: string;
  alreadyWritten: boolean;
}

export interface EvidenceActivities {
  /**
   * Called by a failover or drill as its very last act: signal-with-starts the ledger with "this run ended".
   * `caller` is the run's parent as the workflow knows it (none: a run of its own); without it (runs recorded
   * before it was passed) the activity describes the run to find its parent.
   */
  requestEvidence(caller?: EvidenceCaller): Promise<EvidenceRequestAck>;
  /** Waits (heartbeating) until the run is closed: its history is complete only then. */
  waitForRunClosed(request: EvidenceRequest): Promise<{ closeStatus: string }>;
  /** Exports the closed run's evidence and appends its bundle to the chain. */
  writeEvidenceBundle(request: EvidenceRequest): Promise<AppendedBundle>;
}
