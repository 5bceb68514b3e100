import {
  ApplicationFailure,
  defineQuery,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  CancellationScope,
} from '@temporalio/workflow';
import { TEMPORAL_CANCEL_ABORTS_PATCH } from './child-cancellation';
import { hasPatch } from './patch-bundle';
import { UpdateRefusal } from '../common/update-refusals';
import { INITIATOR_KEY, OUTCOME_KEY } from '../common/search-attributes';
import { evacuationSha256, type EvacuationCover } from '../evacuations/evacuation-hash';
import { requestEvidence } from './evidence-ledger';
import { failbackRecord } from './failback-record';
import { FailoverRun } from './failover-run';
import { runOutcome } from './run-outcome';
import {
  abortUpdate,
  approveUpdate,
  decideUpdate,
  releaseSignal,
  type ReleaseRequest,
} from './operator-decision';
import { idPrefixes } from '../common/id-prefixes';
import { authorizeStart, refused, unstartedOutcome, type StartRule } from './run-authority';
import type { FailoverProgress, FailoverRequest, FailoverResult, ParentHoldRequest } from './run-types';
import { decidePatchesAtStart } from './patches-at-start';

export const progressQuery = defineQuery<FailoverProgress>('progress');

/**
 * Runs that began after this record `not-released` as the outcome of a failover its parent held and never
 * released (it changed nothing); earlier ones recorded `failed`, which `drctl runs` showed for a run that never
 * began.
 */
export const NOT_RELEASED_OUTCOME_PATCH = 'not-released-outcome';

/**
 * Runs that began after this ask for their evidence bundle when their start is refused, too: an attempt the access
 * policy refused is an auditable event, and Temporal keeps its history only for the namespace's retention.
 */
export const REFUSED_START_BUNDLED_PATCH = 'refused-start-requests-evidence';

/**
 * Runs that began after this show the verified signer as their initiator (`DrctlInitiator`) once the start is
 * verified: the client sets it when it starts the run, from its key file's name, which nothing checks (a
 * break-glass start named whoever held the file, and any Temporal client may write any name).
 */
export const VERIFIED_INITIATOR_PATCH = 'failover-initiator-verified';

/**
 * The progress with only the timeline entries from index `from` on (`drctl … --follow` holds the earlier ones):
 * a follower of a long run does not fetch the whole timeline on every change.
 */
export const progressSinceQuery = defineQuery<FailoverProgress & { timelineFrom: number }, [number]>(
  'progressSince',
);

/**
 * Runs a failover (or failback) of a reviewed runbook. First it reads the worker's access policy and verifies
 * the signed start; a start the policy refuses, or a runbook hash that differs from the catalog's, ends the run
 * before any step. Succeeds with the timeline; when a step stops the run or an operator aborts it, fails (so
 * Temporal's own status says so) with the same result as the failure's detail.
 */
export async function failoverWorkflow(request: FailoverRequest): Promise<FailoverResult> {
  decidePatchesAtStart();
  // Asked here, in the first task, and kept: a run begun before the patch says no here on replay, and must not be
  // told yes when it reaches the end live (a marker recorded after a local activity's answer does not replay).
  const recordsNotReleased = hasPatch(NOT_RELEASED_OUTCOME_PATCH);
  const bundlesRefusal = hasPatch(REFUSED_START_BUNDLED_PATCH);
  const cancelAborts = hasPatch(TEMPORAL_CANCEL_ABORTS_PATCH);
  const showsVerifiedInitiator = hasPatch(VERIFIED_INITIATOR_PATCH);
  let run: FailoverRun | undefined = undefined;
  const started = (): FailoverRun => {
    if (run) return run;
    throw ApplicationFailure.nonRetryable(
      'the run is still verifying its start against the access policy; try again in a moment',
      UpdateRefusal.StartBeingVerified,
    );
  };
  const progress = (): FailoverProgress => run?.progress() ?? startingProgress(request);
  setHandler(progressQuery, progress);
  setHandler(progressSinceQuery, (from) => {
    const now = progress();
    const start = Math.max(0, Math.min(Math.floor(from), now.timeline.length));
    return { ...now, timeline: now.timeline.slice(start), timelineFrom: start };
  });
  setHandler(decideUpdate, (update) => started().decide(update), {
    validator: (update) => started().validateDecision(update),
  });
  setHandler(approveUpdate, (update) => started().approve(update), {
    validator: (update) => started().validateApproval(update),
  });
  setHandler(abortUpdate, (update) => started().abort(update), {
    validator: (update) => started().validateAbort(update),
  });
  const parent = workflowInfo().parent;
  // A parent's release may come while the start is still being verified: it is kept until the run exists.
  let earlyRelease: ReleaseRequest | undefined;
  if (parent)
    setHandler(releaseSignal, (release) => {
      if (run) run.release(release);
      else earlyRelease ??= release;
    });

  // Async so that a start rule refusing synchronously (an evacuation child) is caught like any other refusal.
  const start = await (async () =>
    authorizeStart(request, startRule(request), failbackRecord(request)))().catch(async (error: unknown) => {
    upsertSearchAttributes([{ key: OUTCOME_KEY, value: unstartedOutcome(error) }]);
    if (bundlesRefusal) await requestEvidence();
    throw error;
  });
  const { reason } = start.initiator.signed.statement;
  if (
    showsVerifiedInitiator &&
    workflowInfo().typedSearchAttributes.get(INITIATOR_KEY) !== start.initiator.owner
  )
    upsertSearchAttributes([{ key: INITIATOR_KEY, value: start.initiator.owner }]);
  // The recorded reason names the parent that started the run; so does the record, for verify-run to re-check it.
  if (parent) start.authorization.parent = parent.workflowId;
  run = new FailoverRun(
    {
      runbook: start.runbook,
      options: {
        reason: parent ? `${parent.workflowId}: ${reason}` : reason,
        initiator: start.initiator.owner,
        // Only a parent may hold its failover: a drill (the lock taken before it injects the failure), or an
        // evacuation (every lock taken before its first wave starts).
        ...(parent && typeof request.holdUntilReleasedMs === 'number'
          ? { holdUntilReleasedMs: request.holdUntilReleasedMs }
          : {}),
        ...(parent && typeof request.heldByParent === 'object' && request.heldByParent !== null
          ? { heldByParent: heldByParentOf(request.heldByParent) }
          : {}),
      },
    },
    start,
  );
  if (earlyRelease) run.release(earlyRelease);

  // A cancel through Temporal is taken as an abort with rollback; the run goes on where the cancel cannot reach it
  // (each step's scope is cancelled by the abort itself), so the rollback, the follow-ups and the evidence happen.
  const current = run;
  const finish = async (): Promise<FailoverResult> => {
    const ended = await current.execute();
    upsertSearchAttributes([
      { key: OUTCOME_KEY, value: recordsNotReleased ? runOutcome(ended) : ended.status },
    ]);
    await requestEvidence();
    return ended;
  };
  if (cancelAborts)
    CancellationScope.current().cancelRequested.catch(() => current.cancelledThroughTemporal());
  const result = cancelAborts ? await CancellationScope.nonCancellable(finish) : await finish();
  const { runbook } = start;
  if (result.status === 'aborted') {
    const undone = (result.rollback ?? []).filter((entry) => entry.status === 'undone').length;
    throw ApplicationFailure.nonRetryable(
      `failover ${runbook.id} ${current.abortedByTemporalCancel ? 'cancelled through Temporal (its UI or CLI; who asked is in the run history), rolled back as an abort' : 'aborted by an operator'}; ` +
        (result.rollback
          ? `${undone} of ${result.rollback.length} completed step(s) undone`
          : 'no rollback, as asked'),
      'FailoverAborted',
      result,
    );
  }
  if (result.status === 'failed') {
    const failed = result.timeline.filter((entry) => entry.status === 'failed');
    const last = failed[failed.length - 1];
    throw ApplicationFailure.nonRetryable(
      `failover ${runbook.id} stopped at step ${last?.stepId ?? '?'}: ${last?.error?.message ?? 'failed'}`,
      'FailoverFailed',
      result,
    );
  }
  return result;
}

/**
 * A client starts a failover or failback with a fresh signed statement; a drill's child failover runs on its
 * parent's start (a drill, or the standing statement of the schedule that started the drill).
 */
function startRule(request: FailoverRequest): StartRule {
  const parent = workflowInfo().parent;
  if (parent && request?.evacuation !== undefined) return evacuationChildRule(request, parent.workflowId);
  if (parent)
    return {
      actions: [],
      standing: { actions: ['drill', 'schedule'], runIds: idPrefixes(parent.workflowId) },
    };
  return {
    actions: [request?.runbook?.variant === 'failback' ? 'failback' : 'failover'],
    onceAcrossRuns: true,
  };
}

/**
 * A child of an evacuation runs on the evacuation's signed `evacuate` statement (or, for an evacuation a drill
 * started, on the drill's `drill` or standing `schedule create` statement) when the evacuation it carries
 * hashes to what was signed and lists this runbook with this hash; its signer must hold `failover` on the
 * runbook too. Anything else is refused before any step.
 */
function evacuationChildRule(request: FailoverRequest, parentId: string): StartRule {
  const cover = request.evacuation as EvacuationCover;
  const signed = request.start?.statement;
  const sha256 = evacuationSha256(cover);
  if (signed?.runbookId !== cover.evacuation?.id || signed?.runbookHash !== sha256)
    throw refused(
      `the evacuation this failover was started for (${cover.evacuation?.id ?? '?'} sha256 ${sha256.slice(0, 12)}…) is not the one signed (${signed?.runbookId ?? '?'} sha256 ${String(signed?.runbookHash).slice(0, 12)}…)`,
    );
  if (cover.runbookHashes[request.runbook?.id] !== request.runbook?.sha256)
    throw refused(
      `runbook ${request.runbook?.id} sha256 ${String(request.runbook?.sha256).slice(0, 12)}… is not part of the signed evacuation ${cover.evacuation.id}`,
    );
  // An evacuation a drill started runs on the drill's statement (or its schedule's), signed for an id its own extends.
  const drilled = signed?.action === 'drill' || signed?.action === 'schedule';
  return {
    actions: [],
    standing: {
      actions: drilled ? ['drill', 'schedule'] : ['evacuate'],
      runIds: drilled ? idPrefixes(parentId) : [parentId],
      alsoRequires: ['failover'],
      covering: { runId: parentId, id: cover.evacuation.id, sha256, cover },
    },
  };
}

/** What the progress query answers while the start is being verified. */
function startingProgress(request: FailoverRequest): FailoverProgress {
  const info = workflowInfo();
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    runbookId: request?.runbook?.id ?? '?',
    status: 'running',
    reason: request?.start?.statement?.reason ?? '',
    initiator: '(verifying)',
    startedAt: info.startTime.toISOString(),
    currentSteps: [],
    timeline: [],
    totalSteps: 0,
    operatorActions: [],
    awaiting: [],
  };
}

/** Only the hold's deadline (a number) and whether to read while held (true) are taken from the request. */
function heldByParentOf(request: ParentHoldRequest): ParentHoldRequest {
  return {
    ...(typeof request.withinMs === 'number' ? { withinMs: request.withinMs } : {}),
    ...(request.readsWhileHeld === true ? { readsWhileHeld: true } : {}),
  };
}
