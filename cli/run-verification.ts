import type { Client } from '@temporalio/client';
import type { LoadedPolicy } from '../auth/access-policy';
import { verifyRecordedActions, type ActionVerdict, type RunRecord } from '../auth/recorded-actions';
import { authorizationFields } from '../reports/failover-run-record';
import type { EvacuationProgress } from '../evacuations/evacuation-types';
import type { DrillResult } from '../workflows/drill-types';
import type { FailoverProgress } from '../workflows/run-types';
import { CliError, ExitCode } from './cli-error';
import { fetchDrillResult } from './drill-runs';
import { readEvacuation } from './evacuation-runs';
import { readRun } from './failover-runs';

/** The outcome of re-verifying one run's recorded operator actions against a policy file. */
export interface RunVerification {
  ok: boolean;
  policy: { file: string; sha256: string; matchesRecorded: boolean; recorded: string[] };
  runs: Array<{ runId: string; verdicts: ActionVerdict[] }>;
}

/** An evacuation's result with its services' own runs, as `fetchRunResult` reads them from Temporal. */
export type EvacuationWithServiceRuns = EvacuationProgress & { serviceRuns?: unknown[] };

/**
 * The runs a result holds: a failover's own record; a drill's start and its child failover's; an evacuation's and,
 * when the result carries them (`serviceRuns`), each of its services' failovers.
 */
export function runRecordsOf(result: unknown): RunRecord[] {
  const evacuation = result as Partial<EvacuationWithServiceRuns>;
  if (typeof evacuation.evacuationId === 'string' && Array.isArray(evacuation.serviceRuns)) {
    const { serviceRuns, ...own } = evacuation;
    return [...runRecordsOf(own), ...serviceRuns.flatMap((run) => runRecordsOf(run))];
  }
  const value = result as Partial<DrillResult & FailoverProgress>;
  if (typeof value.drillId === 'string') {
    const drill = value as DrillResult;
    const records: RunRecord[] = [];
    if (drill.authorization)
      records.push({
        ...recordOf(drill.drillId, drill.authorization, drill.operatorActions ?? []),
        headline: { initiator: drill.initiator, reason: drill.reason },
      });
    // Its failover's parent is the drill (failovers recorded before they kept it are checked as the drill's).
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
    if (!run.authorization)
      return [{ runId: run.workflowId, runbookId: run.runbookId, operatorActions: run.operatorActions }];
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

/** Re-verifies every signed operator action in `result` against `policy` (which must be the recorded one). */
export function verifyRunResult(result: unknown, policy: LoadedPolicy): RunVerification {
  const records = runRecordsOf(result);
  if (records.length === 0)
    throw new CliError('NothingSigned', 'the result records no signed operator actions', ExitCode.Failed);
  const recorded = [...new Set(records.map((record) => record.policySha256).filter((h): h is string => !!h))];
  const runs = records.map((record) => ({
    runId: record.runId,
    verdicts: verifyRecordedActions(record, policy).verdicts,
  }));
  const matchesRecorded = recorded.every((hash) => hash === policy.sha256);
  return {
    ok: matchesRecorded && runs.every((run) => run.verdicts.length > 0 && run.verdicts.every((v) => v.ok)),
    policy: { file: policy.source, sha256: policy.sha256, matchesRecorded, recorded },
    runs,
  };
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
  const read = async (): Promise<unknown> => {
    if (description.type === 'drillWorkflow') return fetchDrillResult(client, runId, description.runId);
    // An evacuation that failed or was aborted records its result in its failure, in its own shape. Each of its
    // services ran as a failover of its own, with its own signed actions (approvals, decisions): read them too.
    if (description.type === 'evacuationWorkflow') {
      const { progress } = await readEvacuation(client, runId, description.runId);
      const serviceRuns = await Promise.all(
        progress.services.flatMap((service) =>
          service.workflowId === undefined || service.runId === undefined
            ? []
            : [
                readRun(client, service.workflowId, service.runId).then((run) =>
                  run.closed ? run.result : run.progress,
                ),
              ],
        ),
      );
      return { ...progress, serviceRuns: serviceRuns.filter((run) => run !== undefined) };
    }
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
