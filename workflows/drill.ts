import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  executeChild,
  proxyActivities,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { KindActivities } from '../kinds/registry';
import type {
  CanaryStats,
  DataLossMeasurement,
  DrillActivities,
  RestorationOutcome,
} from '../activities/drill-contracts';
import { OUTCOME_KEY, RPO_MS_KEY, RTO_MS_KEY } from '../common/search-attributes';
import { PERMANENT_FAILURE_TYPES } from '../common/failure-types';
import { durationToMs } from '../runbooks/duration';
import type { Runbook, SqlProbe } from '../runbooks/schema';
import { HEARTBEAT_TIMEOUT } from './activity-options';
import { criticalPath, judgeObjectives } from './drill-measurement';
import { drillDetail, type DrillInput, type DrillResult } from './drill-types';
import { requestEvidence } from './evidence-ledger';
import { failoverWorkflow } from './failover';
import { innermostMessage } from './innermost-message';
import { leafStepsOf } from './leaf-steps';
import { runPreflightChecks } from './preflight-checks';
import { authorizeStart, idPrefixes, recordedAction, type AuthorizedStart } from './run-authority';
import type { FailoverResult } from './run-types';

const CANARY_MAX_MS = 30 * 60_000;

/**
 * A drill: the same failover, with a measurement around it. A canary writes to the primary, the failure is
 * injected, the failover runs as a child workflow, and a probe through the switched DNS name marks the moment
 * service is back. RTO = restored − injected; RPO = injected − newest canary row the promoted database has.
 * It starts like a failover: the signed start (an operator's `drill`, or the standing `schedule create`
 * statement of the schedule that started it) is verified against the worker's access policy, and the runbook
 * comes from the worker's reviewed catalog; the injection is a name the worker resolves, signed with the start.
 */
export async function drillWorkflow(input: DrillInput): Promise<DrillResult> {
  try {
    return await runDrill(input);
  } finally {
    await requestEvidence();
  }
}

async function runDrill(input: DrillInput): Promise<DrillResult> {
  const { options } = input;
  const info = workflowInfo();
  const drillId = info.workflowId;
  const authorized = await authorizeStart(input, {
    actions: ['drill'],
    standing: {
      actions: ['schedule'],
      runIds: idPrefixes(drillId),
      stepId: 'create',
      alsoRequires: ['drill'],
    },
  });
  if (typeof options !== 'object' || options === null || typeof options.action !== 'string')
    throw ApplicationFailure.nonRetryable(
      'run refused, nothing was changed: the drill has no options ({ action, inject?, database?, canaryIntervalMs, warmupMs })',
      'NotAuthorized',
    );
  const signedDetail = authorized.initiator.signed.statement.detail ?? {};
  const asked = drillDetail(options);
  const changed = Object.keys(asked).filter((key) => signedDetail[key] !== asked[key]);
  if (changed.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `run refused by the access policy, nothing was changed: the drill's ${changed.join(', ')} differ${changed.length === 1 ? 's' : ''} from what was signed (${changed.map((key) => `${key}: signed "${signedDetail[key] ?? ''}", sent "${asked[key]}"`).join('; ')})`,
      'NotAuthorized',
    );
  }
  const { runbook } = authorized;
  const checks = proxyActivities<KindActivities>({
    startToCloseTimeout: '2m',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
  });
  const once = proxyActivities<DrillActivities>({
    startToCloseTimeout: '5m',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 1 },
  });
  const canaryActivity = proxyActivities<DrillActivities>({
    startToCloseTimeout: CANARY_MAX_MS + 60_000,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 1 },
  });

  const databaseName =
    options.database ?? leafStepsOf(runbook).find((step) => step.kind === 'database.promote')?.database;
  const target = databaseName === undefined ? undefined : runbook.targets.databases[databaseName];
  const base = baseResult(input, authorized, drillId, info.startTime.toISOString());
  if (databaseName === undefined || target === undefined) {
    return finish({
      ...base,
      error: 'the runbook promotes no database: a drill needs a database.promote step (or --database)',
    });
  }

  const preflight = await runPreflightChecks(runbook, checks);
  const failedChecks = preflight.filter((check) => !check.ok);
  if (failedChecks.length > 0) {
    return finish({
      ...base,
      error: `pre-flight refused the drill, nothing was injected: ${failedChecks.map((c) => `${c.check}: ${c.message}`).join('; ')}`,
    });
  }

  let canaryError: string | undefined;
  // The canary writes to the self-managed primary; an RDS primary has no data plane drctl can reach here.
  const canaryPromise: Promise<CanaryStats | null> =
    target.provider === 'postgres'
      ? canaryActivity
          .runCanary({
            drillId,
            connection: target.primary.connection,
            intervalMs: options.canaryIntervalMs,
            stopAfterFailingMs: 1000,
            maxDurationMs: CANARY_MAX_MS,
          })
          .catch((error: unknown) => {
            canaryError = innermostMessage(error);
            return null;
          })
      : Promise.resolve(null);
  await sleep(options.warmupMs);

  const injection = await once.injectFailure({
    database: { name: databaseName, target },
    action: options.action,
    ...(options.inject === undefined ? {} : { inject: options.inject }),
  });
  const withInjection = {
    ...base,
    injection: { action: injection.action, injectedAt: injection.injectedAt, summary: injection.summary },
  };

  const probe = restorationProbe(runbook);
  const probeScope = new CancellationScope();
  const restoration: Promise<RestorationOutcome | null> = probe
    ? probeScope.run(() => once.probeUntilRestored({ probe, drillId, intervalMs: 100 })).catch(() => null)
    : Promise.resolve(null);

  let failover: FailoverResult;
  try {
    failover = await executeChild(failoverWorkflow, {
      workflowId: `${drillId}-failover`,
      args: [{ runbook: input.runbook, start: input.start }],
    });
  } catch (error) {
    probeScope.cancel();
    const recorded = failedFailover(error);
    return finish({
      ...withInjection,
      canary: await canaryPromise,
      failover: recorded
        ? summary(recorded)
        : { workflowId: `${drillId}-failover`, status: 'failed', timeline: [] },
      error: `the failover did not complete: ${innermostMessage(error)}`,
    });
  }

  const restored = await Promise.race([restoration, sleep(120_000).then(() => null)]);
  if (restored === null) probeScope.cancel();
  const restoredAt = restored?.restoredAt ?? (probe ? null : failover.endedAt);
  const canary = await canaryPromise;
  let dataLoss: DataLossMeasurement | null = null;
  if (canary && target.provider === 'postgres') {
    dataLoss = await once.measureDataLoss({
      drillId,
      connection: target.replica.connection,
      injectedAt: injection.injectedAt,
      canary,
    });
  }
  const rtoMs = restoredAt === null ? null : Date.parse(restoredAt) - Date.parse(injection.injectedAt);
  const measured = { rtoMs, rpoMs: dataLoss?.rpoMs ?? null };
  return finish({
    ...withInjection,
    restoredAt,
    measured,
    dataLoss,
    canary,
    failover: summary(failover),
    criticalPath: criticalPath(failover.timeline, injection.injectedAt, rtoMs),
    ...(restoredAt === null
      ? { error: 'no write through the switched DNS name succeeded within 2 minutes of the failover' }
      : {}),
    ...(canaryError === undefined
      ? {}
      : { error: `the canary failed, so the RPO was not measured: ${canaryError}` }),
  });

  function finish(result: DrillResult): DrillResult {
    const verdicts = judgeObjectives(runbook, result.measured);
    const passed = result.error === undefined && verdicts.every((verdict) => verdict.passed);
    const searchAttributes: Parameters<typeof upsertSearchAttributes>[0] = [
      { key: OUTCOME_KEY, value: passed ? 'passed' : 'failed' },
    ];
    if (result.measured.rtoMs !== null)
      searchAttributes.push({ key: RTO_MS_KEY, value: result.measured.rtoMs });
    if (result.measured.rpoMs !== null)
      searchAttributes.push({ key: RPO_MS_KEY, value: result.measured.rpoMs });
    upsertSearchAttributes(searchAttributes);
    return { ...result, verdicts, passed, endedAt: new Date().toISOString() };
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
    injection: { action: options.action, injectedAt: startedAt, summary: 'not injected' },
    restoredAt: null,
    measured: { rtoMs: null, rpoMs: null },
    dataLoss: null,
    canary: null,
    verdicts: [],
    passed: false,
    failover: { workflowId: `${drillId}-failover`, status: 'not started', timeline: [] },
    criticalPath: [],
    environment: { temporalNamespace: info.namespace, taskQueue: info.taskQueue },
  };
}

/** Service is back when a client following DNS can write: the runbook's SQL probe that goes through DNS. */
function restorationProbe(runbook: Runbook): SqlProbe | undefined {
  for (const step of leafStepsOf(runbook)) {
    if (step.kind === 'probe' && step.probe.type === 'sql' && step.probe.via)
      return { ...step.probe, write: true };
  }
  return undefined;
}

function summary(result: FailoverResult): DrillResult['failover'] {
  return {
    workflowId: result.workflowId,
    status: result.status,
    timeline: result.timeline,
    operatorActions: result.operatorActions,
    ...(result.authorization === undefined ? {} : { authorization: result.authorization }),
  };
}

function failedFailover(error: unknown): FailoverResult | undefined {
  if (!(error instanceof ChildWorkflowFailure) || !(error.cause instanceof ApplicationFailure))
    return undefined;
  const detail = error.cause.details?.[0] as FailoverResult | undefined;
  return detail?.timeline ? detail : undefined;
}
