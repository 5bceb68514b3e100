import { defineSignal, defineUpdate } from '@temporalio/workflow';

/** What an operator may do with a step that failed and paused the run (`onFailure: pause`). */
export type DecisionAction = 'retry' | 'skip' | 'abort';

export interface OperatorDecision {
  stepId: string;
  action: DecisionAction;
  operator: string;
  reason: string;
  /** With `abort`: undo the completed steps in reverse order (default true). */
  rollback?: boolean;
}

export interface Approval {
  operator: string;
  reason: string;
  /** Which gate; optional when exactly one is waiting. */
  stepId?: string;
}

export interface AbortRequest {
  operator: string;
  reason: string;
  /** Undo the completed steps in reverse order (default true); false leaves the estate as it is. */
  rollback: boolean;
}

/**
 * Sent by a drill to the failover it started held: `proceed` once the failure is injected (the run begins), or
 * not (the injection failed: the run ends, having changed nothing, and frees the lock).
 */
export interface ReleaseRequest {
  operator: string;
  reason: string;
  proceed: boolean;
}

export interface OperatorAck {
  accepted: true;
  stepId?: string;
  action: string;
  /** For a gate that needs several different operators: how many more are needed (0 when released). */
  approvalsNeeded?: number;
}

/** Sent by `drctl retry|skip|decide`; accepted only while that step is paused. Recorded in the timeline. */
export const decideUpdate = defineUpdate<OperatorAck, [OperatorDecision]>('decide');

/**
 * Sent by `drctl approve`; a two-person gate rejects the operator who started the run, and a gate that needs
 * several operators rejects a second approval by the same one.
 */
export const approveUpdate = defineUpdate<OperatorAck, [Approval]>('approve');

/** Sent by `drctl abort`: running steps are interrupted at once, then the run rolls back unless told not to. */
export const abortUpdate = defineUpdate<OperatorAck, [AbortRequest]>('abort');

/** Sent by the drill that started a held failover (a signal: a workflow cannot send updates). */
export const releaseSignal = defineSignal<[ReleaseRequest]>('release');
