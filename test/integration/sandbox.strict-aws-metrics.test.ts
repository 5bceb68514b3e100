import {
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  type CloudWatchClient,
} from '@aws-sdk/client-cloudwatch';
import type { LagSeries } from '../../sandbox/strict-aws-client';
import { getStack } from './stack';
import { eventually, strictAwsFixture } from './sandbox.strict-aws-clients';

/**
 * The lag metrics the sandbox publishes to moto's CloudWatch, read back through the strict layer with the real
 * SDK the way a lag check would: GetMetricData and GetMetricStatistics, namespace AWS/RDS, over recent minutes.
 * Metric names, units and dimensions: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html
 * (ReplicaLag, seconds) and https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html
 * (AuroraReplicaLag, AuroraGlobalDBRPOLag, milliseconds).
 */
const stack = getStack();
const aws = strictAwsFixture(stack);

afterEach(async () => {
  await aws.control.reset();
});

afterAll(() => aws.close());

const seeded = (metricName: LagSeries['metricName'], resourceId: string) => {
  const entry = stack.aws.lagMetrics.find(
    (e) => e.series.metricName === metricName && e.series.resourceId === resourceId,
  );
  if (!entry) throw new Error(`no seeded ${metricName} for ${resourceId} in stack.json`);
  return entry;
};

const dimensionName = (series: LagSeries) =>
  series.metricName === 'ReplicaLag' ? 'DBInstanceIdentifier' : 'DBClusterIdentifier';

/** A GetMetricData query of `series`: its Maximum per minute. */
const lagQuery = (id: string, series: LagSeries) => ({
  Id: id,
  MetricStat: {
    Metric: {
      Namespace: 'AWS/RDS',
      MetricName: series.metricName,
      Dimensions: [{ Name: dimensionName(series), Value: series.resourceId }],
    },
    Period: 60,
    Stat: 'Maximum' as const,
  },
});

/** The newest value of the last 5 minutes at a 60 s period, Maximum; undefined when there is no datapoint. */
async function readLag(cloudwatch: CloudWatchClient, series: LagSeries): Promise<number | undefined> {
  const now = Date.now();
  const out = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now - 5 * 60_000),
      EndTime: new Date(now + 60_000),
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [lagQuery('lag', series)],
    }),
  );
  return out.MetricDataResults?.[0]?.Values?.[0];
}

async function statistics(cloudwatch: CloudWatchClient, series: LagSeries) {
  const now = Date.now();
  const out = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/RDS',
      MetricName: series.metricName,
      Dimensions: [{ Name: dimensionName(series), Value: series.resourceId }],
      StartTime: new Date(now - 5 * 60_000),
      EndTime: new Date(now + 60_000),
      Period: 300,
      Statistics: ['Maximum'],
    }),
  );
  return out.Datapoints ?? [];
}

describe('strict AWS layer: replication lag metrics', () => {
  it('GIVEN the seed THEN ReplicaLag of the RDS replica and AuroraGlobalDBRPOLag of the Aurora secondary read back with their seeded values', async () => {
    const replicaLag = seeded('ReplicaLag', stack.aws.rds.replica.instanceId);
    const rpoLag = seeded('AuroraGlobalDBRPOLag', stack.aws.aurora.secondary.clusterId);
    const auroraLag = seeded('AuroraReplicaLag', stack.aws.aurora.primary.clusterId);

    expect(await readLag(aws.cloudwatch(replicaLag.series.region), replicaLag.series)).toBe(replicaLag.value);
    expect(await readLag(aws.cloudwatch(rpoLag.series.region), rpoLag.series)).toBe(rpoLag.value);
    expect(await readLag(aws.cloudwatch(auroraLag.series.region), auroraLag.series)).toBe(auroraLag.value);
  });

  it('GIVEN a test sets the lag high and then low THEN both reads give the value last set, not the maximum of the minute', async () => {
    const { series } = seeded('ReplicaLag', stack.aws.rds.replica.instanceId);
    const cloudwatch = aws.cloudwatch(series.region);

    await aws.control.setLag(series, 600);
    const high = await readLag(cloudwatch, series);
    await aws.control.setLag(series, 3);
    const low = await readLag(cloudwatch, series);
    const stats = await statistics(cloudwatch, series);

    expect(high).toBe(600);
    expect(low).toBe(3);
    expect(stats.map((d) => d.Maximum)).toEqual([3]);
  });

  it("GIVEN two series changed a few seconds apart WHEN one GetMetricData reads both THEN each reads its own value (the newer change hides only its own series' older datapoints)", async () => {
    const region = 'eu-west-3';
    const older = { metricName: 'ReplicaLag' as const, resourceId: `two-series-${process.pid}-a`, region };
    const newer = { metricName: 'ReplicaLag' as const, resourceId: `two-series-${process.pid}-b`, region };
    await aws.control.setLag(older, 4);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await aws.control.setLag(newer, 30);
    const now = Date.now();

    const out = await aws.cloudwatch(region).send(
      new GetMetricDataCommand({
        StartTime: new Date(now - 5 * 60_000),
        EndTime: new Date(now),
        ScanBy: 'TimestampDescending',
        MetricDataQueries: [lagQuery('q0', older), lagQuery('q1', newer)],
      }),
    );

    const valueOf = (id: string) => out.MetricDataResults?.find((r) => r.Id === id)?.Values?.[0];
    expect(valueOf('q0')).toBe(4);
    expect(valueOf('q1')).toBe(30);
  });

  it('GIVEN publishing stopped THEN GetMetricData and GetMetricStatistics find no datapoints; after reset the seeded value is back', async () => {
    const { series, value } = seeded('AuroraGlobalDBRPOLag', stack.aws.aurora.secondary.clusterId);
    const cloudwatch = aws.cloudwatch(series.region);

    await aws.control.stopLag(series);
    const absent = await readLag(cloudwatch, series);
    const absentStats = await statistics(cloudwatch, series);
    await aws.control.reset();
    const restored = await eventually(
      () => readLag(cloudwatch, series),
      (v) => v !== undefined,
    );

    expect(absent).toBeUndefined();
    expect(absentStats).toEqual([]);
    expect(restored).toBe(value);
  });

  it('GIVEN 100 replicas whose lag the layer controls THEN its periodic republishing reaches moto with each value (rounds larger than the SDK compresses)', async () => {
    const tag = Date.now().toString(36);
    const region = 'us-west-2';
    const replicas = Array.from({ length: 100 }, (_, i) => ({
      metricName: 'ReplicaLag' as const,
      resourceId: `republish-${tag}-${i}`,
      region,
    }));
    await Promise.all(replicas.map((series, i) => aws.control.setLag(series, i % 5)));
    await aws.control.update({ lagPublishIntervalMs: 250 });
    const setAt = Date.now();

    // moto itself, not through the layer (which answers a controlled series from its own state): only datapoints a
    // republish stamped after the sets can be in this window.
    const moto = aws.rawCloudwatch(region);
    const republished = async (series: LagSeries) => {
      const out = await moto.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/RDS',
          MetricName: series.metricName,
          Dimensions: [{ Name: 'DBInstanceIdentifier', Value: series.resourceId }],
          StartTime: new Date(setAt + 1_000),
          EndTime: new Date(Date.now() + 1_000),
          Period: 1,
          Statistics: ['Maximum'],
        }),
      );
      return out.Datapoints ?? [];
    };
    await new Promise((elapsed) => setTimeout(elapsed, 2_500));
    const first = await republished(replicas[0] as LagSeries);
    const last = await republished(replicas[99] as LagSeries);

    expect(first.length).toBeGreaterThan(0);
    expect(first.every((d) => d.Maximum === 0)).toBe(true);
    expect(last.length).toBeGreaterThan(0);
    expect(last.every((d) => d.Maximum === 4)).toBe(true);
  });
});
