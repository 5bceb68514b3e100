/** The data of a fence follow-up (see fence-follow-up.ts). Pure: the CLI imports it. */
import type { DatabaseInput } from '../activities/contracts';
import type { RecordedAction } from '../auth/recorded-actions';

/** The step id a signed close names: `drctl close` signs an `abort` of this step of the follow-up. */
export const FOLLOW_UP_CLOSE_STEP = 'close';

export interface FenceFollowUpInput {
  runbookId: string;
  database: DatabaseInput;
  /** The failover that went on unfenced: workflow id and run id. */
  failover: { workflowId: string; runId: string };
  /** The reviewed runbook that failover ran: a signed close must name it. */
  authorization: { runbookId: string; runbookHash: string };
  /** Who approved going on unfenced. */
  approvedBy: string[];
  /** Carried over by continue-as-new. */
  state?: FenceFollowUpState;
}

export interface FenceFollowUpState {
  runbookId: string;
  database: string;
  failover: { workflowId: string; runId: string };
  authorization: { runbookId: string; runbookHash: string };
  approvedBy: string[];
  /** `trying` until the old primary is fenced, or an operator closes it. */
  status: 'trying' | 'fenced' | 'closed';
  startedAt: string;
  attempts: number;
  lastAttemptAt: string | null;
  /** What the last attempt found: still unreachable, the fence's summary, or its error. */
  lastResult: string | null;
  endedAt?: string;
  /** The operator's signed close, as recorded (verifiable offline like a run's operator actions). */
  closedBy?: RecordedAction;
}
