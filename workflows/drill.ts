import {
  CancellationScope,
  ParentClosePolicy,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { hasPatch } from './patch-bundle';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CanaryStats, DataLossMeasurement, DrillActivities } from '../activities/drill-contracts';
import { runLockId } from '../common/run-lock';
import {
  INITIATOR_KEY,
  KIND_KEY,
  OUTCOME_KEY,
  RPO_MS_KEY,
  RTO_MS_KEY,
  RUNBOOK_KEY,
} from '../common/search-attributes';
import { durationToMs } from '../runbooks/duration';
import {
  criticalPath,
  drillError,
  drillTargetsOf,
  calledOffBy,
  failedFailoverResult,
  failoverSummary,
  judgedDrillResult,
  restorationWaitMs,
} from './drill-measurement';
import {
  NOT_INJECTED,
  drillOutcome,
  refuseUnsignedOptions,
  restoredByOf,
  type DrillInput,
  type DrillResult,
} from './drill-types';
import { answerStartVerdict } from './drill-start-verdict';
import { requestEvidence } from './evidence-ledger';
import { failoverWorkflow } from './failover';
import { releaseHeld } from './parent-release';
import { innermostMessage } from './innermost-message';
import { runPreflightChecks } from './preflight-checks';
import { drillChecks, drillOnce, startCanary, startRestorationProbe } from './drill-activities';
import {
  authorizeStart,
  confirmScheduledStart,
  drillStartRule,
  recordedAction,
  type AuthorizedStart,
} from './run-authority';
import type { FailoverResult } from './run-types';
import { decidePatchesAtStart } from './patches-at-start';
import { childCancellation } from './child-cancellation';

/** How long the drill's failover waits, held and changing nothing, for the drill to inject its failure. */
const FAILOVER_HOLD_MS = 30 * 60_000;

/**
 * The drill records its release of its held failover in its memo before the signal, and the failover acts only
 * on that record (`workflows/parent-release.ts`). Drills recorded before send the signal alone.
 */
export const DRILL_RELEASES_RECORDED_PATCH = 'drill-records-its-release';

/**
 * Drills that began after this stop, injecting nothing, when the run they hold ends before the injection (an
 * operator aborted the drill's failover, `drctl abort failover-<runbook>`, or an evacuation drill's evacuation).
 * Earlier drills went on and injected the failure at the end of their warm-up, with nothing left to recover from
 * it.
 */
export const DRILL_STOPS_WITH_ITS_HELD_RUN_PATCH = 'drill-stops-when-its-held-failover-ends';

/**
 * Drills that began after this, called off by an operator's abort before the injection, close with the outcome
 * `called-off` (who, when, why in the result's `calledOff`), not `failed`: they measured nothing. Earlier drills
 * keep `failed` (the outcome is a search attribute their histories upserted).
 */
export const DRILL_CALLED_OFF_OUTCOME_PATCH = 'drill-called-off-outcome';

/**
 * A drill: the same failover, with a measurement around it. A canary writes to the primary, the failure is
 * injected, the failover runs as a child workflow, and a probe through the switched DNS name marks the moment
 * service is back. RTO = restored − injection began; RPO = injection in effect − newest canary row the promoted
 * database has (see InjectFailureOutcome).
 * It starts like a failover: the signed start (an operator's `drill`, or the standing `schedule create`
 * statement of the schedule that started it) is verified against the worker's access policy, and the runbook
 * comes from the worker's reviewed catalog; the injection is a name the worker resolves, signed with the start.
 */
export async function drillWorkflow(input: DrillInput): Promise<DrillResult> {
  decidePatchesAtStart();
  try {
    return await runDrill(input);
  } finally {
    await requestEvidence();
  }
}

async function runDrill(input: DrillInput): Promise<DrillResult> {
  // Asked in the first task and kept (a drill begun before the patch must not be told yes later, live).
  const stopsWithItsFailover = hasPatch(DRILL_STOPS_WITH_ITS_HELD_RUN_PATCH);
  const recordsCalledOff = hasPatch(DRILL_CALLED_OFF_OUTCOME_PATCH);
  // A start with no request at all is refused below like any other unsigned one, not failed on (stuck RUNNING).
  const options = input?.options;
  const info = workflowInfo();
  const drillId = info.workflowId;
  const verified = answerStartVerdict();
  const authorized = await authorizeStart(input, drillStartRule(drillId));
  await confirmScheduledStart(authorized.initiator);
  refuseUnsignedOptions(options, authorized.initiator.signed.statement.detail ?? {});
  verified();
  const { runbook } = authorized;
  // The canary writes to the primary through a PostgreSQL connection: always for self-managed PostgreSQL, for RDS
  // when the runbook names one on each member. Without one the RPO is reported as not measured.
  const { databaseName, target, connections, rpoNotMeasurable, probe } = drillTargetsOf(
    runbook,
    options.database,
  );
  const base = baseResult(input, authorized, drillId, info.startTime.toISOString());
  if (databaseName === undefined || target === undefined) {
    return finish({
      ...base,
      error: 'the runbook promotes no database: a drill needs a database.promote step (or --database)',
    });
  }

  const preflight = await runPreflightChecks(runbook, drillChecks);
  const failedChecks = preflight.filter((check) => !check.ok);
  if (failedChecks.length > 0) {
    return finish({
      ...base,
      error: `pre-flight refused the drill, nothing was injected: ${failedChecks.map((c) => `${c.check}: ${c.message}`).join('; ')}`,
    });
  }

  // The failover takes the runbook's lock before anything is injected: if another failover, failback or drill
  // of this runbook is open, the drill stops here with nothing broken. The failover waits, held, until released.
  let failoverHandle: ChildWorkflowHandle<typeof failoverWorkflow>;
  const recordsRelease = hasPatch(DRILL_RELEASES_RECORDED_PATCH);
  try {
    failoverHandle = await startChild(failoverWorkflow, {
      workflowId: runLockId(runbook.id),
      // Never stops the failover with the drill (closed, or cancelled from Temporal's UI or CLI): a failover cut
      // between fence and promote leaves no primary.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: childCancellation(),
      typedSearchAttributes: [
        { key: RUNBOOK_KEY, value: runbook.id },
        { key: KIND_KEY, value: 'failover' },
        { key: INITIATOR_KEY, value: authorized.initiator.owner },
      ],
      args: [
        {
          runbook: input.runbook,
          start: input.start,
          // Both: a worker still on code from before `heldByParent` holds on `holdUntilReleasedMs`.
          ...(recordsRelease ? { heldByParent: { withinMs: FAILOVER_HOLD_MS } } : {}),
          holdUntilReleasedMs: FAILOVER_HOLD_MS,
        },
      ],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
      return finish({
        ...base,
        error: `the drill's failover could not start, nothing was injected: ${innermostMessage(error)}`,
      });
    }
    // Another run holds the lock (a scheduled drill has no check before its start, and a run may take the lock just
    // after drctl's): the drill was refused, it tested nothing.
    const refusal = `another run of ${runbook.id} holds its lock ${runLockId(runbook.id)} (a failover, failback or drill)`;
    return finish({ ...base, refusal, error: `${refusal}; nothing was injected` });
  }

  let canaryError: string | undefined;
  const canaryScope = new CancellationScope();
  const canaryPromise: Promise<CanaryStats | null> =
    connections !== undefined
      ? canaryScope.run(() =>
          startCanary(
            { drillId, connection: connections.primary, intervalMs: options.canaryIntervalMs },
            (message) => (canaryError = message),
          ),
        )
      : Promise.resolve(null);
  if (stopsWithItsFailover) {
    // Its failover may end while held (an operator aborted it, its hold ran out): then there is nothing to
    // recover from an injected failure, and the drill stops without injecting one.
    const ended = await Promise.race([
      sleep(options.warmupMs).then(() => undefined),
      failoverHandle.result().then(
        (result): { result?: FailoverResult; error?: unknown } => ({ result }),
        (error: unknown): { result?: FailoverResult; error?: unknown } => ({ error }),
      ),
    ]);
    if (ended !== undefined) {
      canaryScope.cancel();
      const recorded = ended.result ?? failedFailoverResult(ended.error);
      const why = recorded?.timeline[0]?.error?.message ?? innermostMessage(ended.error);
      const calledOff = recordsCalledOff ? calledOffBy(recorded) : undefined;
      return finish({
        ...base,
        ...(calledOff === undefined ? {} : { calledOff }),
        canary: await canaryPromise,
        failover: recorded
          ? failoverSummary(recorded)
          : { workflowId: runLockId(runbook.id), status: 'failed', timeline: [] },
        error: `the drill's failover ended before the failure was injected (${why}): the drill stopped, nothing was injected`,
      });
    }
  } else await sleep(options.warmupMs);

  let injection: Awaited<ReturnType<DrillActivities['injectFailure']>>;
  try {
    injection = await drillOnce.injectFailure({
      database: { name: databaseName, target },
      action: options.action,
      ...(options.inject === undefined ? {} : { inject: options.inject }),
    });
  } catch (error) {
    await releaseHeld(
      failoverHandle,
      runbook.id,
      {
        operator: `drill ${drillId}`,
        reason: `drill ${drillId}: the failure could not be injected`,
        proceed: false,
      },
      recordsRelease,
    );
    throw error;
  }
  const released = releaseHeld(
    failoverHandle,
    runbook.id,
    {
      operator: `drill ${drillId}`,
      reason: `drill ${drillId}: failure injected (${injection.action})`,
      proceed: true,
    },
    recordsRelease,
  );
  const withInjection = {
    ...base,
    injection: {
      action: injection.action,
      injectedAt: injection.injectedAt,
      ...(injection.inEffectAt === undefined ? {} : { inEffectAt: injection.inEffectAt }),
      summary: injection.summary,
    },
  };
  if (!stopsWithItsFailover) await released;
  else {
    // The failover may have ended (aborted) while the failure was being injected: then nothing recovers from it,
    // and the drill says so loudly rather than failing without a result.
    const lost = await released.then(
      () => undefined,
      (error: unknown) => error,
    );
    if (lost !== undefined) {
      canaryScope.cancel();
      return finish({
        ...withInjection,
        canary: await canaryPromise,
        error: `the failure was INJECTED (${injection.summary}) but the drill's failover had ended before it was released (${innermostMessage(lost)}): nothing recovers from it; recover the service: drctl failover ${runbook.id} --reason …`,
      });
    }
  }

  const rtoMs = durationToMs(runbook.objectives.rto);
  const { restoration, scope: probeScope } = probe
    ? startRestorationProbe(probe, drillId, rtoMs)
    : { restoration: Promise.resolve(null), scope: undefined };

  let failover: FailoverResult;
  try {
    failover = await failoverHandle.result();
  } catch (error) {
    probeScope?.cancel();
    const recorded = failedFailoverResult(error);
    return finish({
      ...withInjection,
      canary: await canaryPromise,
      failover: recorded
        ? failoverSummary(recorded)
        : { workflowId: runLockId(runbook.id), status: 'failed', timeline: [] },
      error: `the failover did not complete: ${innermostMessage(error)}`,
    });
  }

  const restored = await Promise.race([
    restoration,
    sleep(restorationWaitMs(injection.injectedAt, rtoMs, Date.now())).then(() => null),
  ]);
  if (restored === null) probeScope?.cancel();
  const restoredAt = restored?.restoredAt ?? (probe ? null : failover.endedAt);
  const canary = await canaryPromise;
  let dataLoss: DataLossMeasurement | null = null;
  if (canary && connections !== undefined) {
    dataLoss = await drillOnce.measureDataLoss({
      drillId,
      connection: connections.replica,
      injectedAt: injection.inEffectAt ?? injection.injectedAt,
      canary,
    });
  }
  const measuredRtoMs =
    restoredAt === null ? null : Date.parse(restoredAt) - Date.parse(injection.injectedAt);
  const measured = { rtoMs: measuredRtoMs, rpoMs: dataLoss?.rpoMs ?? null };
  const error = drillError([
    restoredAt === null
      ? `no write through the switched DNS name succeeded within the RTO (${runbook.objectives.rto}) of the injection`
      : undefined,
    canaryError === undefined ? undefined : `the canary failed, so the RPO was not measured: ${canaryError}`,
  ]);
  return finish({
    ...withInjection,
    restoredAt,
    ...restoredByOf(Boolean(probe)),
    measured,
    dataLoss,
    canary,
    failover: failoverSummary(failover),
    criticalPath: criticalPath(failover.timeline, injection.injectedAt, measuredRtoMs),
    ...(error === undefined ? {} : { error }),
  });

  function finish(measured: DrillResult): DrillResult {
    const result = judgedDrillResult(runbook, measured, rpoNotMeasurable, new Date().toISOString());
    const searchAttributes: Parameters<typeof upsertSearchAttributes>[0] = [
      { key: OUTCOME_KEY, value: drillOutcome(result) },
    ];
    if (result.measured.rtoMs !== null)
      searchAttributes.push({ key: RTO_MS_KEY, value: result.measured.rtoMs });
    if (result.measured.rpoMs !== null)
      searchAttributes.push({ key: RPO_MS_KEY, value: result.measured.rpoMs });
    upsertSearchAttributes(searchAttributes);
    return result;
  }
}

function baseResult(
  input: DrillInput,
  authorized: AuthorizedStart,
  drillId: string,
  startedAt: string,
): DrillResult {
  const { options } = input;
  const { runbook, initiator, authorization } = authorized;
  const info = workflowInfo();
  return {
    drillId,
    runbookId: runbook.id,
    runbookHash: authorization.runbookHash,
    reason: initiator.signed.statement.reason,
    initiator: initiator.owner,
    operatorActions: [recordedAction(initiator, 'start', startedAt)],
    authorization,
    startedAt,
    endedAt: startedAt,
    objectives: {
      rtoMs: durationToMs(runbook.objectives.rto),
      rpoMs: durationToMs(runbook.objectives.rpo),
      rto: runbook.objectives.rto,
      rpo: runbook.objectives.rpo,
    },
    injection: { action: options.action, injectedAt: startedAt, summary: NOT_INJECTED },
    restoredAt: null,
    measured: { rtoMs: null, rpoMs: null },
    dataLoss: null,
    canary: null,
    verdicts: [],
    passed: false,
    failover: { workflowId: runLockId(runbook.id), status: 'not started', timeline: [] },
    criticalPath: [],
    environment: { temporalNamespace: info.namespace, taskQueue: info.taskQueue },
  };
}
