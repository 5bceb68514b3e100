import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { hasPatch } from './patch-bundle';
import type {
  CanaryStats,
  DataLossMeasurement,
  InjectFailureOutcome,
  RestorationOutcome,
} from '../activities/drill-contracts';
import {
  INITIATOR_KEY,
  KIND_KEY,
  OUTCOME_KEY,
  RPO_MS_KEY,
  RTO_MS_KEY,
  RUNBOOK_KEY,
} from '../common/search-attributes';
import type { EvacuationActivities, EvacuationResult } from '../evacuations/evacuation-types';
import { durationToMs } from '../runbooks/duration';
import type { Runbook } from '../runbooks/schema';
import { calledOffBy, drillTargetsOf, restorationWaitMs, type DrillTargets } from './drill-measurement';
import { drillOutcome, refuseUnsignedOptions } from './drill-types';
import { evacuationHeldSignal, evacuationWorkflow, HELD_FAILOVER_MS } from './evacuation';
import { authorizeEvacuation } from './evacuation-authority';
import {
  evacuationDrillPassed,
  evacuationMs,
  firstInjection,
  historyFigures,
  NOT_INJECTED,
  restoredAllMs,
  serviceDrillResult,
  waveTimings,
  type DrillCommon,
  type ServiceMeasurement,
} from './evacuation-drill-measurement';
import {
  type EvacuationDrillInput,
  type EvacuationDrillResult,
  type EvacuationHeld,
} from './evacuation-drill-types';
import { answerStartVerdict } from './drill-start-verdict';
import { requestEvidence } from './evidence-ledger';
import { innermostMessage } from './innermost-message';
import { awaitHeldReport, releaseHeld } from './parent-release';
import { DRILL_CALLED_OFF_OUTCOME_PATCH, DRILL_STOPS_WITH_ITS_HELD_RUN_PATCH } from './drill';
import { runPreflightChecks } from './preflight-checks';
import { drillChecks, drillOnce, startCanary, startRestorationProbe } from './drill-activities';
import type { FailoverResult } from './run-types';
import { confirmScheduledStart, drillStartRule, recordedAction, unstartedOutcome } from './run-authority';
import { decidePatchesAtStart } from './patches-at-start';
import { childCancellation } from './child-cancellation';

/** How long the evacuation waits, holding every lock and changing nothing, for the drill to inject its failure. */
const EVACUATION_HOLD_MS = 30 * 60_000;

/**
 * The drill injects its failure only once the evacuation recorded holding every lock, and records its release
 * before the signal; the evacuation acts only on that record (`workflows/parent-release.ts`). Drills recorded
 * before acted on the signals.
 */
export const EVACUATION_DRILL_RELEASES_RECORDED_PATCH = 'evacuation-drill-records-its-release';

const records = proxyActivities<EvacuationActivities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 5 },
});

/** One service of the drilled evacuation, as the drill plans to break and measure it. */
interface DrilledService {
  runbook: Runbook;
  runbookHash: string;
  wave: string;
  targets: DrillTargets;
}

/** What the drill holds for a service once the failure is injected. */
interface ServiceRun {
  service: DrilledService;
  injection?: InjectFailureOutcome;
  injectionError?: string;
  canary: Promise<CanaryStats | null>;
  canaryError?: string;
  restoration?: Promise<RestorationOutcome | null>;
  probeScope?: CancellationScope;
  /** Once the evacuation ended: what its failover recorded, when service was restored, from which injection. */
  found?: {
    failover: FailoverResult | null;
    restoredAt: string | null;
    injectedAt: string;
    inEffectAt?: string;
  };
  canaryStats?: CanaryStats | null;
  dataLoss?: DataLossMeasurement;
}

/**
 * A drill of a whole evacuation: the region "goes down" and every service is evacuated as the plan says. It
 * starts like an evacuation (the signed `drill` on the evacuation, or the standing `schedule create` statement of
 * its schedule, and `failover` on every runbook), checks pre-flight of every runbook, and starts the evacuation
 * as its child, held: the evacuation takes every runbook's lock before anything is broken. Then canaries write to
 * each drilled primary, the failure is injected into every database at once, and the evacuation runs its waves.
 * Each service is measured and judged as a single-runbook drill is, against its own objectives, from its own
 * injection: RTO until a write through its switched DNS name succeeds (or its failover ended, without a probe),
 * RPO from its canary. The result adds the wave timings and the evacuation's total time.
 */
export async function evacuationDrillWorkflow(input: EvacuationDrillInput): Promise<EvacuationDrillResult> {
  decidePatchesAtStart();
  try {
    return await runEvacuationDrill(input);
  } finally {
    await requestEvidence();
  }
}

async function runEvacuationDrill(input: EvacuationDrillInput): Promise<EvacuationDrillResult> {
  const info = workflowInfo();
  const drillId = info.workflowId;
  // Known before the handler below is set: a buffered signal reaches it at once.
  const recordsRelease = hasPatch(EVACUATION_DRILL_RELEASES_RECORDED_PATCH);
  // Asked in the first task and kept, as every patch acted on after a local activity.
  const stopsWithItsEvacuation = hasPatch(DRILL_STOPS_WITH_ITS_HELD_RUN_PATCH);
  const recordsCalledOff = hasPatch(DRILL_CALLED_OFF_OUTCOME_PATCH);
  let held: EvacuationHeld | undefined;
  let heldNudges = 0;
  setHandler(evacuationHeldSignal, (signal) => {
    heldNudges += 1;
    if (!recordsRelease) held ??= signal;
  });
  const verified = answerStartVerdict();
  const authorized = await authorizeEvacuation(input, drillStartRule(drillId), 'a drill of an evacuation')
    .then(async (start) => {
      await confirmScheduledStart(start.initiator);
      return start;
    })
    .catch((error: unknown) => {
      upsertSearchAttributes([{ key: OUTCOME_KEY, value: unstartedOutcome(error) }]);
      throw error;
    });
  const { options } = input;
  refuseUnsignedOptions(options, authorized.initiator.signed.statement.detail ?? {});
  verified();

  const startedAt = info.startTime.toISOString();
  const common: DrillCommon = {
    drillId,
    reason: authorized.initiator.signed.statement.reason,
    initiator: authorized.initiator.owner,
    startedAt,
    environment: { temporalNamespace: info.namespace, taskQueue: info.taskQueue },
  };
  const services: DrilledService[] = authorized.cover.evacuation.waves.flatMap((wave) =>
    wave.runbooks.map((entry) => {
      const runbook = authorized.runbooks[entry.runbook] as Runbook;
      return {
        runbook,
        runbookHash: authorized.cover.runbookHashes[entry.runbook] as string,
        wave: wave.id,
        targets: drillTargetsOf(runbook),
      };
    }),
  );
  const runs: ServiceRun[] = services.map((service) => ({ service, canary: Promise.resolve(null) }));
  let evacuation: EvacuationResult | undefined;
  let evacuationError: unknown;
  const evacuationId = `${drillId}-evacuation`;

  const finish = (
    error?: string,
    untested: Pick<EvacuationDrillResult, 'calledOff' | 'refusal'> = {},
  ): EvacuationDrillResult => {
    const { calledOff, refusal } = untested;
    const endedAt = new Date().toISOString();
    // Called off or refused, every service was: each one's own report says so too.
    const results = runs.map((run) => ({
      ...serviceDrillResult(common, measurementOf(run, evacuation), endedAt),
      ...(calledOff === undefined ? {} : { calledOff }),
      ...(refusal === undefined ? {} : { refusal }),
    }));
    const injectedAt = firstInjection(results);
    const restoredAll = restoredAllMs(injectedAt, results);
    const topError =
      error ??
      (evacuation === undefined && evacuationError !== undefined
        ? `the evacuation did not run: ${innermostMessage(evacuationError)}`
        : undefined);
    const passed = evacuationDrillPassed(topError, results);
    const figures = historyFigures(restoredAll, results);
    const attributes: Parameters<typeof upsertSearchAttributes>[0] = [
      { key: OUTCOME_KEY, value: drillOutcome({ passed, calledOff, refusal }) },
    ];
    if (figures.rtoMs !== undefined) attributes.push({ key: RTO_MS_KEY, value: figures.rtoMs });
    if (figures.rpoMs !== undefined) attributes.push({ key: RPO_MS_KEY, value: figures.rpoMs });
    upsertSearchAttributes(attributes);
    return {
      drillId,
      evacuationId: authorized.cover.evacuation.id,
      evacuationHash: authorized.authorization.runbookHash,
      title: authorized.cover.evacuation.title,
      reason: common.reason,
      initiator: common.initiator,
      startedAt,
      endedAt,
      action: options.action,
      injectedAt,
      evacuation: {
        workflowId: evacuationId,
        status: evacuation?.status ?? (evacuationError === undefined ? 'not started' : 'failed'),
        ...(evacuation ? { startedAt: evacuation.startedAt, endedAt: evacuation.endedAt } : {}),
      },
      restoredAllMs: restoredAll,
      evacuationMs: evacuation ? evacuationMs(evacuation) : null,
      waves: evacuation ? waveTimings(evacuation, injectedAt) : [],
      services: results,
      passed,
      ...(calledOff === undefined ? {} : { calledOff }),
      ...(refusal === undefined ? {} : { refusal }),
      operatorActions: evacuation?.operatorActions ?? [
        recordedAction(authorized.initiator, 'start', startedAt),
      ],
      authorization: authorized.authorization,
      environment: common.environment,
      ...(topError === undefined ? {} : { error: topError }),
    };
  };

  if (!services.some((service) => service.targets.target !== undefined))
    return finish(
      `no runbook of evacuation ${authorized.cover.evacuation.id} promotes a database: a drill needs one to inject its failure into`,
    );
  const preflight = await Promise.all(
    services.map(async ({ runbook }) =>
      (await runPreflightChecks(runbook, drillChecks))
        .filter((check) => !check.ok)
        .map((check) => `${runbook.id}: ${check.check}: ${check.message}`),
    ),
  );
  if (preflight.flat().length > 0)
    return finish(`pre-flight refused the drill, nothing was injected: ${preflight.flat().join('; ')}`);

  // The evacuation takes every runbook's lock before anything is injected; it waits, held, until released.
  let handle: ChildWorkflowHandle<typeof evacuationWorkflow>;
  try {
    handle = await startChild(evacuationWorkflow, {
      workflowId: evacuationId,
      // Never stops the evacuation with the drill (closed, or cancelled from Temporal's UI or CLI): a failover cut
      // between fence and promote leaves no primary.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: childCancellation(),
      typedSearchAttributes: [
        { key: RUNBOOK_KEY, value: authorized.cover.evacuation.id },
        { key: KIND_KEY, value: 'evacuation' },
        { key: INITIATOR_KEY, value: authorized.initiator.owner },
      ],
      args: [
        {
          evacuation: input.evacuation,
          start: input.start,
          drillHold: {
            releaseWithinMs: EVACUATION_HOLD_MS,
            failoverHoldMs: HELD_FAILOVER_MS,
            ...(recordsRelease ? { recordsRelease: true } : {}),
          },
        },
      ],
    });
  } catch (error) {
    return finish(`the drill's evacuation could not start, nothing was injected: ${innermostMessage(error)}`);
  }
  let ended = false;
  const evacuationEnded = handle.result().then(
    (result) => {
      evacuation = result;
      ended = true;
    },
    (error: unknown) => {
      evacuation = recordedEvacuation(error);
      evacuationError = error;
      ended = true;
    },
  );
  if (recordsRelease)
    held = await awaitHeldReport({
      run: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
      nudges: () => heldNudges,
      ended: () => ended,
    });
  else await condition(() => held !== undefined || ended);
  if (held?.held !== true) {
    await evacuationEnded;
    // Reported not held: another run holds a runbook's lock (a scheduled drill has no check before its start, and
    // a run may take a lock just after drctl's), so the drill was refused and tested nothing.
    return finish(
      `nothing was injected: ${held?.detail ?? `the evacuation ended before it held every lock (${innermostMessage(evacuationError)})`}`,
      held?.held === false && held.detail !== undefined ? { refusal: held.detail } : {},
    );
  }

  const canaries = new CancellationScope();
  for (const run of runs) {
    const connections = run.service.targets.connections;
    if (connections === undefined) continue;
    run.canary = canaries.run(() =>
      startCanary(
        {
          drillId: `${drillId}/${run.service.runbook.id}`,
          connection: connections.primary,
          intervalMs: options.canaryIntervalMs,
        },
        (message) => (run.canaryError = message),
      ),
    );
  }
  if (stopsWithItsEvacuation) {
    // The evacuation may end while it holds the locks (an operator aborted it): then nothing would recover from an
    // injected failure, and the drill stops without injecting one.
    const endedFirst = await Promise.race([
      sleep(options.warmupMs).then(() => false),
      evacuationEnded.then(() => true),
    ]);
    if (endedFirst) {
      canaries.cancel();
      for (const run of runs) {
        run.canaryStats = await run.canary;
        // Cancelled by the drill, not failed: no RPO to blame on the canary.
        delete run.canaryError;
      }
      const why = evacuationError === undefined ? evacuation?.status : innermostMessage(evacuationError);
      return finish(
        `the drill's evacuation ended before the failure was injected (${why ?? 'ended'}): the drill stopped, nothing was injected`,
        recordsCalledOff ? { calledOff: calledOffBy(evacuation) } : {},
      );
    }
  } else await sleep(options.warmupMs);

  // The region goes down: every drilled database at once.
  await Promise.all(
    runs.map(async (run) => {
      const { databaseName, target } = run.service.targets;
      if (databaseName === undefined || target === undefined) return;
      try {
        run.injection = await drillOnce.injectFailure({
          database: { name: databaseName, target },
          action: options.action,
          ...(options.inject === undefined ? {} : { inject: options.inject }),
        });
      } catch (error) {
        run.injectionError = `${databaseName}: ${innermostMessage(error)}`;
      }
    }),
  );
  const injected = runs.filter((run) => run.injection !== undefined);
  const released = releaseHeld(
    handle,
    authorized.cover.evacuation.id,
    {
      operator: `drill ${drillId}`,
      reason:
        injected.length === 0
          ? `drill ${drillId}: the failure could not be injected`
          : `drill ${drillId}: failure injected (${options.action}) into ${injected.map((run) => run.service.runbook.id).join(', ')}`,
      proceed: injected.length > 0,
    },
    recordsRelease,
  );
  if (!stopsWithItsEvacuation) await released;
  else {
    // The evacuation may have ended (aborted) while the failure was being injected: nothing recovers from it.
    const lost = await released.then(
      () => undefined,
      (error: unknown) => error,
    );
    if (lost !== undefined) {
      canaries.cancel();
      for (const run of runs) {
        run.canaryStats = await run.canary;
        delete run.canaryError;
      }
      return finish(
        injected.length === 0
          ? `the failure could not be injected, and the drill's evacuation had ended (${innermostMessage(lost)})`
          : `the failure was INJECTED into ${injected.map((run) => run.service.runbook.id).join(', ')} but the drill's evacuation had ended before it was released (${innermostMessage(lost)}): nothing recovers from it; recover each service: drctl failover <runbook> --reason …`,
      );
    }
  }
  if (injected.length === 0) {
    await evacuationEnded;
    return finish(
      `the failure could not be injected into any database, so nothing was evacuated: ${runs.flatMap((run) => (run.injectionError ? [run.injectionError] : [])).join('; ')}`,
    );
  }
  const regionDownAt = injected.map((run) => run.injection?.injectedAt as string).sort()[0] as string;
  // A service with no database of its own is measured from the first injection, both its moments.
  const regionDownInEffectAt = injected.find((run) => run.injection?.injectedAt === regionDownAt)?.injection
    ?.inEffectAt;

  for (const run of runs) {
    const probe = run.service.targets.probe;
    if (probe === undefined) continue;
    const started = startRestorationProbe(
      probe,
      `${drillId}/${run.service.runbook.id}`,
      durationToMs(run.service.runbook.objectives.rto),
    );
    run.restoration = started.restoration;
    run.probeScope = started.scope;
  }

  await evacuationEnded;
  const settled = evacuation as EvacuationResult | undefined;
  await Promise.all(
    runs.map(async (run) => {
      const progress = settled?.services.find((service) => service.runbookId === run.service.runbook.id);
      const injectedAt = run.injection?.injectedAt ?? regionDownAt;
      const failover =
        progress?.workflowId !== undefined && progress.runId !== undefined
          ? await records
              .readFailoverResult({ workflowId: progress.workflowId, runId: progress.runId })
              .catch(() => null)
          : null;
      let restoredAt: string | null = null;
      if (progress?.state === 'succeeded') {
        if (run.restoration === undefined) restoredAt = failover?.endedAt ?? progress.endedAt ?? null;
        else {
          const rtoMs = durationToMs(run.service.runbook.objectives.rto);
          const restored = await Promise.race([
            run.restoration,
            sleep(restorationWaitMs(injectedAt, rtoMs, Date.now())).then(() => null),
          ]);
          restoredAt = restored?.restoredAt ?? null;
        }
      }
      if (restoredAt === null) run.probeScope?.cancel();
      const inEffectAt = run.injection ? run.injection.inEffectAt : regionDownInEffectAt;
      run.found = { failover, restoredAt, injectedAt, ...(inEffectAt === undefined ? {} : { inEffectAt }) };
    }),
  );
  await Promise.all(
    runs.map(async (run) => {
      const canary = await run.canary;
      const connections = run.service.targets.connections;
      const { found } = run;
      if (canary === null || connections === undefined || found?.restoredAt === null) return;
      try {
        run.dataLoss = await drillOnce.measureDataLoss({
          drillId: `${drillId}/${run.service.runbook.id}`,
          connection: connections.replica,
          injectedAt: run.injection?.inEffectAt ?? found?.injectedAt ?? regionDownAt,
          canary,
        });
      } catch (error) {
        run.canaryError = `the data loss could not be read: ${innermostMessage(error)}`;
      }
    }),
  );
  for (const run of runs) run.canaryStats = await run.canary;
  return finish();

  function measurementOf(run: ServiceRun, result: EvacuationResult | undefined): ServiceMeasurement {
    const { service } = run;
    const { found } = run;
    const injectedAt = run.injection?.injectedAt ?? found?.injectedAt ?? startedAt;
    const inEffectAt = run.injection?.inEffectAt ?? found?.inEffectAt;
    const progress = result?.services.find((entry) => entry.runbookId === service.runbook.id);
    return {
      runbook: service.runbook,
      runbookHash: service.runbookHash,
      wave: service.wave,
      progress,
      injection: {
        action: options.action,
        injectedAt,
        ...(inEffectAt === undefined ? {} : { inEffectAt }),
        summary:
          run.injection?.summary ??
          (service.targets.target === undefined && found !== undefined
            ? 'no database of its own: measured from the first injection'
            : NOT_INJECTED),
      },
      ...(run.injectionError === undefined ? {} : { injectionError: run.injectionError }),
      restoredAt: found?.restoredAt ?? null,
      probed: service.targets.probe !== undefined,
      canary: run.canaryStats ?? null,
      ...(run.canaryError === undefined ? {} : { canaryError: run.canaryError }),
      dataLoss: run.dataLoss ?? null,
      failover: found?.failover ?? null,
      ...(service.targets.rpoNotMeasurable === undefined
        ? {}
        : { rpoNotMeasurable: service.targets.rpoNotMeasurable }),
    };
  }
}

/** A failed or aborted evacuation carries its result as its failure's detail. */
function recordedEvacuation(error: unknown): EvacuationResult | undefined {
  if (!(error instanceof ChildWorkflowFailure) || !(error.cause instanceof ApplicationFailure))
    return undefined;
  const detail = error.cause.details?.[0] as EvacuationResult | undefined;
  return detail?.services ? detail : undefined;
}
