import type { StrictCall } from '../../sandbox/strict-aws/strict-call';
import { LagMetrics } from '../../sandbox/strict-aws/lag-metrics';

/**
 * The strict AWS layer moves a lag read's StartTime up to the series' last change. moto compares whole seconds and
 * refuses StartTime equal to EndTime ("The parameter StartTime must not equal parameter EndTime"), so a read made
 * within the change's first second must still leave EndTime after StartTime.
 */
const series = {
  metricName: 'AuroraGlobalDBRPOLag',
  resourceId: 'ehr-global-west',
  region: 'us-west-2',
} as const;

function readCall(startMs: number, endMs: number, asNumbers: boolean): StrictCall {
  const time = (ms: number) => (asNumbers ? ms / 1000 : new Date(ms).toISOString());
  const body = {
    StartTime: time(startMs),
    EndTime: time(endMs),
    MetricDataQueries: [
      {
        Id: 'lag',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/RDS',
            MetricName: series.metricName,
            Dimensions: [{ Name: 'DBClusterIdentifier', Value: series.resourceId }],
          },
        },
      },
    ],
  };
  return {
    info: {} as StrictCall['info'],
    region: series.region,
    protocol: 'json',
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

  test('made within the change second ends after the moved StartTime, in whole seconds', () => {
    const window = forwardedWindow(lag, readCall(since - 300_000, since + 400, asNumbers));
    expect(window.start).toBe(since);
    expect(Math.floor(window.end / 1000)).toBeGreaterThan(Math.floor(window.start / 1000));
  });

  test('made later keeps its own EndTime', () => {
    const window = forwardedWindow(lag, readCall(since - 300_000, since + 5_000, asNumbers));
    expect(window).toEqual({ start: since, end: since + 5_000 });
  });
});
