import type { StrictCall } from '../../sandbox/strict-aws/strict-call';
import { LagMetrics } from '../../sandbox/strict-aws/lag-metrics';

/**
 * The strict AWS layer shows a lag series as if it had held its value since its last change: a GetMetricStatistics
 * read's StartTime moves up to the change; a GetMetricData read (whose queries share one StartTime) goes as asked
 * and each query's answer is rewritten. moto compares whole seconds and refuses StartTime equal to EndTime ("The
 * parameter StartTime must not equal parameter EndTime"), so a read made within the change's first second must
 * still end after the change's second.
 */
const series = {
  metricName: 'AuroraGlobalDBRPOLag',
  resourceId: 'ehr-global-west',
  region: 'us-west-2',
} as const;

const metric = {
  Namespace: 'AWS/RDS',
  MetricName: series.metricName,
  Dimensions: [{ Name: 'DBClusterIdentifier', Value: series.resourceId }],
};

function readCall(
  startMs: number,
  endMs: number,
  asNumbers: boolean,
  api: 'GetMetricData' | 'GetMetricStatistics' = 'GetMetricData',
): StrictCall {
  const time = (ms: number) => (asNumbers ? ms / 1000 : new Date(ms).toISOString());
  const body = {
    StartTime: time(startMs),
    EndTime: time(endMs),
    ...(api === 'GetMetricData'
      ? { MetricDataQueries: [{ Id: 'lag', MetricStat: { Metric: metric, Period: 60 } }] }
      : { ...metric, Period: 60, Statistics: ['Maximum'] }),
  };
  return {
    info: {} as StrictCall['info'],
    region: series.region,
    protocol: 'json',
    headers: {},
    body: Buffer.from(JSON.stringify(body)),
    params: new URLSearchParams(),
    now: endMs,
  };
}

function forwardedWindow(lag: LagMetrics, call: StrictCall): { start: number; end: number } {
  const outcome = lag.clampRead(call);
  if (outcome?.kind !== 'forward') throw new Error(`expected the read to be forwarded, got ${outcome?.kind}`);
  const request = JSON.parse(outcome.body!.toString('utf8')) as {
    StartTime: number | string;
    EndTime: number | string;
  };
  const ms = (value: number | string) => (typeof value === 'number' ? value * 1000 : Date.parse(value));
  return { start: ms(request.StartTime), end: ms(request.EndTime) };
}

describe.each([true, false])('a lag read (times as numbers: %s)', (asNumbers) => {
  let lag: LagMetrics;
  let since: number;

  beforeEach(async () => {
    lag = new LagMetrics('http://127.0.0.1:9', () => undefined);
    // null: nothing is published (no moto needed); the series' change second is still recorded.
    await lag.set(series, null);
    since = lag.list()[0]!.since;
  });

  afterEach(() => lag.close());

  test('GetMetricStatistics made within the change second ends after the moved StartTime, in whole seconds', () => {
    const window = forwardedWindow(
      lag,
      readCall(since - 300_000, since + 400, asNumbers, 'GetMetricStatistics'),
    );
    expect(window.start).toBe(since);
    expect(Math.floor(window.end / 1000)).toBeGreaterThan(Math.floor(window.start / 1000));
  });

  test('GetMetricStatistics made later keeps its own EndTime', () => {
    const window = forwardedWindow(
      lag,
      readCall(since - 300_000, since + 5_000, asNumbers, 'GetMetricStatistics'),
    );
    expect(window).toEqual({ start: since, end: since + 5_000 });
  });

  test('GetMetricData keeps its StartTime; made within the change second it ends after that second', () => {
    const window = forwardedWindow(lag, readCall(since - 300_000, since + 400, asNumbers));
    expect(window.start).toBe(since - 300_000);
    expect(Math.floor(window.end / 1000)).toBeGreaterThan(Math.floor(since / 1000));
  });
});

describe('a GetMetricData answer for series the layer controls', () => {
  const other = { metricName: 'ReplicaLag', resourceId: 'other-replica', region: series.region } as const;
  let lag: LagMetrics;

  beforeEach(() => {
    lag = new LagMetrics('http://127.0.0.1:9', () => undefined);
  });

  afterEach(() => lag.close());

  /** The layer's rewrite of moto's answer `results` to a read of `series` (q0) and `other` (q1) ending now. */
  async function answered(results: Array<{ Id: string; Timestamps: number[]; Values: number[] }>) {
    const body = {
      StartTime: Date.now() / 1000 - 600,
      EndTime: Date.now() / 1000 + 5,
      MetricDataQueries: [
        { Id: 'q0', MetricStat: { Metric: metric, Period: 60, Stat: 'Maximum' } },
        {
          Id: 'q1',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/RDS',
              MetricName: other.metricName,
              Dimensions: [{ Name: 'DBInstanceIdentifier', Value: other.resourceId }],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        },
      ],
    };
    const outcome = lag.clampRead({ ...readCall(0, 0, true), body: Buffer.from(JSON.stringify(body)) });
    if (outcome?.kind !== 'forward' || outcome.rewrite === undefined) throw new Error('expected a rewrite');
    return (
      JSON.parse(await outcome.rewrite(JSON.stringify({ MetricDataResults: results }))) as {
        MetricDataResults: Array<{ Id: string; Timestamps: number[]; Values: number[] }>;
      }
    ).MetricDataResults;
  }

  test('GIVEN a series changed to 7 and another stopped WHEN read together THEN periods ending before the change are dropped, the others carry 7, the stopped one has none', async () => {
    await Promise.all([lag.set(series, 7), lag.set(other, null)]);
    const since = lag.list().find((s) => s.resourceId === series.resourceId)!.since / 1000;

    const results = await answered([
      { Id: 'q0', Timestamps: [since - 30, since - 61, since - 200], Values: [40, 40, 40] },
      { Id: 'q1', Timestamps: [since - 30], Values: [12] },
    ]);

    expect(results).toEqual([
      { Id: 'q0', Timestamps: [since - 30], Values: [7] },
      { Id: 'q1', Timestamps: [], Values: [] },
    ]);
  });
});
