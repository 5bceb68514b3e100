/** What an evacuation run takes, reports while running, and returns. Plain JSON throughout. */
import type { Runbook } from '../runbooks/schema';
import type { OperatorAction, RunStatus } from '../workflows/run-types';
import type { Evacuation } from './schema';

export interface EvacuationInput {
  evacuation: Evacuation;
  /** Every runbook the evacuation names, by id, validated: each child runs its runbook by value. */
  runbooks: Record<string, Runbook>;
  options: { reason: string; initiator: string };
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
  /** The child failover's workflow id (its runbook's lock), once started. */
  workflowId?: string;
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
  /** Approval gates the evacuation waits at (a wave's id as `stepId`). */
  awaiting: Array<{ stepId: string; kind: 'approval'; prompt: string; twoPerson?: boolean }>;
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
  /** Returns as soon as the run's snapshot differs from `known` (or it ended); heartbeats while it waits. */
  watchRun(input: { workflowId: string; known?: RunSnapshot }): Promise<RunSnapshot>;
  /** Sends `abort` to a child run (rollback as asked); a run that already ended is left as it is. */
  abortRun(input: {
    workflowId: string;
    request: { operator: string; reason: string; rollback: boolean };
  }): Promise<string>;
}
