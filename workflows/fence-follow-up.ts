import {
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DatabaseInput } from '../activities/contracts';
import { OUTCOME_KEY } from '../common/search-attributes';
import { PERMANENT_FAILURE_TYPES } from '../common/failure-types';
import type { DatabaseFenceActivities } from '../kinds/database-fence/definition';
import { HEARTBEAT_TIMEOUT } from './activity-options';
import { innermostMessage } from './innermost-message';

export interface FenceFollowUpInput {
  runbookId: string;
  database: DatabaseInput;
  /** The failover that went on unfenced: workflow id and run id. */
  failover: { workflowId: string; runId: string };
  /** Who approved going on unfenced. */
  approvedBy: string[];
  /** Carried over by continue-as-new. */
  state?: FenceFollowUpState;
}

export interface FenceFollowUpState {
  runbookId: string;
  database: string;
  failover: { workflowId: string; runId: string };
  approvedBy: string[];
  /** `trying` until the old primary is fenced, or an operator closes the follow-up. */
  status: 'trying' | 'fenced' | 'closed';
  startedAt: string;
  attempts: number;
  lastAttemptAt: string | null;
  /** What the last attempt found: still unreachable, the fence's summary, or its error. */
  lastResult: string | null;
  endedAt?: string;
  closedBy?: { operator: string; reason: string; at: string };
}

export interface CloseRequest {
  operator: string;
  reason: string;
}

export const followUpQuery = defineQuery<FenceFollowUpState>('followUp');

/** Sent by `drctl close`: the operator accepts that the old primary needs no fence (e.g. it was destroyed). */
export const closeFollowUpUpdate = defineUpdate<{ accepted: true; action: string }, [CloseRequest]>('close');

const FIRST_INTERVAL_MS = 2_000;
const MAX_INTERVAL_MS = 30_000;
/** Attempts per workflow run before continue-as-new keeps the history short (a follow-up may run for weeks). */
const ATTEMPTS_PER_RUN = 200;

/**
 * Keeps trying to fence an old primary a failover went on without fencing (two operators approved that it was
 * unreachable). It may be partitioned and still taking writes; the moment it answers again it is fenced. Ends
 * when the fence holds (the member refuses writes) or an operator closes it with a reason.
 */
export async function fenceFollowUpWorkflow(input: FenceFollowUpInput): Promise<FenceFollowUpState> {
  const state: FenceFollowUpState = input.state ?? {
    runbookId: input.runbookId,
    database: input.database.name,
    failover: input.failover,
    approvedBy: input.approvedBy,
    status: 'trying',
    startedAt: workflowInfo().startTime.toISOString(),
    attempts: 0,
    lastAttemptAt: null,
    lastResult: null,
  };
  setHandler(followUpQuery, () => state);
  setHandler(
    closeFollowUpUpdate,
    (request) => {
      state.status = 'closed';
      state.closedBy = { ...request, at: new Date().toISOString() };
      return { accepted: true, action: 'closed' };
    },
    {
      validator: (request) => {
        if (!request?.reason?.trim())
          throw new Error('a reason is required: it is recorded for the audit trail');
        if (state.status !== 'trying') throw new Error(`the follow-up has already ended (${state.status})`);
      },
    },
  );

  const activities = proxyActivities<Pick<DatabaseFenceActivities, 'fenceDatabase'>>({
    startToCloseTimeout: '2m',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 2, initialInterval: '1s', nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
  });

  let interval = FIRST_INTERVAL_MS;
  for (let round = 0; state.status === 'trying'; round++) {
    if (round === ATTEMPTS_PER_RUN) await continueAsNew<typeof fenceFollowUpWorkflow>({ ...input, state });
    state.attempts++;
    state.lastAttemptAt = new Date().toISOString();
    try {
      const outcome = await activities.fenceDatabase(input.database);
      state.lastResult = outcome.summary;
      if (outcome.facts.primaryReachable !== false && state.status === 'trying') state.status = 'fenced';
    } catch (error) {
      state.lastResult = `the fence failed: ${innermostMessage(error)}`;
    }
    if (state.status !== 'trying') break;
    await condition(() => state.status !== 'trying', interval);
    interval = Math.min(interval * 2, MAX_INTERVAL_MS);
  }
  state.endedAt = new Date().toISOString();
  upsertSearchAttributes([{ key: OUTCOME_KEY, value: state.status }]);
  return state;
}
