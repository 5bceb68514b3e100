import { ApplicationFailure, type Client, WorkflowFailedError } from '@temporalio/client';
import { runLockId } from '../../common/run-lock';
import { KIND_KEY, OUTCOME_KEY } from '../../common/search-attributes';
import { recordsBeforeOf } from '../../kinds/dns-switch/definition';
import { flagsBeforeOf } from '../../kinds/flags-set/definition';
import type { FailoverResult } from '../../workflows/run-types';
import { PermanentFailure, permanentFailure } from '../failures';
import type { RunRecordActivities } from './run-record-contracts';

export interface RunRecordDeps {
  /** A client of the worker's namespace, with the payload codec (results are encrypted). */
  temporal: Client;
}

/**
 * The worker reads what a failover recorded, so a failback restores each flag and literal DNS record to its value
 * before that failover from the run's own history, never from anything a client sends.
 */
export function createRunRecordActivities(deps: RunRecordDeps | undefined): RunRecordActivities {
  return {
    readRecordedFailover: async ({ runbookId, runId }) => {
      if (!deps)
        throw permanentFailure(
          PermanentFailure.ConfigurationMissing,
          'this worker has no Temporal client for reading recorded runs; it is built by the worker (worker/run-worker.ts)',
        );
      const { temporal } = deps;
      const workflowId = runLockId(runbookId);
      const chosen = runId ?? (await latestFailover(temporal, workflowId));
      if (chosen === undefined)
        throw permanentFailure(
          PermanentFailure.NotFound,
          `no failover of ${runbookId} that changed something is recorded under ${workflowId} (among its newest ${CHANGED_RUN_LOOKBACK}): a failback sets each flag back to its value before ` +
            `the failover and will not guess it. Name the failover's run with --from-run <run id> (drctl runs --runbook ${runbookId}).`,
        );
      const result = await closedResult(temporal, workflowId, chosen);
      return {
        run: `${workflowId} run ${chosen}`,
        flagsBefore: [...flagsBeforeOf(result.timeline)],
        recordsBefore: [...recordsBeforeOf(result.timeline)],
      };
    },
  };
}

/**
 * Outcomes of a failover that began nothing: a refused start, one cancelled through Temporal while it was being
 * verified, a run its parent never released.
 */
const NOTHING_BEGAN = new Set(['refused', 'canceled', 'not-released']);

/**
 * The failover a failback reverses by default: the newest run of the runbook that changed something. Runs that
 * changed nothing (refused, failed at pre-flight, never released) are passed over: reversing one would leave the
 * flags an earlier failover turned on as they are. A run whose record cannot be read (terminated, still running
 * as far as visibility knows) stops the search: what it changed is unknown, and `closedResult` refuses it, naming
 * `--from-run`. Undefined when none of the newest changed anything.
 */
async function latestFailover(temporal: Client, workflowId: string): Promise<string | undefined> {
  const runs: Array<{ runId: string; startTime: Date; outcome?: string }> = [];
  const query = `WorkflowId = '${workflowId}' AND ${KIND_KEY.name} = 'failover'`;
  for await (const execution of temporal.workflow.list({ query })) {
    const outcome = execution.typedSearchAttributes.get(OUTCOME_KEY);
    runs.push({
      runId: execution.runId,
      startTime: execution.startTime,
      ...(outcome === undefined ? {} : { outcome }),
    });
  }
  runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  for (const run of runs.slice(0, CHANGED_RUN_LOOKBACK)) {
    if (run.outcome !== undefined && NOTHING_BEGAN.has(run.outcome)) continue;
    const result = await closedResult(temporal, workflowId, run.runId);
    if (result.timeline.some((entry) => entry.changed === true)) return run.runId;
  }
  return undefined;
}

/** How many of the newest failovers a failback looks through for one that changed something. */
const CHANGED_RUN_LOOKBACK = 20;

async function closedResult(temporal: Client, workflowId: string, runId: string): Promise<FailoverResult> {
  const handle = temporal.workflow.getHandle(workflowId, runId, { followRuns: false });
  const description = await handle.describe().catch((error: unknown) => {
    throw permanentFailure(
      PermanentFailure.NotFound,
      `run ${runId} of ${workflowId} is not in Temporal (${(error as Error).message}); name a failover run of this runbook (drctl runs)`,
    );
  });
  if (description.status.name === 'RUNNING')
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `the failover ${workflowId} (run ${runId}) is still running; fail back once it has ended (drctl status ${workflowId})`,
    );
  try {
    return await handle.result();
  } catch (error) {
    // A failed or aborted failover carries its result (the timeline up to its end) as the failure's detail.
    const detail =
      error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure
        ? (error.cause.details?.[0] as FailoverResult | undefined)
        : undefined;
    if (detail?.timeline) return detail;
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `the failover ${workflowId} (run ${runId}) ended ${description.status.name.toLowerCase()} without a result, so what it changed is unknown; name another run with --from-run`,
    );
  }
}
