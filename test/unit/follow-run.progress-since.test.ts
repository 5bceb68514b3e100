import { followFeed, progressSince, type RunFeed } from '../../cli/follow-run';
import type { FailoverProgress, FailoverResult, TimelineEntry } from '../../workflows/run-types';

/**
 * Following a run asks it only for the timeline after what the follower holds (`progressSince`). A run of an older
 * worker has no such query: the follower must fall back to the whole `progress`. The gRPC client says so with a
 * QueryNotRegisteredError, the HTTP API with the workflow's own words; the matcher before knew neither and the
 * follow failed on such a run.
 */
const entry = (stepId: string, status: TimelineEntry['status']): TimelineEntry =>
  ({ stepId, kind: 'wait', status, startedAt: '2026-11-28T10:00:00.000Z', providerMs: 0 }) as TimelineEntry;

const progress = (timeline: TimelineEntry[]): FailoverProgress =>
  ({
    workflowId: 'failover-x',
    runId: 'r',
    timeline,
    awaiting: [],
    operatorActions: [],
  }) as unknown as FailoverProgress;

/** A run whose workflow code registered `progress` only, refusing other queries as `refuse` does. */
function olderRun(refuse: (queryType: string) => Error, timeline: TimelineEntry[]): RunFeed {
  return {
    news: async function* () {
      yield { progressed: true, closed: false };
      yield { progressed: true, closed: true };
    },
    query: async <T>(queryType: string): Promise<T> => {
      if (queryType !== 'progress') throw refuse(queryType);
      return progress(timeline) as T;
    },
    finalState: async () => ({
      closed: true,
      result: {
        ...progress(timeline),
        status: 'succeeded',
        endedAt: '2026-11-28T10:00:01.000Z',
      } as FailoverResult,
    }),
  };
}

const overGrpc = (queryType: string) =>
  Object.assign(
    new Error(`Workflow did not register a handler for ${queryType}. Registered queries: [progress]`),
    {
      name: 'QueryNotRegisteredError',
    },
  );
const overHttp = (queryType: string) =>
  new Error(`Workflow did not register a handler for ${queryType}. Registered queries: [progress]`);

test.each([
  ['gRPC', overGrpc],
  ['the HTTP API', overHttp],
])('a run without progressSince, read over %s, is followed through its whole progress', async (_, refuse) => {
  const timeline = [entry('preflight', 'succeeded'), entry('settle', 'running')];
  await expect(progressSince(olderRun(refuse, timeline), 1)).resolves.toMatchObject({
    timelineFrom: 0,
    timeline,
  });
  const result = await followFeed(olderRun(refuse, timeline), 'failover-x', { live: true });
  expect(result.status).toBe('succeeded');
});

test('followed without live output (--output json), a run is never asked for its progress: a run that refuses queries is still followed to its recorded result', async () => {
  const refusing: RunFeed = {
    ...olderRun(overHttp, [entry('preflight', 'succeeded')]),
    query: async () => {
      throw new Error('permission denied');
    },
  };
  const result = await followFeed(refusing, 'failover-x', { live: false });
  expect(result).toMatchObject({ status: 'succeeded', timeline: [{ stepId: 'preflight' }] });
});

test('a query refused for another reason is not mistaken for an older run', async () => {
  const broken: RunFeed = {
    ...olderRun(overHttp, []),
    query: async () => {
      throw new Error('permission denied');
    },
  };
  await expect(progressSince(broken, 0)).rejects.toThrow('permission denied');
});

test('a run that closed before the query answers gives no delta (the follow then reads its final state)', async () => {
  const closed: RunFeed = {
    ...olderRun(overHttp, []),
    query: async () => {
      throw new Error('the query progressSince was rejected: the run is WORKFLOW_EXECUTION_STATUS_COMPLETED');
    },
  };
  await expect(progressSince(closed, 0)).resolves.toBeUndefined();
});
