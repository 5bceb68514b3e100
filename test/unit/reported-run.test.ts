import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { reportedRun } from '../../cli/reported-run';
import { OUTCOME_KEY } from '../../common/search-attributes';

/** A run as Temporal describes and lists it, and how it ended. */
interface FakeRun {
  runId: string;
  type: string;
  status: 'RUNNING' | 'COMPLETED' | 'FAILED';
  startedAt: string;
  outcome?: string;
  /** Its close: a refusal by the worker, or a result. */
  refusedWith?: string;
}

/**
 * The client calls `reportedRun` makes: describe (the newest run, or one by id), list by id, and each run's
 * result. Its results are as Temporal gives them: a refused start fails with the worker's ApplicationFailure.
 */
function clientOf(workflowId: string, runs: FakeRun[]): Client {
  const newestFirst = [...runs].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const info = (run: FakeRun) => ({
    workflowId,
    runId: run.runId,
    type: run.type,
    status: { name: run.status },
    startTime: new Date(run.startedAt),
    closeTime: run.status === 'RUNNING' ? undefined : new Date(run.startedAt),
    typedSearchAttributes: {
      get: (key: { name: string }) => (key.name === OUTCOME_KEY.name ? run.outcome : undefined),
    },
  });
  const byId = (runId?: string) =>
    runId === undefined ? newestFirst[0] : runs.find((r) => r.runId === runId);
  return {
    workflow: {
      getHandle: (_id: string, runId?: string) => ({
        describe: async () => info(byId(runId) as FakeRun),
        result: async () => {
          const run = byId(runId) as FakeRun;
          if (run.refusedWith === undefined) return { drillId: workflowId, runId: run.runId };
          throw Object.assign(new Error('Workflow execution failed'), {
            cause: ApplicationFailure.nonRetryable(run.refusedWith, 'NotAuthorized'),
          });
        },
      }),
      list: ({ query }: { query: string }) => {
        const type = /WorkflowType = '(\w+)'/.exec(query)?.[1];
        return (async function* () {
          for (const run of newestFirst) if (type === undefined || run.type === type) yield info(run);
        })();
      },
    },
  } as unknown as Client;
}

const drill = (runId: string, startedAt: string, extra: Partial<FakeRun> = {}): FakeRun => ({
  runId,
  type: 'drillWorkflow',
  status: 'COMPLETED',
  startedAt,
  ...extra,
});

describe('the run drctl report renders', () => {
  it('GIVEN a drill whose start was replayed and refused THEN the drill, naming the refused run it passed over', async () => {
    const client = clientOf('drill-x', [
      drill('first', '2026-12-02T10:00:00.000Z', { outcome: 'passed' }),
      drill('copy', '2026-12-02T10:01:00.000Z', {
        status: 'FAILED',
        refusedWith: 'already started run first',
      }),
    ]);
    const chosen = await reportedRun(client, 'drill-x');
    expect({ run: chosen.run.runId, passedOver: chosen.passedOver?.runId }).toEqual({
      run: 'first',
      passedOver: 'copy',
    });
  });

  it('GIVEN a newer drill run started with DrctlOutcome preset to refused THEN it is not passed over (before: passed over, the search attribute trusted)', async () => {
    const client = clientOf('drill-x', [
      drill('first', '2026-12-02T10:00:00.000Z', { outcome: 'passed' }),
      drill('preset', '2026-12-02T10:01:00.000Z', { status: 'RUNNING', outcome: 'refused' }),
    ]);
    const chosen = await reportedRun(client, 'drill-x');
    expect({ run: chosen.run.runId, passedOver: chosen.passedOver }).toEqual({
      run: 'preset',
      passedOver: undefined,
    });
  });

  it("GIVEN a runbook's lock id whose newest failover was refused THEN that refusal is the report: the id is shared (before: an older incident's failover)", async () => {
    const failover = (runId: string, startedAt: string, extra: Partial<FakeRun> = {}): FakeRun => ({
      runId,
      type: 'failoverWorkflow',
      status: 'COMPLETED',
      startedAt,
      ...extra,
    });
    const client = clientOf('failover-ehr-db', [
      failover('last-month', '2026-11-02T10:00:00.000Z', { outcome: 'succeeded' }),
      failover('refused', '2026-12-02T10:01:00.000Z', {
        status: 'FAILED',
        outcome: 'refused',
        refusedWith: 'bob may not start a failover',
      }),
    ]);
    const chosen = await reportedRun(client, 'failover-ehr-db');
    expect({ run: chosen.run.runId, passedOver: chosen.passedOver }).toEqual({
      run: 'refused',
      passedOver: undefined,
    });
  });

  it('GIVEN --run-id THEN that run, refused or not', async () => {
    const client = clientOf('drill-x', [
      drill('first', '2026-12-02T10:00:00.000Z'),
      drill('copy', '2026-12-02T10:01:00.000Z', { status: 'FAILED', refusedWith: 'already started' }),
    ]);
    expect((await reportedRun(client, 'drill-x', 'copy')).run.runId).toBe('copy');
  });
});
