/** A drill of a whole evacuation: what a client (or a schedule) sends, and the result every report renders. Plain JSON. */
import type { SignedStatement } from '../auth/signature';
import type { EvacuationReference } from '../evacuations/evacuation-hash';
import type { ServiceState } from '../evacuations/evacuation-types';
import type { DrillOptions, DrillResult } from './drill-types';
import type { OperatorAction, RunAuthorization } from './run-types';

/** How an evacuation drill runs: the failure injected into every drilled database, and the canary's pace. */
export type EvacuationDrillOptions = Omit<DrillOptions, 'database'>;

/** The reviewed evacuation's id and hash, the signed `drill` start (or a schedule's `schedule create`), the options. */
export interface EvacuationDrillInput {
  evacuation: EvacuationReference;
  start: SignedStatement;
  options: EvacuationDrillOptions;
}

/**
 * One service of the drilled evacuation: the single-runbook drill's result for it (objectives, injection,
 * canary, measured RTO and RPO, verdicts, its failover), with where it stood in the evacuation.
 */
export type ServiceDrillResult = DrillResult & {
  wave: string;
  /** How the evacuation ended for it: succeeded, failed, aborted, skipped, refused, or paused when the drill gave up. */
  state: ServiceState;
  /** Why it did not succeed, as the evacuation said. */
  detail?: string;
};

/** A wave as the drill timed it: offsets from the first injection. */
export interface WaveTiming {
  id: string;
  title?: string;
  services: string[];
  /** The first of its services released, and the last one ended; null when none did. */
  startMs: number | null;
  endMs: number | null;
  durationMs: number | null;
  approvedBy?: string;
}

export interface EvacuationDrillResult {
  drillId: string;
  evacuationId: string;
  /** sha256 over the reviewed evacuation and its runbooks' hashes, as signed. */
  evacuationHash: string;
  title: string;
  reason: string;
  initiator: string;
  startedAt: string;
  endedAt: string;
  action: DrillOptions['action'];
  /** The first injection: the moment the drilled region "went down"; null when nothing was injected. */
  injectedAt: string | null;
  /** The evacuation run the drill started, and how it ended. */
  evacuation: { workflowId: string; status: string; startedAt?: string; endedAt?: string };
  /** First injection → the last service restored; null when a service was not restored. */
  restoredAllMs: number | null;
  /** The evacuation run's own time, start to end. */
  evacuationMs: number | null;
  waves: WaveTiming[];
  services: ServiceDrillResult[];
  /** Every service passed (an RPO it had no way to measure is N/A, neither pass nor fail) and the drill had no error. */
  passed: boolean;
  operatorActions: OperatorAction[];
  authorization?: RunAuthorization;
  environment: { temporalNamespace: string; taskQueue: string };
  error?: string;
  /** An operator aborted the drill's evacuation before the injection: nothing was measured (outcome `called-off`). */
  calledOff?: DrillResult['calledOff'];
  /** Why the drill could not begin: its evacuation could not take every runbook's lock (outcome `refused`). */
  refusal?: string;
}

/** Sent by the evacuation a drill started held: it holds every runbook's lock (or could not take one). */
export interface EvacuationHeld {
  held: boolean;
  /** Why not, naming the runbook whose lock another run holds. */
  detail?: string;
}

/** Whether a drill result is of an evacuation (as opposed to a single runbook). */
export function isEvacuationDrill(result: unknown): result is EvacuationDrillResult {
  return typeof result === 'object' && result !== null && 'evacuationId' in result && 'services' in result;
}
