import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { hasPatch } from './patch-bundle';
import type { AuthActivities } from '../activities/auth/auth-contracts';
import type { RunStart, RunStartActivities } from '../activities/runs/run-start-contracts';
import { OperatorAuthority, type Expectation, type VerifiedAction } from '../auth/operator-authority';
import { OUTCOME_KEY } from '../common/search-attributes';
import { PERMANENT_FAILURE_TYPES, PermanentFailure } from '../common/failure-types';
import type { DatabaseFenceActivities } from '../kinds/database-fence/definition';
import { HEARTBEAT_TIMEOUT } from './activity-options';
import {
  FOLLOW_UP_CLOSE_STEP,
  type FenceFollowUpInput,
  type FenceFollowUpState,
} from './fence-follow-up-types';
import { innermostMessage } from './innermost-message';
import { failureTypeOf } from '../common/failure-type-of';
import type { SignedOperatorUpdate } from './operator-decision';
import { recordedAction } from './run-authority';
import { decidePatchesAtStart } from './patches-at-start';
import { requestEvidence } from './evidence-ledger';
import { ATTEMPTS_PER_RUN } from './fence-follow-up-run-length';

export type { FenceFollowUpInput, FenceFollowUpState } from './fence-follow-up-types';

export const followUpQuery = defineQuery<FenceFollowUpState>('followUp');

/**
 * Sent by `drctl close`: the operator accepts that the old primary needs no fence (e.g. it was destroyed). A
 * signed `abort` of the follow-up's step `close`, verified against the worker's access policy.
 */
export const closeFollowUpUpdate = defineUpdate<
  { accepted: true; action: string; operator: string },
  [SignedOperatorUpdate]
>('close');

const FIRST_INTERVAL_MS = 2_000;
const MAX_INTERVAL_MS = 30_000;

/**
 * Keeps trying to fence an old primary a failover went on without fencing (two operators approved that it was
 * unreachable). It may be partitioned and still taking writes; the moment it answers again it is fenced. Ends
 * when the fence holds (the member refuses writes) or an operator closes it with a reason.
 */
export async function fenceFollowUpWorkflow(input: FenceFollowUpInput): Promise<FenceFollowUpState> {
  decidePatchesAtStart();
  if (hasPatch(FOLLOW_UP_CHECKS_ITS_FAILOVER_PATCH)) await refuseUnlessStartedByItsFailover(input);
  const state: FenceFollowUpState = input.state ?? {
    runbookId: input.runbookId,
    database: input.database.name,
    failover: input.failover,
    authorization: input.authorization,
    approvedBy: input.approvedBy,
    status: 'trying',
    startedAt: workflowInfo().startTime.toISOString(),
    attempts: 0,
    lastAttemptAt: null,
    lastResult: null,
  };
  setHandler(followUpQuery, () => state);
  // The policy is read at the start of each run of this workflow (continue-as-new reads it again).
  let authority: OperatorAuthority | undefined;
  const usedNonces = new Set<string>();
  const verify = (update: SignedOperatorUpdate, checkFreshness: boolean): VerifiedAction => {
    if (!authority)
      throw new Error('the follow-up is still reading the access policy; try again in a moment');
    const expectation: Expectation = {
      actions: ['abort'],
      runId: workflowInfo().workflowId,
      stepId: FOLLOW_UP_CLOSE_STEP,
      runbookId: state.authorization.runbookId,
      runbookHash: state.authorization.runbookHash,
      now: Date.now(),
      checkFreshness,
      runStartedAt: workflowInfo().startTime.getTime(),
      usedNonces,
    };
    return authority.verify(update?.signed, expectation);
  };
  setHandler(
    closeFollowUpUpdate,
    (update) => {
      let verified: VerifiedAction;
      try {
        verified = verify(update, false);
      } catch (error) {
        throw ApplicationFailure.nonRetryable((error as Error).message, PermanentFailure.NotAuthorized);
      }
      usedNonces.add(verified.signed.statement.nonce);
      state.status = 'closed';
      state.closedBy = recordedAction(verified, 'abort', new Date().toISOString());
      return { accepted: true, action: 'closed', operator: verified.owner };
    },
    {
      validator: (update) => {
        verify(update, true);
        if (state.status !== 'trying') throw new Error(`the follow-up has already ended (${state.status})`);
      },
    },
  );
  const auth = proxyActivities<AuthActivities>({
    startToCloseTimeout: '1m',
    retry: { maximumAttempts: 2 },
  });
  // Fencing never waits on the policy: without it a close is refused (and said why) until it can be read.
  const readPolicy = async (): Promise<void> => {
    if (authority) return;
    try {
      authority = new OperatorAuthority(await auth.loadAccessPolicy());
    } catch (error) {
      log.warn('fence follow-up: the access policy cannot be read, so a close is refused for now', {
        error: innermostMessage(error),
      });
    }
  };

  const activities = proxyActivities<Pick<DatabaseFenceActivities, 'fenceDatabase'>>({
    startToCloseTimeout: '2m',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 2, initialInterval: '1s', nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
  });

  let interval = FIRST_INTERVAL_MS;
  for (let round = 0; state.status === 'trying'; round++) {
    if (round === ATTEMPTS_PER_RUN) await continueAsNew<typeof fenceFollowUpWorkflow>({ ...input, state });
    await readPolicy();
    state.attempts++;
    state.lastAttemptAt = new Date().toISOString();
    try {
      // Every run of this follow-up goes on with the fence of its first: a round that swapped the groups and
      // failed before its reboot is finished by the next round, across a continue-as-new too.
      const outcome = await activities.fenceDatabase({
        ...input.database,
        fenceRun: workflowInfo().firstExecutionRunId,
      });
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
  // How it ended (fenced, or closed by an operator's signed word) gets a bundle of its own: its failover's was
  // written while it still tried.
  if (hasPatch(FOLLOW_UP_EVIDENCE_PATCH)) await requestEvidence();
  return state;
}

/** Runs that began before this ended without asking the ledger for a bundle. */
export const FOLLOW_UP_EVIDENCE_PATCH = 'fence-follow-up-bundled';

/**
 * Follow-ups that began after this fence only when started by the failover they name: a drctl failover (its
 * workflow type, on this worker's task queue) that is their parent, as Temporal recorded it. Before, any client
 * that could start a workflow could start one naming any database, and the worker fenced it, unsigned.
 */
export const FOLLOW_UP_CHECKS_ITS_FAILOVER_PATCH = 'fence-follow-up-checks-its-failover';

/**
 * Runs that began after this, continued as new, check that the run they continue is a fence follow-up on this
 * task queue. Before, a continued run skipped the parent's read: a foreign workflow, child of a foreign parent,
 * that continued as new into a follow-up on this queue naming that parent as its failover fenced the database.
 */
export const FOLLOW_UP_CHECKS_ITS_PREDECESSOR_PATCH = 'fence-follow-up-checks-the-run-it-continues';

/** The type workflows/index.ts registers `failoverWorkflow` under (imported, it would import this module back). */
const FAILOVER_WORKFLOW_TYPE = 'failoverWorkflow';

/**
 * Retried for as long as Temporal does not answer: a follow-up that gave up would leave a partitioned old primary
 * unfenced. Only Temporal's answer that the parent is not a failover ends it.
 */
const runStarts = proxyLocalActivities<RunStartActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
});

/**
 * A follow-up fences a database on its own, for weeks: it runs only as the child of the failover that went on
 * without fencing (two operators approved that), which the failover names in its input. Temporal records the
 * parent of a run, and its type and task queue, where no client can set them. Checked in every run.
 */
async function refuseUnlessStartedByItsFailover(input: FenceFollowUpInput | undefined): Promise<void> {
  const refuse = (why: string): never => {
    throw ApplicationFailure.nonRetryable(
      `fence follow-up refused, nothing was fenced: ${why}. A follow-up is started only by the failover that went on without fencing its old primary, with two operators' approval`,
      PermanentFailure.NotAuthorized,
    );
  };
  const info = workflowInfo();
  // A failover starts its follow-up with neither: Temporal runs a failed or timed-out run again as a new run
  // "continued from" it only for a cron schedule or a retry policy, which a client sets when it starts one.
  if (info.cronSchedule !== undefined || info.retryPolicy !== undefined || info.attempt !== 1)
    refuse('it was started with a cron schedule or a retry policy, which no failover gives it');
  const parent = info.parent;
  if (parent === undefined) return refuse('it was not started by a failover (the run has no parent)');
  const named = input?.failover;
  if (
    named?.workflowId !== parent.workflowId ||
    named.runId !== parent.runId ||
    parent.namespace !== info.namespace
  )
    refuse(
      `it names failover ${named?.workflowId ?? '(none)'} run ${named?.runId ?? '(none)'}, but was started by ${parent.workflowId} run ${parent.runId} in namespace ${parent.namespace}`,
    );
  // Continued as new (the only other way a run follows an earlier one), it keeps the parent its first run checked,
  // whose history may since have gone with the namespace's retention. The run it continues, closed a moment ago,
  // must be a follow-up on this queue: any workflow may continue as new into a follow-up on this queue, and a
  // foreign one with a foreign parent would pass the check above by naming it.
  const previousRunId = info.continuedFromExecutionRunId;
  if (previousRunId !== undefined) {
    if (!hasPatch(FOLLOW_UP_CHECKS_ITS_PREDECESSOR_PATCH)) return;
    const previous = await readStart(info.workflowId, previousRunId);
    if (previous.workflowType !== info.workflowType || previous.taskQueue !== info.taskQueue)
      refuse(
        `it continues run ${previousRunId} of ${info.workflowId}, a ${previous.workflowType || '(no type)'} on task queue ${previous.taskQueue || '(none)'}, not a fence follow-up on ${info.taskQueue}`,
      );
    return;
  }
  const start = await readStart(parent.workflowId, parent.runId);
  if (start.workflowType !== FAILOVER_WORKFLOW_TYPE || start.taskQueue !== info.taskQueue)
    refuse(
      `its parent ${parent.workflowId} is a ${start.workflowType || '(no type)'} on task queue ${start.taskQueue || '(none)'}, not a failover on ${info.taskQueue}`,
    );

  /** How Temporal recorded a run's start; a run it does not know refuses the follow-up. */
  async function readStart(workflowId: string, runId: string): Promise<RunStart> {
    return runStarts.readRunStart({ workflowId, runId }).catch((error: unknown) => {
      if (failureTypeOf(error) === PermanentFailure.NotAuthorized) refuse(innermostMessage(error));
      throw error;
    });
  }
}
