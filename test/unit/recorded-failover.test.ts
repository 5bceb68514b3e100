import { CancelledFailure, type Client, WorkflowFailedError } from '@temporalio/client';
import { createRunRecordActivities } from '../../activities/runs/recorded-failover';
import { runLockId } from '../../common/run-lock';
import { OUTCOME_KEY } from '../../common/search-attributes';
import type { FailoverResult } from '../../workflows/run-types';

/** A failover run as Temporal's visibility lists it and as its handle describes it and answers its result. */
interface ListedRun {
  runId: string;
  startTime: Date;
  outcome?: string;
  status: 'COMPLETED' | 'FAILED' | 'CANCELLED';
  result?: FailoverResult;
}

/**
 * A fake Temporal client over `runs`: `workflow.list` yields them with their outcome attribute, a handle describes
 * a run with its status and answers its result, or, for a run without one, fails as Temporal does for a
 * cancelled run (a WorkflowFailedError caused by a CancelledFailure).
 */
function temporalOver(runs: ListedRun[]): Client {
  const byRunId = new Map(runs.map((run) => [run.runId, run]));
  return {
    workflow: {
      list: () =>
        (async function* () {
          for (const run of runs)
            yield {
              runId: run.runId,
              startTime: run.startTime,
              typedSearchAttributes: {
                get: (key: unknown) => (key === OUTCOME_KEY ? run.outcome : undefined),
              },
            };
        })(),
      getHandle: (_workflowId: string, runId: string) => {
        const run = byRunId.get(runId);
        if (!run) throw new Error(`no run ${runId}`);
        return {
          describe: async () => ({ status: { name: run.status } }),
          result: async () => {
            if (run.result) return run.result;
            throw new WorkflowFailedError(
              'cancelled',
              new CancelledFailure('cancelled'),
              'NON_RETRYABLE_FAILURE',
            );
          },
        };
      },
    },
  } as unknown as Client;
}

/** A failover that succeeded and turned a flag on: the one a failback reverses. */
const CHANGED_RUN: ListedRun = {
  runId: 'changed',
  startTime: new Date('2026-12-04T00:40:00Z'),
  outcome: 'succeeded',
  status: 'COMPLETED',
  result: {
    workflowId: runLockId('ehr-db'),
    runId: 'changed',
    status: 'succeeded',
    timeline: [
      {
        stepId: 'degraded-mode-on',
        kind: 'flags.set',
        status: 'succeeded',
        changed: true,
        before: {
          project: 'default',
          environment: 'development',
          flags: [{ name: 'ehr-degraded-mode', enabled: false }],
        },
      },
    ],
  } as unknown as FailoverResult,
};

test('GIVEN the newest failover of a runbook was cancelled through Temporal while its start was verified WHEN a failback looks for the failover to reverse THEN it passes over it, as over a refused one, to the newest that changed something (before: it stopped at the cancelled run, "ended cancelled without a result")', async () => {
  const temporal = temporalOver([
    {
      runId: 'cancelled-at-start',
      startTime: new Date('2026-12-04T01:00:00Z'),
      outcome: 'canceled',
      status: 'CANCELLED',
    },
    { runId: 'refused', startTime: new Date('2026-12-04T00:50:00Z'), outcome: 'refused', status: 'FAILED' },
    CHANGED_RUN,
  ]);

  const record = await createRunRecordActivities({ temporal }).readRecordedFailover({ runbookId: 'ehr-db' });

  expect(record.run).toBe(`${runLockId('ehr-db')} run changed`);
  expect(record.flagsBefore).toEqual([['default/development/ehr-degraded-mode', false]]);
});

test('GIVEN the newest failover was cancelled through Temporal after it began (recorded aborted, no result) WHEN a failback looks for the failover to reverse THEN it stops there and asks for --from-run: what that run changed is unknown', async () => {
  const temporal = temporalOver([
    {
      runId: 'aborted',
      startTime: new Date('2026-12-04T01:00:00Z'),
      outcome: 'aborted',
      status: 'CANCELLED',
    },
    CHANGED_RUN,
  ]);

  await expect(
    createRunRecordActivities({ temporal }).readRecordedFailover({ runbookId: 'ehr-db' }),
  ).rejects.toThrow(/ended cancelled without a result.*--from-run/);
});
