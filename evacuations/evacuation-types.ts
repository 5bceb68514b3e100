/** What an evacuation run takes, reports while running, and returns. Plain JSON throughout. */
import type { SignedStatement } from '../auth/signature';
import type { SignedOperatorUpdate } from '../workflows/operator-decision';
import type { FailoverResult, OperatorAction, RunAuthorization, RunStatus } from '../workflows/run-types';
import type { EvacuationReference } from './evacuation-hash';

/**
 * How a client starts an evacuation: which reviewed evacuation (id and the hash it planned against, over the
 * plan and its runbooks) and the operator's signed `evacuate` statement for this run. The worker loads the
 * evacuation and its runbooks from its own reviewed copies.
 */
export interface EvacuationRequest {
  evacuation: EvacuationReference;
  start: SignedStatement;
  /**
   * Only from a parent drill: once every runbook's lock is taken (as every evacuation takes them, each failover
   * started held), tell the drill, and start nothing until the drill has injected its failure and releases it.
   */
  drillHold?: { releaseWithinMs: number; failoverHoldMs: number; recordsRelease?: boolean };
}

/**
 * Where one service stands. `paused`: its run waits for an operator (a failed step, an approval); `blocked`: a
 * service it depends on has not succeeded yet; `refused`: its runbook's lock is held by another run.
 */
export type ServiceState =
  'waiting' | 'blocked' | 'running' | 'paused' | 'succeeded' | 'failed' | 'aborted' | 'skipped' | 'refused';

export const FINAL_SERVICE_STATES: ReadonlySet<ServiceState> = new Set([
  'succeeded',
  'failed',
  'aborted',
  'skipped',
  'refused',
]);

export interface ServiceProgress {
  runbookId: string;
  wave: string;
  dependsOn: string[];
  state: ServiceState;
  /** The child failover's workflow id (its runbook's lock), once started, and its run among the runs under it. */
  workflowId?: string;
  runId?: string;
  startedAt?: string;
  endedAt?: string;
  /** The steps its run is on now. */
  currentSteps: string[];
  stepsDone: number;
  totalSteps: number;
  /** Why it is blocked, skipped, refused or failed; what it waits for when paused. */
  detail?: string;
}

export interface WaveProgress {
  id: string;
  title?: string;
  state: 'waiting' | 'awaiting-approval' | 'running' | 'settled';
  concurrency: number;
  approvedBy?: string;
}

export interface EvacuationProgress {
  workflowId: string;
  evacuationId: string;
  title: string;
  status: RunStatus;
  reason: string;
  initiator: string;
  startedAt: string;
  endedAt?: string;
  waves: WaveProgress[];
  services: ServiceProgress[];
  operatorActions: OperatorAction[];
  /** The access policy and reviewed evacuation that govern the run (`runbookId` is the evacuation's id). */
  authorization?: RunAuthorization;
  /** Approval gates the evacuation waits at (a wave's id as `stepId`). */
  awaiting: Array<{ stepId: string; kind: 'approval'; prompt: string; twoPerson?: boolean }>;
  /** What came of forwarding an operator's abort to each failover still running then (once one was forwarded). */
  abortForwards?: AbortForward[];
}

/** How a failover answered the evacuation's abort forwarded to it (`abortRun`). */
export interface AbortRunAnswer {
  /**
   * `refused`: the failover did not take it and went on (`detail` says why); `ended`: its steps were over before
   * the abort came; `aborting`: another abort was already under way in it.
   */
  outcome: 'accepted' | 'refused' | 'ended' | 'aborting';
  detail?: string;
}

/**
 * The abort forwarded to one failover: its answer, or `not-sent` when no answer came (Temporal did not take the
 * update, or the activity failed or timed out through its retries; `detail` says how).
 */
export interface AbortForward {
  runbookId: string;
  workflowId: string;
  outcome: AbortRunAnswer['outcome'] | 'not-sent';
  detail?: string;
}

export type EvacuationResult = EvacuationProgress & {
  status: 'succeeded' | 'failed' | 'aborted';
  endedAt: string;
};

/** What the watch activity reports of a child run: enough for the table and the parent's decisions. */
export interface RunSnapshot {
  /** The failover's own status, or `closed` when it ended without telling (terminated, timed out). */
  status: RunStatus | 'closed';
  currentSteps: string[];
  stepsDone: number;
  totalSteps: number;
  detail?: string;
}

export interface EvacuationActivities {
  /**
   * Returns as soon as the run's snapshot differs from `known` (or it ended); heartbeats while it waits. With
   * `runId`, that run only: a run started under the same id after it closed (a failback) is not the one watched.
   */
  watchRun(input: { workflowId: string; runId?: string; known?: RunSnapshot }): Promise<RunSnapshot>;
  /**
   * Forwards the operator's signed abort of the evacuation to a child run, which verifies it against the
   * evacuation; a run that already ended is left as it is.
   */
  abortRun(input: {
    workflowId: string;
    runId?: string;
    update: SignedOperatorUpdate;
  }): Promise<AbortRunAnswer>;
  /** What a closed child failover recorded (its result, or the result its failure carries); null if none. */
  readFailoverResult(input: { workflowId: string; runId: string }): Promise<FailoverResult | null>;
}
