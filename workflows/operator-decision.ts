import { defineUpdate } from '@temporalio/workflow';

/** What an operator may do with a step that failed and paused the run (`onFailure: pause`). */
export type DecisionAction = 'retry' | 'skip' | 'abort';

export interface OperatorDecision {
  stepId: string;
  action: DecisionAction;
  operator: string;
  reason: string;
}

/** Sent by `drctl decide`; accepted only while that step is paused. Recorded in the timeline for audit. */
export const decideUpdate = defineUpdate<
  { accepted: true; stepId: string; action: DecisionAction },
  [OperatorDecision]
>('decide');
