import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { createLagMetricsAdapter } from '../../activities/database/lag-metrics-adapter';
import type { LagQuery } from '../../activities/database/lag-metrics-port';
import { heldCalls, twoActivities } from './held-calls';

interface MetricQuery {
  Id: string;
  MetricStat: { Metric: { MetricName: string; Dimensions: Array<{ Value: string }> } };
}

/**
 * A CloudWatch endpoint holding one datapoint per series (`points`: resourceId → [seconds ago, value]). Like
 * CloudWatch it refuses more than 500 queries in a call, and Ids that repeat or do not start with a lowercase
 * letter (GetMetricData API reference); with `pageSize` it answers in pages (NextToken). Like CloudWatch it may
 * return a period that begins before StartTime (`startSlackMs`: it rounds StartTime down). With `olderPointPage`
 * each series also has a datapoint a minute older, and the first page carries only those (NextToken), the second
 * the newer ones. Records every call.
 */
function cloudWatch(
  points: Map<string, [number, number]>,
  options: { pageSize?: number; startSlackMs?: number; olderPointPage?: boolean } = {},
) {
  const calls: Array<{ ids: string[]; resources: string[] }> = [];
  const gate = heldCalls();
  let failWith: Error | undefined;
  const client = {
    send: async (command: {
      constructor: { name: string };
      input: { MetricDataQueries: MetricQuery[]; NextToken?: string; StartTime: Date };
    }) => {
      if (command.constructor.name !== 'GetMetricDataCommand') throw new Error('unexpected call');
      const queries = command.input.MetricDataQueries;
      const ids = queries.map((q) => q.Id);
      if (queries.length > 500)
        throw validation('The collection MetricDataQueries must not have a size greater than 500.');
      if (new Set(ids).size !== ids.length)
        throw validation('The values for parameter id in MetricDataQueries are not unique.');
      if (ids.some((id) => !/^[a-z][a-zA-Z0-9_]*$/.test(id)))
        throw validation('Invalid metric data query id.');
      calls.push({ ids, resources: queries.map((q) => q.MetricStat.Metric.Dimensions[0]!.Value) });
      await gate.passed();
      if (failWith) throw failWith;
      const page = Number(command.input.NextToken ?? 0);
      const from = command.input.StartTime.getTime() - (options.startSlackMs ?? 0);
      const answer = (q: MetricQuery, agoExtraS: number, valueOf: (value: number) => number) => {
        const point = points.get(q.MetricStat.Metric.Dimensions[0]!.Value);
        const at = point === undefined ? undefined : new Date(Date.now() - (point[0] + agoExtraS) * 1000);
        const inWindow = at !== undefined && at.getTime() >= from;
        return { Id: q.Id, Timestamps: inWindow ? [at] : [], Values: inWindow ? [valueOf(point![1])] : [] };
      };
      if (options.olderPointPage) {
        return page === 0
          ? { MetricDataResults: queries.map((q) => answer(q, 60, (v) => v + 100)), NextToken: '1' }
          : { MetricDataResults: queries.map((q) => answer(q, 0, (v) => v)) };
      }
      const size = options.pageSize ?? queries.length;
      const results = queries.slice(page * size, (page + 1) * size).map((q) => answer(q, 0, (v) => v));
      const more = (page + 1) * size < queries.length;
      return { MetricDataResults: results, ...(more ? { NextToken: String(page + 1) } : {}) };
    },
  } as unknown as CloudWatchClient;
  return {
    client,
    calls,
    holdCalls: gate.hold,
    releaseCalls: gate.release,
    fail(error: Error) {
      failWith = error;
    },
    recover() {
      failWith = undefined;
    },
  };
}

function validation(message: string): Error {
  return Object.assign(new Error(message), { name: 'ValidationError', $metadata: { httpStatusCode: 400 } });
}

const replica = (i: number, windowMs?: number): LagQuery => ({
  region: 'us-west-2',
  metricName: 'ReplicaLag',
  resourceId: `replica-${i}`,
  ...(windowMs === undefined ? {} : { windowMs }),
});

describe('lag metrics adapter: reads are coalesced', () => {
  it('GIVEN 600 replicas read at once WHEN reading lag THEN two GetMetricData calls (500 and 100 queries) answer each replica its own value', async () => {
    const points = new Map(
      Array.from({ length: 600 }, (_, i) => [`replica-${i}`, [30, i % 7] as [number, number]]),
    );
    const endpoint = cloudWatch(points);
    const lag = createLagMetricsAdapter(() => endpoint.client);

    const readings = await Promise.all(Array.from({ length: 600 }, (_, i) => lag.latestLag(replica(i))));

    expect(endpoint.calls.map((call) => call.ids.length)).toEqual([500, 100]);
    expect(readings.map((reading) => reading?.lagMs)).toEqual(
      Array.from({ length: 600 }, (_, i) => (i % 7) * 1000),
    );
    expect(readings[42]?.source).toBe('ReplicaLag of replica-42 in us-west-2');
  });

  it('GIVEN a call in flight WHEN more reads come THEN they wait and leave together in the next call; a lone read goes at once', async () => {
    const points = new Map(
      Array.from({ length: 40 }, (_, i) => [`replica-${i}`, [30, 2] as [number, number]]),
    );
    const endpoint = cloudWatch(points);
    const lag = createLagMetricsAdapter(() => endpoint.client);

    endpoint.holdCalls();
    const first = lag.latestLag(replica(0));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const later = Array.from({ length: 39 }, (_, i) => lag.latestLag(replica(i + 1)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const whileHeld = endpoint.calls.length;
    endpoint.releaseCalls();
    await Promise.all([first, ...later]);

    expect(whileHeld).toBe(1);
    expect(endpoint.calls.map((call) => call.ids.length)).toEqual([1, 39]);
  });

  it('GIVEN reads with different windows in one call WHEN a datapoint is older than one window THEN that read finds none and the other finds it; the same series twice is asked twice', async () => {
    const endpoint = cloudWatch(new Map([['replica-1', [180, 5] as [number, number]]]));
    const lag = createLagMetricsAdapter(() => endpoint.client);

    const [lastMinute, lastFive, again] = await Promise.all([
      lag.latestLag(replica(1, 60_000)),
      lag.latestLag(replica(1)),
      lag.latestLag(replica(1)),
    ]);

    expect(lastMinute).toBeNull();
    expect(lastFive?.lagMs).toBe(5000);
    expect(again?.lagMs).toBe(5000);
    expect(endpoint.calls).toHaveLength(1);
    expect(endpoint.calls[0]?.resources).toEqual(['replica-1', 'replica-1', 'replica-1']);
  });

  it('GIVEN CloudWatch answers in pages WHEN reading 30 series THEN the pages are followed and every series read', async () => {
    const points = new Map(
      Array.from({ length: 30 }, (_, i) => [`replica-${i}`, [30, 3] as [number, number]]),
    );
    const endpoint = cloudWatch(points, { pageSize: 12 });
    const lag = createLagMetricsAdapter(() => endpoint.client);

    const readings = await Promise.all(Array.from({ length: 30 }, (_, i) => lag.latestLag(replica(i))));

    expect(endpoint.calls).toHaveLength(3);
    expect(readings.every((reading) => reading?.lagMs === 3000)).toBe(true);
  });

  it('GIVEN the call fails WHEN 3 series were read together THEN each read fails naming its own series; the next read goes again', async () => {
    const endpoint = cloudWatch(new Map([['replica-0', [30, 1] as [number, number]]]));
    const lag = createLagMetricsAdapter(() => endpoint.client);
    endpoint.fail(
      Object.assign(new Error('User is not authorized'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );

    const failures = await Promise.all(
      [0, 1, 2].map((i) => lag.latestLag(replica(i)).catch((e: Error) => e)),
    );
    endpoint.recover();
    const after = await lag.latestLag(replica(0));

    expect(failures.map((failure) => (failure as Error).message)).toEqual(
      [0, 1, 2].map((i) =>
        expect.stringContaining(
          `CloudWatch GetMetricData ReplicaLag of replica-${i} in us-west-2 (read with 2 other series)`,
        ),
      ),
    );
    expect(after?.lagMs).toBe(1000);
  });

  it('GIVEN a datapoint whose period began 5 min 30 s ago WHEN read over 5 minutes THEN it counts (its period reaches into the window); one 6 min 30 s old does not', async () => {
    const endpoint = cloudWatch(
      new Map([
        ['replica-1', [330, 4] as [number, number]],
        ['replica-2', [390, 4] as [number, number]],
      ]),
      { startSlackMs: 120_000 },
    );
    const lag = createLagMetricsAdapter(() => endpoint.client);

    const [inWindow, tooOld] = await Promise.all([lag.latestLag(replica(1)), lag.latestLag(replica(2))]);

    expect(inWindow?.lagMs).toBe(4000);
    expect(tooOld).toBeNull();
  });

  it("GIVEN one series' datapoints split over two pages WHEN read THEN the newer one, on the second page, is the reading", async () => {
    const endpoint = cloudWatch(new Map([['replica-1', [30, 7] as [number, number]]]), {
      olderPointPage: true,
    });
    const lag = createLagMetricsAdapter(() => endpoint.client);

    const reading = await lag.latestLag(replica(1));

    expect(endpoint.calls).toHaveLength(2);
    expect(reading?.lagMs).toBe(7000);
  });

  it('GIVEN two activities whose reads share one call held by CloudWatch WHEN they wait THEN each heartbeats while waiting', async () => {
    const points = new Map([1, 2].map((i) => [`replica-${i}`, [30, 1] as [number, number]]));
    const endpoint = cloudWatch(points);
    const lag = createLagMetricsAdapter(() => endpoint.client, { keepAliveMs: 10 });
    endpoint.holdCalls();
    const { opener, joiner, beats, untilBothBeat } = twoActivities();

    const reads = [opener.run(() => lag.latestLag(replica(1))), joiner.run(() => lag.latestLag(replica(2)))];
    await untilBothBeat(2);
    endpoint.releaseCalls();
    await Promise.all(reads);

    expect(endpoint.calls.map((call) => call.resources)).toEqual([['replica-1', 'replica-2']]);
    expect(beats.opener).toBeGreaterThanOrEqual(2);
    expect(beats.joiner).toBeGreaterThanOrEqual(2);
  });
});
