import {
  ApplicationFailure,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import { hasPatch } from './patch-bundle';
import type { AuthActivities, ReviewedRunbookRequest } from '../activities/auth/auth-contracts';
import type { ScheduleRunActivities } from '../activities/runs/schedule-run-contracts';
import type { StartUseActivities } from '../activities/runs/start-use-contracts';
import { OperatorAuthority, type Expectation, type VerifiedAction } from '../auth/operator-authority';
import type { Permission, StatementAction } from '../auth/permissions';
import type { SignedStatement } from '../auth/signature';
import { PERMANENT_FAILURE_TYPES, PermanentFailure } from '../common/failure-types';
import { idPrefixes } from '../common/id-prefixes';
import type { Runbook } from '../runbooks/schema';
import { innermostMessage } from './innermost-message';
import type { OperatorAction, RunAuthorization, StartCover, StartRequest } from './run-types';

/** A start that passed the access policy: the policy, the reviewed runbook by value, and who started it. */
export interface AuthorizedStart {
  authority: OperatorAuthority;
  runbook: Runbook;
  initiator: VerifiedAction;
  authorization: RunAuthorization;
  /**
   * For a child of an evacuation: the evacuation's run, id and hash, which its operator signed. An abort signed
   * for the evacuation is accepted by each of its children (the evacuation forwards it).
   */
  covering?: StartCover;
}

/** How a start statement must read for this workflow. */
export interface StartRule {
  /** Start actions accepted fresh (signed minutes ago, for this very workflow id), e.g. `['failover']`. */
  actions: readonly StatementAction[];
  /**
   * The workflow id is shared by runs (a runbook's lock): a fresh start statement is accepted only if no other run
   * under the id started on it (`START_USED_ONCE_PATCH`).
   */
  onceAcrossRuns?: boolean;
  /**
   * Standing statements, accepted with no age check when they name one of `runIds`: the parent drill's start
   * for its child failover, a schedule's `create` statement for the drills it starts. Their signer must still
   * hold the permissions now, under the current policy.
   */
  standing?: {
    actions: readonly StatementAction[];
    runIds: readonly string[];
    stepId?: string;
    alsoRequires?: readonly Permission[];
    /** The statement names this (an evacuation that was checked to contain the runbook) instead of the runbook. */
    covering?: StartCover;
  };
}

const AUTH_READ_OPTIONS = {
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
} as const;
const auth = proxyActivities<AuthActivities>(AUTH_READ_OPTIONS);
const localAuth = proxyLocalActivities<AuthActivities>(AUTH_READ_OPTIONS);
/**
 * The earlier-use lookup fails, to be retried, while an earlier run's start cannot be read (KMS throttled, or busy
 * with forged runs' data keys): three quick tries refused an honest start within seconds. About 45 s of tries, well
 * inside a statement's 5 minutes.
 */
const localStartUse = proxyLocalActivities<StartUseActivities>({
  startToCloseTimeout: '1m',
  retry: {
    maximumAttempts: 10,
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '8s',
    nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
  },
});
const scheduleReads = proxyActivities<ScheduleRunActivities>({
  ...AUTH_READ_OPTIONS,
  heartbeatTimeout: '10s',
});

/**
 * The policy and the reviewed runbook are files on the worker: read as local activities, each result is recorded
 * in the same workflow task that goes on, which spares a start two round trips through the task queue. Runs that
 * began before this change replay the regular activities they recorded.
 */
export const LOCAL_AUTH_READS_PATCH = 'auth-reads-as-local-activities';

/**
 * Runs that began after this read the reviewed runbook beside the policy, not after it: two local reads at once in
 * the first workflow task instead of one after the other. The runbook is still used only once the start verified;
 * a failback, whose catalog request needs the verified start (its failover's record), still reads after it.
 */
export const AUTH_READS_AT_ONCE_PATCH = 'auth-reads-at-once';

/**
 * Runs that began after this refuse a fresh start statement another run under the same workflow id started on.
 * Before, a failover's signed start could start a second run of the runbook within its 5 minutes, once the first
 * ended: anyone who read it (from the run's history) could start a failover under its signer's name.
 */
export const START_USED_ONCE_PATCH = 'start-statement-used-once-across-runs';

/**
 * Runs that began after this end cancelled when Temporal cancels them while their start is being verified (an
 * operator's `temporal workflow cancel`, the UI): nothing began. Before, the cancelled read was reported as the
 * access policy's refusal: the run failed NotAuthorized ("the access policy cannot be read"), and `drctl runs` and
 * the evidence said `refused`.
 */
export const START_CANCEL_STAYS_CANCEL_PATCH = 'start-cancel-stays-a-cancel';

/** Whether `error` is Temporal's cancel of the run, to be kept as a cancel (see the patch). */
function startCancelled(error: unknown): boolean {
  return isCancellation(error) && hasPatch(START_CANCEL_STAYS_CANCEL_PATCH);
}

/** Throws `error` as it is when it is Temporal's cancel of the run, not a reason to refuse the start. */
export function rethrowCancel(error: unknown): void {
  if (startCancelled(error)) throw error;
}

/** The outcome a run records when its start did not pass: `canceled` for Temporal's cancel, else `refused`. */
export function unstartedOutcome(error: unknown): 'canceled' | 'refused' {
  return startCancelled(error) ? 'canceled' : 'refused';
}

/**
 * The first thing a run does: reads the worker's access policy (its sha256 enters history) and the reviewed
 * runbook by id and hash (at once; a failback's after the verification), and verifies the signed start against
 * the policy before it uses the runbook. A refusal ends the run before any step,
 * with a NotAuthorized or RunbookMismatch failure saying why.
 */
export async function authorizeStart(
  request: StartRequest,
  rule: StartRule,
  /** Adds to the catalog request once the start is verified (a failback: its failover's record). */
  beforeLoad?: (initiator: VerifiedAction) => Promise<Pick<ReviewedRunbookRequest, 'recorded'>>,
): Promise<AuthorizedStart> {
  const runId = workflowInfo().workflowId;
  const reads = hasPatch(LOCAL_AUTH_READS_PATCH) ? localAuth : auth;
  const reference = request?.runbook;
  const named = typeof reference?.id === 'string' && typeof reference.sha256 === 'string';
  const loadRunbook = (extra: Pick<ReviewedRunbookRequest, 'recorded'>) =>
    reads.loadReviewedRunbook({
      runbookId: reference.id,
      runbookHash: reference.sha256,
      ...(reference.variant === undefined ? {} : { variant: reference.variant }),
      ...extra,
    });
  const policyRead = reads.loadAccessPolicy();
  const earlierUse = lookUpEarlierUse(rule, request?.start);
  const early =
    named && beforeLoad === undefined && hasPatch(AUTH_READS_AT_ONCE_PATCH) ? loadRunbook({}) : undefined;
  early?.catch(() => undefined); // a start refused before its runbook is used must not leave a rejection unhandled
  const policy = await policyRead.catch((error: unknown) => {
    rethrowCancel(error);
    throw refused(`the worker's access policy cannot be read: ${innermostMessage(error)}`);
  });
  const authority = new OperatorAuthority(policy);
  if (!named) throw refused('the start names no runbook: send { runbook: { id, sha256 }, start }');
  const { initiator, standing } = verifyStart(authority, request.start, rule, {
    runId,
    subject: reference,
    noun: 'runbook',
  });
  if (earlierUse && !standing) await refuseIfUsedBefore(earlierUse, initiator);
  const statementRunId = initiator.signed.statement.runId;
  const reviewed = await (
    early ?? loadRunbook(beforeLoad === undefined ? {} : await beforeLoad(initiator))
  ).catch((error: unknown) => {
    rethrowCancel(error);
    throw ApplicationFailure.nonRetryable(
      `run refused, nothing was changed: ${innermostMessage(error)}`,
      PermanentFailure.RunbookMismatch,
    );
  });
  const covering = standing ? rule.standing?.covering : undefined;
  const authorization: RunAuthorization = {
    policySha256: policy.sha256,
    runbookId: reference.id,
    runbookHash: reviewed.sha256,
    ...(standing ? { startedBy: [statementRunId] } : {}),
    ...(covering === undefined ? {} : { signedFor: covering }),
    ...(initiator.signed.statement.detail?.force === undefined
      ? {}
      : { forcedPastPlan: initiator.signed.statement.detail.force }),
    breakGlassUses: [],
  };
  if (initiator.breakGlass) recordBreakGlass(authorization, initiator, 'start');
  return {
    authority,
    runbook: reviewed.runbook,
    initiator,
    authorization,
    ...(covering === undefined ? {} : { covering }),
  };
}

/**
 * For a rule whose workflow id other runs may share (`onceAcrossRuns`): starts looking up, beside the policy read,
 * whether another run started on this statement (its nonce as claimed; the answer counts once it verified).
 */
export function lookUpEarlierUse(
  rule: StartRule,
  start: SignedStatement | undefined,
): ReturnType<typeof findEarlierUse> | undefined {
  const action = (start as Partial<SignedStatement> | undefined)?.statement?.action as StatementAction;
  // A standing statement starts many runs by design (a schedule's, a parent's): only fresh starts are looked up.
  if (!rule.onceAcrossRuns || !rule.actions.includes(action) || !hasPatch(START_USED_ONCE_PATCH))
    return undefined;
  const lookup = findEarlierUse(start);
  lookup.catch(() => undefined); // a start refused before the answer is used must not leave a rejection unhandled
  return lookup;
}

function findEarlierUse(start: SignedStatement | undefined) {
  const claimed = (start as Partial<SignedStatement> | undefined)?.statement;
  const info = workflowInfo();
  return localStartUse.findEarlierStartUse({
    workflowId: info.workflowId,
    workflowType: info.workflowType,
    runId: info.runId,
    nonce: String(claimed?.nonce),
    signedAt: String(claimed?.at),
  });
}

export async function refuseIfUsedBefore(
  earlierUse: ReturnType<typeof findEarlierUse>,
  initiator: VerifiedAction,
): Promise<void> {
  const { statement } = initiator.signed;
  const answer = await earlierUse.catch((error: unknown) => {
    rethrowCancel(error);
    throw refused(
      `the signed start cannot be checked against earlier runs under ${statement.runId}: ${innermostMessage(error)}`,
    );
  });
  if (answer.usedBy)
    throw refused(
      `this signed start (signed by ${initiator.owner} at ${statement.at}) already started run ${answer.usedBy.runId} of ${statement.runId} at ${answer.usedBy.startedAt}: a start statement starts one run. Run the command again to sign a new start`,
    );
}

/**
 * Verifies a run's signed start under `rule`: a fresh statement for `runId`, or a standing one (the drill, schedule
 * or evacuation that started the run) with no age check, whose signer must still hold what the rule also requires.
 * The statement names `subject` (the runbook or evacuation), or what the standing rule says covers it. A refusal
 * is a NotAuthorized failure saying why.
 */
export function verifyStart(
  authority: OperatorAuthority,
  start: SignedStatement | undefined,
  rule: StartRule,
  target: { runId: string; subject: { id: string; sha256: string }; noun: 'runbook' | 'evacuation' },
): { initiator: VerifiedAction; standing: boolean } {
  const claimed = (start as Partial<SignedStatement> | undefined)?.statement;
  const standing =
    rule.standing !== undefined &&
    claimed !== undefined &&
    rule.standing.actions.includes(claimed.action as StatementAction) &&
    rule.standing.runIds.includes(claimed.runId as string);
  const signedFor = (standing && rule.standing?.covering) || target.subject;
  const expectation: Expectation = {
    actions: standing ? (rule.standing?.actions ?? []) : rule.actions,
    runId: standing ? (claimed?.runId as string) : target.runId,
    ...(standing && rule.standing?.stepId !== undefined ? { stepId: rule.standing.stepId } : {}),
    runbookId: signedFor.id,
    runbookHash: signedFor.sha256,
    now: Date.now(),
    checkFreshness: !standing,
  };
  try {
    const initiator = authority.verify(start, expectation);
    for (const permission of standing ? (rule.standing?.alsoRequires ?? []) : [])
      if (!authority.allows(initiator.owner, permission, target.subject.id))
        throw new Error(
          `not permitted: ${initiator.owner} may no longer ${permission} ${target.noun} ${target.subject.id} under the access policy (sha256 ${authority.policySha256.slice(0, 12)}…)`,
        );
    return { initiator, standing };
  } catch (error) {
    throw refused((error as Error).message);
  }
}

/** The recorded form of a verified action: readable fields plus the signed statement, for offline re-checks. */
export function recordedAction(
  verified: VerifiedAction,
  action: OperatorAction['action'],
  at: string,
): OperatorAction {
  const { statement } = verified.signed;
  return {
    action,
    operator: verified.owner,
    reason: statement.reason,
    at,
    ...(action !== 'start' && statement.stepId !== undefined ? { stepId: statement.stepId } : {}),
    ...(verified.breakGlass ? { breakGlass: true } : {}),
    signed: verified.signed,
  };
}

/** A break-glass use goes into the run's authorization record and the worker log, loudly. */
export function recordBreakGlass(
  authorization: RunAuthorization,
  verified: VerifiedAction,
  action: string,
): void {
  const { statement } = verified.signed;
  const use = {
    action,
    keyId: verified.owner,
    holder: verified.holder ?? 'unknown',
    reason: statement.reason,
    at: new Date().toISOString(),
    ...(statement.stepId === undefined ? {} : { stepId: statement.stepId }),
  };
  authorization.breakGlassUses.push(use);
  log.warn(
    `BREAK-GLASS: ${action}${use.stepId ? ` ${use.stepId}` : ''} by ${use.keyId} (held by ${use.holder}) on ${workflowInfo().workflowId}: ${use.reason}`,
  );
}

export function refused(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `run refused by the access policy, nothing was changed: ${message}`,
    PermanentFailure.NotAuthorized,
  );
}

/**
 * How a drill (of a runbook or an evacuation) starts: an operator's fresh `drill` statement for this drill, or the
 * standing `schedule create` statement of the schedule whose run it is (its signer must still hold `drill`).
 */
export function drillStartRule(drillId: string): StartRule {
  return {
    actions: ['drill'],
    // A drill's id is its own (drctl starts it REJECT_DUPLICATE), but any client may start another run under it.
    onceAcrossRuns: true,
    standing: {
      actions: ['schedule'],
      runIds: idPrefixes(drillId),
      stepId: 'create',
      alsoRequires: ['drill'],
    },
  };
}

/**
 * Runs that began after this accept a schedule's standing statement only when the schedule's own record names
 * them. Before, any client that may start workflows could start a drill with the schedule's arguments, at any
 * time, even after the schedule was deleted, and it ran under the schedule's signer. Temporal's
 * `TemporalScheduledById` attribute cannot tell them apart: a client may set it on the runs it starts.
 */
export const SCHEDULED_START_CONFIRMED_PATCH = 'drill-schedule-start-confirmed';

/**
 * For a drill started under a schedule's standing statement: asks Temporal whether that schedule started this
 * run, and refuses the run when not. Any other start is left as verified.
 */
export async function confirmScheduledStart(initiator: VerifiedAction): Promise<void> {
  const { statement } = initiator.signed;
  if (statement.action !== 'schedule' || !hasPatch(SCHEDULED_START_CONFIRMED_PATCH)) return;
  const info = workflowInfo();
  const answer = await scheduleReads
    .confirmScheduledRun({
      scheduleId: statement.runId,
      workflowId: info.workflowId,
      runId: info.firstExecutionRunId,
      signedAt: statement.at,
    })
    .catch((error: unknown) => {
      rethrowCancel(error);
      throw refused(
        `schedule ${statement.runId} cannot be read to confirm it started this drill: ${innermostMessage(error)}`,
      );
    });
  if (!answer.startedBySchedule)
    throw refused(
      `the standing statement of schedule ${statement.runId}, which holds only for the runs that schedule starts, was sent by a drill it did not start (${answer.why}). ` +
        `Start a drill with your own key (drctl drill run …), or run the schedule now (drctl drill trigger …)`,
    );
}
