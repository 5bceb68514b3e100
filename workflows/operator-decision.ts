import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SignedStatement } from '../auth/signature';

/** What an operator may do with a step that failed and paused the run (`onFailure: pause`). */
export type DecisionAction = 'retry' | 'skip' | 'abort';

/**
 * Every operator update carries one signed statement and nothing else: the action, step, reason and options
 * (`detail.rollback` for an abort) are read from what was signed, so nothing unsigned can steer the run.
 */
export interface SignedOperatorUpdate {
  signed: SignedStatement;
}

/** An abort as the run keeps it: the verified owner, why, and whether to undo the completed steps. */
export interface AbortRequest {
  operator: string;
  reason: string;
  /** Undo the completed steps in reverse order (default true); false leaves the estate as it is. */
  rollback: boolean;
}

/**
 * Sent by a parent to the failover it started held: `proceed` once the drill injected its failure or the
 * evacuation's wave starts it (the run begins), or not (the run ends, having changed nothing, and frees the lock).
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
  /** The verified key owner who acted. */
  operator: string;
  /** For an approval gate that needs several approvers: how many more are needed (0 when released). */
  approvalsNeeded?: number;
}

/** Sent by `drctl retry|skip|decide`: a signed retry, skip or abort of a paused step. */
export const decideUpdate = defineUpdate<OperatorAck, [SignedOperatorUpdate]>('decide');

/** Sent by `drctl approve`: a signed approval, checked against the gate's approval rule by verified key owner. */
export const approveUpdate = defineUpdate<OperatorAck, [SignedOperatorUpdate]>('approve');

/** Sent by `drctl abort`: running steps are interrupted at once, then the run rolls back unless told not to. */
export const abortUpdate = defineUpdate<OperatorAck, [SignedOperatorUpdate]>('abort');

/** Sent by the drill that started a held failover (a signal: a workflow cannot send updates). */
export const releaseSignal = defineSignal<[ReleaseRequest]>('release');
