/**
 * What the drill workflow and the drill activities exchange: the data-plane canary, the injected failure,
 * and the measurements. Types only (workflow code imports this file).
 */
import type { DatabaseTarget, SqlProbe } from '../runbooks/schema';

export interface CanaryInput {
  drillId: string;
  /** Connection of the database members the canary writes to (the primary at the start). */
  connection: string;
  /** Milliseconds between writes. Default 100. */
  intervalMs: number;
  /** The canary stops once writes have failed continuously this long after the failure (default 1000). */
  stopAfterFailingMs: number;
  /** Hard upper bound on how long the canary runs. */
  maxDurationMs: number;
}

/** The canary's own account of what it wrote; the promoted database is compared against it. */
export interface CanaryStats {
  drillId: string;
  /** Rows whose INSERT was acknowledged (committed) by the primary. */
  acknowledged: number;
  /** Sequence number and client timestamp of the last acknowledged row. */
  lastAcknowledgedSeq: number;
  lastAcknowledgedAt: string | null;
  firstWriteAt: string | null;
  failedWrites: number;
  /** Per-second acknowledged counts around the failure, for the report's canary chart: [epoch ms, rows]. */
  series: Array<[number, number]>;
  /**
   * Sequence numbers whose INSERT failed after it was sent (the session died mid-write): the commit may or may
   * not have happened, so they are neither acknowledged nor counted as lost.
   */
  unconfirmedSeqs?: number[];
  /** Why the canary stopped. */
  stoppedBecause?: 'writes-failing' | 'max-duration';
  /** The last write error, verbatim. */
  lastError?: string | null;
  /**
   * When the run of failed writes the canary stopped on began (worker clock, ISO): the first write after the last
   * acknowledged one that failed, so the outage was visible to a client by then. Null when it did not stop that way.
   */
  writesFailingSince?: string | null;
}

export type InjectionAction = 'fence-primary' | 'stop-primary';

export interface InjectFailureInput {
  database: { name: string; target: DatabaseTarget };
  action: InjectionAction;
  /**
   * For `stop-primary` on self-managed PostgreSQL: the name of a failure-injection command in the worker's
   * configuration (`drill.injections`). Never an argv: a client cannot make the worker run a command.
   */
  inject?: string;
}

export interface InjectFailureOutcome {
  /**
   * When the injection began (worker clock, ISO): just before its first change to the primary, the earliest moment
   * the failure could bite. The RTO and every offset in a drill report are measured from here, so the injection's
   * own time (a fence takes ~150 ms; an RDS fence a reboot) counts as outage, not as nothing.
   */
  injectedAt: string;
  /**
   * When the injection returned and the failure was certainly in effect (worker clock, ISO). The RPO is measured
   * up to here: a conservative bound, since the old primary may have taken writes until then. Absent from results
   * recorded before drctl kept it (there `injectedAt` was this moment).
   */
  inEffectAt?: string;
  action: InjectionAction;
  summary: string;
  /** True when the failure was already in place (e.g. the primary was already fenced or stopped). */
  alreadyInEffect?: boolean;
}

export interface RestorationProbeInput {
  probe: SqlProbe;
  drillId: string;
  intervalMs: number;
  /** Give up (ProbeFailed, with the last error) after this long. Default: no limit (the activity timeout). */
  maxWaitMs?: number;
}

export interface RestorationOutcome {
  /** The first moment a write through the switched name succeeded (worker clock, ISO). */
  restoredAt: string;
  attempts: number;
  host: string;
}

export interface MeasureDataLossInput {
  drillId: string;
  /** Connection to the promoted database (the former replica). */
  connection: string;
  /** When the failure was in effect (`InjectFailureOutcome.inEffectAt`): the RPO is measured up to here. */
  injectedAt: string;
  canary: CanaryStats;
}

export interface DataLossMeasurement {
  /** Newest canary row present on the promoted database (client timestamp), or null when none. */
  newestPresentAt: string | null;
  newestPresentSeq: number;
  presentRows: number;
  /** Rows the canary had acknowledged that the promoted database does not have. */
  lostRows: number;
  /** injectedAt − newestPresentAt, never below 0. */
  rpoMs: number;
}

export interface DrillActivities {
  runCanary(input: CanaryInput): Promise<CanaryStats>;
  injectFailure(input: InjectFailureInput): Promise<InjectFailureOutcome>;
  probeUntilRestored(input: RestorationProbeInput): Promise<RestorationOutcome>;
  measureDataLoss(input: MeasureDataLossInput): Promise<DataLossMeasurement>;
}
