/** A drill's input and its result: the result is the source of truth every report renders. Plain JSON. */
import type { CanaryStats, DataLossMeasurement, InjectionAction } from '../activities/drill-contracts';
import type { Runbook } from '../runbooks/schema';
import type { TimelineEntry } from './run-types';

export interface DrillOptions {
  reason: string;
  initiator: string;
  /** sha256 of the runbook JSON, computed by the client (workflow code has no crypto). */
  runbookHash: string;
  /** The database whose primary the drill fails (default: the first promoted in the runbook). */
  database?: string;
  action: InjectionAction;
  /** For `stop-primary`: the command the worker runs (e.g. the sandbox's kill-primary). */
  command?: string[];
  canaryIntervalMs: number;
  /** How long the canary writes before the failure is injected. */
  warmupMs: number;
}

export interface DrillInput {
  runbook: Runbook;
  options: DrillOptions;
}

export interface ObjectiveVerdict {
  objective: 'RTO' | 'RPO';
  targetMs: number;
  measuredMs: number;
  /** targetMs − measuredMs: positive is headroom, negative is the miss. */
  marginMs: number;
  passed: boolean;
}

export interface CriticalPathStep {
  stepId: string;
  kind: string;
  /** Offset from the injection, and duration. */
  startMs: number;
  durationMs: number;
  /** Share of the RTO this step took (0..1). */
  shareOfRto: number;
}

export interface DrillResult {
  drillId: string;
  runbookId: string;
  /** sha256 of the runbook JSON that ran, so a report pins the exact version. */
  runbookHash: string;
  reason: string;
  initiator: string;
  startedAt: string;
  endedAt: string;
  objectives: { rtoMs: number; rpoMs: number; rto: string; rpo: string };
  injection: { action: InjectionAction; injectedAt: string; summary: string };
  restoredAt: string | null;
  measured: { rtoMs: number | null; rpoMs: number | null };
  dataLoss: DataLossMeasurement | null;
  canary: CanaryStats | null;
  verdicts: ObjectiveVerdict[];
  passed: boolean;
  /** The drill's failover: the runbook's lock id, and the run id of this failover among the runs under it. */
  failover: { workflowId: string; runId?: string; status: string; timeline: TimelineEntry[] };
  criticalPath: CriticalPathStep[];
  environment: { temporalNamespace: string; taskQueue: string; workerBuild?: string };
  /** Set when the drill could not complete its measurement. */
  error?: string;
}
