import type { Client } from '@temporalio/client';
import type { LoadedPolicy } from '../auth/access-policy';
import { verifyRecordedActions, type ActionVerdict, type RunRecord } from '../auth/recorded-actions';
import { authorizationFields } from '../reports/failover-run-record';
import type { EvacuationProgress } from '../evacuations/evacuation-types';
import type { DrillResult } from '../workflows/drill-types';
import type { EvacuationDrillResult } from '../workflows/evacuation-drill-types';
import type { FailoverProgress } from '../workflows/run-types';
import { CliError, ExitCode } from './cli-error';
import { fetchDrillResult, fetchEvacuationDrillResult } from './drill-runs';
import { readEvacuation } from './evacuation-runs';
import { readRun } from './failover-runs';

/** The outcome of re-verifying one run's recorded operator actions against a policy file. */
export interface RunVerification {
  ok: boolean;
  policy: { file: string; sha256: string; matchesRecorded: boolean; recorded: string[] };
  runs: Array<{ runId: string; verdicts: ActionVerdict[] }>;
}

/** A service's run that cannot be verified: it recorded no result (terminated), or its history is gone. */
export interface UnreadableRun {
  workflowId: string;
  unreadable: string;
}

/** An evacuation's result with its services' own runs, as `fetchRunResult` reads them from Temporal. */
export type EvacuationWithServiceRuns = EvacuationProgress & { serviceRuns?: Array<unknown> };

/** An evacuation drill's result with the evacuation it started (and that one's service runs), as read by id. */
export type EvacuationDrillWithRun = EvacuationDrillResult & {
  evacuationRun?: EvacuationWithServiceRuns | UnreadableRun;
};

function isUnreadable(run: unknown): run is UnreadableRun {
  return typeof (run as Partial<UnreadableRun>).unreadable === 'string';
}

/**
 * The runs a result holds: a failover's own record; a drill's start and its child failover's; an evacuation's and,
 * when the result carries them (`serviceRuns`), each of its services' failovers; an evacuation drill's start and,
 * read by id, its evacuation's.
 */
export function runRecordsOf(result: unknown): RunRecord[] {
  const evacuationDrill = result as Partial<EvacuationDrillWithRun>;
  if (typeof evacuationDrill.drillId === 'string' && typeof evacuationDrill.evacuationHash === 'string') {
    const drill = evacuationDrill as EvacuationDrillWithRun;
    // Its record lists its evacuation's actions: its own start, then the approvals signed for the evacuation run,
    // which are verified as that run's (read by id; a saved result does not carry that run, and says so).
    const ownActions = drill.operatorActions.filter((action) => action.action === 'start');
    // A drill whose start did not verify records no policy and no start; one that records a start without the
    // policy that governed it cannot be verified.
    const own: RunRecord[] = drill.authorization
      ? [
          {
            ...recordOf(drill.drillId, drill.authorization, ownActions),
            headline: { initiator: drill.initiator, reason: drill.reason },
          },
        ]
      : ownActions.length > 0
        ? [unauthorizedRecord(drill.drillId, drill.evacuationId, ownActions)]
        : [];
    return drill.evacuationRun === undefined || isUnreadable(drill.evacuationRun)
      ? own
      : [...own, ...runRecordsOf(drill.evacuationRun)];
  }
  const evacuation = result as Partial<EvacuationWithServiceRuns>;
  if (typeof evacuation.evacuationId === 'string' && Array.isArray(evacuation.serviceRuns)) {
    const { serviceRuns, ...own } = evacuation;
    return [
      ...runRecordsOf(own),
      ...serviceRuns.flatMap((run) => (isUnreadable(run) ? [] : runRecordsOf(run))),
    ];
  }
  const value = result as Partial<DrillResult & FailoverProgress>;
  if (typeof value.drillId === 'string') {
    const drill = value as DrillResult;
    const records: RunRecord[] = [
      drill.authorization
        ? {
            ...recordOf(drill.drillId, drill.authorization, drill.operatorActions ?? []),
            headline: { initiator: drill.initiator, reason: drill.reason },
          }
        : unauthorizedRecord(drill.drillId, drill.runbookId, drill.operatorActions ?? []),
    ];
    // Its failover's parent is the drill (failovers recorded before they kept it are checked as the drill's). A
    // failover that never started signed nothing; one whose record holds actions but no policy is not verifiable.
    if (!drill.failover.authorization && (drill.failover.operatorActions?.length ?? 0) > 0)
      records.push(
        unauthorizedRecord(drill.failover.workflowId, drill.runbookId, drill.failover.operatorActions ?? []),
      );
    if (drill.failover.authorization)
      records.push({
        ...recordOf(
          drill.failover.workflowId,
          drill.failover.authorization,
          drill.failover.operatorActions ?? [],
        ),
        parent: drill.failover.authorization.parent ?? drill.drillId,
      });
    return records;
  }
  if (typeof value.workflowId === 'string' && Array.isArray(value.operatorActions)) {
    const run = value as FailoverProgress;
    if (!run.authorization) return [unauthorizedRecord(run.workflowId, run.runbookId, run.operatorActions)];
    return [
      {
        ...recordOf(run.workflowId, run.authorization, run.operatorActions),
        headline: {
          initiator: run.initiator,
          reason: run.reason,
          ...(run.authorization.forcedPastPlan === undefined
            ? {}
            : { forcedPastPlan: run.authorization.forcedPastPlan }),
        },
      },
    ];
  }
  throw new CliError(
    'NotARunResult',
    'this is not the result of a failover, an evacuation or a drill (drctl status --output json, or drctl report --format json)',
    ExitCode.BadInput,
  );
}

/** A run record without the policy that governed it (its `authorization`): nothing it holds can be verified. */
function unauthorizedRecord(
  runId: string,
  runbookId: string,
  operatorActions: FailoverProgress['operatorActions'],
): RunRecord {
  return { runId, runbookId, operatorActions };
}

function recordOf(
  runId: string,
  authorization: NonNullable<FailoverProgress['authorization']>,
  operatorActions: FailoverProgress['operatorActions'],
): RunRecord {
  return {
    runId,
    runbookId: authorization.runbookId,
    ...authorizationFields(authorization),
    operatorActions,
  };
}

/**
 * Re-verifies every signed operator action in `result` against `policy` (which must be the recorded one). A
 * service run of an evacuation that could not be read is not verified (a failed verdict saying why).
 */
export function verifyRunResult(result: unknown, policy: LoadedPolicy): RunVerification {
  const records = runRecordsOf(result);
  if (records.length === 0)
    throw new CliError('NothingSigned', 'the result records no signed operator actions', ExitCode.Failed);
  const recorded = [...new Set(records.map((record) => record.policySha256).filter((h): h is string => !!h))];
  const runs = [
    ...records.map((record) => ({
      runId: record.runId,
      verdicts:
        record.policySha256 === undefined
          ? [unverifiable(record.runId)]
          : verifyRecordedActions(record, policy).verdicts,
    })),
    ...unreadableRunsOf(result).map((run) => ({
      runId: run.workflowId,
      verdicts: [
        {
          index: 0,
          action: 'record',
          operator: '-',
          ok: false,
          breakGlass: false,
          detail: `not verified: ${run.unreadable}`,
        },
      ],
    })),
  ];
  // Nothing recorded matches nothing: a record stripped of its policy must not pass as "the one recorded".
  const matchesRecorded = recorded.length > 0 && recorded.every((hash) => hash === policy.sha256);
  return {
    ok: matchesRecorded && runs.every((run) => run.verdicts.length > 0 && run.verdicts.every((v) => v.ok)),
    policy: { file: policy.source, sha256: policy.sha256, matchesRecorded, recorded },
    runs,
  };
}

/**
 * The verdict on a run that records no access policy. Every run drctl starts records the policy and the reviewed
 * runbook that governed it; without them no signature, permission or headline can be checked against anything.
 */
function unverifiable(runId: string): ActionVerdict {
  return {
    index: 0,
    action: 'record',
    operator: '-',
    ok: false,
    breakGlass: false,
    detail: `not verified: ${runId}'s record names no access policy (its authorization is missing), so nothing can be checked against one; read the run from Temporal (drctl verify-run <run-id>) rather than a saved file`,
  };
}

/** The service runs of an evacuation (or of an evacuation drill's) that could not be read. */
function unreadableRunsOf(result: unknown): UnreadableRun[] {
  const evacuation =
    (result as Partial<EvacuationDrillWithRun>).evacuationRun ??
    (result as Partial<EvacuationWithServiceRuns>);
  if (isUnreadable(evacuation)) return [evacuation];
  return (evacuation.serviceRuns ?? []).filter(isUnreadable);
}

/**
 * What an evacuation's (or an evacuation drill's) saved result does not carry, so is not verified from it: the
 * services' own runs (and a drill's evacuation run, with its approvals). Undefined when nothing is left out.
 */
export function runsNotCarried(result: unknown): string | undefined {
  const evacuation = result as Partial<EvacuationWithServiceRuns & EvacuationDrillWithRun>;
  if (typeof evacuation.evacuationHash === 'string')
    return evacuation.evacuationRun === undefined && evacuation.evacuation?.status !== 'not started'
      ? "its evacuation's run (its approvals) and its services' runs are not in this result: verify them by the drill's id"
      : undefined;
  return typeof evacuation.evacuationId === 'string' && evacuation.serviceRuns === undefined
    ? "its services' own runs are not in this result: verify them by the evacuation's id, or each from its saved status"
    : undefined;
}

/**
 * A run's result as recorded by Temporal: a drill's result, a failover's or an evacuation's result, or a live run's
 * progress.
 */
export async function fetchRunResult(
  client: Client,
  runId: string,
  temporalRunId?: string,
): Promise<{ result: unknown; temporalRunId: string }> {
  const description = await client.workflow.getHandle(runId, temporalRunId).describe();
  const isDrill = description.type === 'drillWorkflow' || description.type === 'evacuationDrillWorkflow';
  // A drill's record exists once it ends (a failover's progress is readable while it runs): never wait for it.
  if (isDrill && description.status.name === 'RUNNING')
    throw new CliError(
      'DrillRunning',
      `${runId} is still running; its record, and so what there is to verify, exists once it ends (drctl status ${runId} --follow). Its failover's actions so far: drctl verify-run <its failover>`,
      ExitCode.Refused,
    );
  const read = async (): Promise<unknown> => {
    if (description.type === 'drillWorkflow') return fetchDrillResult(client, runId, description.runId);
    if (description.type === 'evacuationDrillWorkflow') {
      const drill = await fetchEvacuationDrillResult(client, runId, description.runId);
      // Refused before its evacuation started: its own start is all there is to verify.
      if (drill.evacuation.status === 'not started') return drill;
      const evacuationRun = await readEvacuationWithServices(client, drill.evacuation.workflowId).catch(
        (error: unknown): UnreadableRun => ({
          workflowId: drill.evacuation.workflowId,
          unreadable: `its run cannot be read (${(error as Error).message})`,
        }),
      );
      return { ...drill, evacuationRun };
    }
    if (description.type === 'evacuationWorkflow')
      return readEvacuationWithServices(client, runId, description.runId);
    const state = await readRun(client, runId, description.runId);
    if (!state.closed) return state.progress;
    if (state.result) return state.result;
    throw new CliError(
      'NoResult',
      `${runId} ended ${state.status} without a recorded result (${state.message})`,
      ExitCode.Failed,
    );
  };
  return { result: await read(), temporalRunId: description.runId };
}

/**
 * An evacuation's record (one that failed or was aborted records it in its failure) and each of its services' runs:
 * each ran as a failover of its own, with its own signed actions (approvals, decisions). A service run that cannot
 * be read (its history is gone, or it ended without a record) is named, not skipped.
 */
async function readEvacuationWithServices(
  client: Client,
  workflowId: string,
  runId?: string,
): Promise<EvacuationWithServiceRuns> {
  const { progress } = await readEvacuation(client, workflowId, runId);
  const serviceRuns = await Promise.all(
    progress.services.flatMap((service) => {
      if (service.workflowId === undefined || service.runId === undefined) return [];
      const serviceWorkflowId = service.workflowId;
      return [
        readRun(client, serviceWorkflowId, service.runId).then(
          (run): unknown =>
            run.closed
              ? (run.result ?? {
                  workflowId: serviceWorkflowId,
                  unreadable: `its run ended ${run.status} without a recorded result (${run.message})`,
                })
              : run.progress,
          (error: unknown): UnreadableRun => ({
            workflowId: serviceWorkflowId,
            unreadable: `its run ${service.runId} cannot be read (${(error as Error).message})`,
          }),
        ),
      ];
    }),
  );
  return { ...progress, serviceRuns };
}
