import { GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { GetHostedZoneCommand, ListHostedZonesCommand } from '@aws-sdk/client-route-53';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { getStack } from './stack';
import { awsError, strictAwsFixture } from './sandbox.strict-aws-clients';

/**
 * Throttling, whole-region outages and the control API of the strict layer, through the real SDK. These tests
 * change only the layer's settings (reset after each), never the seeded estate.
 */
const stack = getStack();
const aws = strictAwsFixture(stack);

afterEach(async () => {
  await aws.control.reset();
});

afterAll(() => aws.close());

describe('strict AWS layer: token-bucket throttling', () => {
  it('GIVEN RDS throttling at burst 3 WHEN a fourth call comes at once THEN ThrottlingException (400), retried by the SDK as throttling; another region has its own bucket', async () => {
    // RDS throttles "for each AWS account in each AWS Region" with "ThrottlingException … Rate exceeded"; by
    // default "up to 300 requests in a burst and a sustained 12 requests per second"
    // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html). A tiny refill keeps the
    // bucket empty for the test.
    await aws.control.throttling({ enabled: true, rds: { burst: 3, perSecond: 0.001 } });
    const east = aws.rds('us-east-1', 3);
    const describe = () => east.send(new DescribeDBInstancesCommand({}));

    await describe();
    await describe();
    await describe();
    const throttled = await awsError(describe());
    await aws.rds('us-west-2').send(new DescribeDBInstancesCommand({}));

    expect(throttled).toMatchObject({ code: 'ThrottlingException', status: 400, attempts: 3 });
    expect(throttled.message).toBe('Rate exceeded');
    expect((await aws.control.stats()).operations.DescribeDBInstances).toMatchObject({
      calls: 7,
      throttled: 3,
    });
  });

  it('GIVEN Route 53 throttling WHEN one operation empties its own bucket THEN it gets Throttling (400) while other operations still pass the account bucket', async () => {
    // Route 53: an account bucket (burst 50, refill 10/s) and one bucket per operation; "Requests consume tokens
    // from both buckets and are throttled if either bucket is empty"; HTTP 400, Code Throttling, "Rate exceeded"
    // (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html).
    await aws.control.update({
      throttling: { enabled: true, route53Operations: { GetHostedZone: { burst: 2, perSecond: 0.001 } } },
    });
    const route53 = aws.route53(3);
    const getZone = () => route53.send(new GetHostedZoneCommand({ Id: stack.aws.route53.zoneId }));

    await getZone();
    await getZone();
    const throttled = await awsError(getZone());
    const listed = await route53.send(new ListHostedZonesCommand({}));

    expect(throttled).toMatchObject({ code: 'Throttling', status: 400, attempts: 3 });
    expect(listed.HostedZones?.some((z) => z.Name === stack.aws.route53.zoneName)).toBe(true);
  });

  it('GIVEN CloudWatch GetMetricData throttling at burst 2 WHEN a third read comes at once THEN Throttling (400); other CloudWatch APIs pass, and another region has its own bucket', async () => {
    // GetMetricData: "50 transactions per second (TPS). The maximum number of operation requests you can make per
    // second without being throttled", per Region
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html).
    await aws.control.throttling({ enabled: true, cloudwatchGetMetricData: { burst: 2, perSecond: 0.001 } });
    const east = aws.cloudwatch('us-east-1');
    const read = (client = east) =>
      client.send(
        new GetMetricDataCommand({
          StartTime: new Date(Date.now() - 5 * 60_000),
          EndTime: new Date(),
          MetricDataQueries: [
            {
              Id: 'lag',
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/RDS',
                  MetricName: 'ReplicaLag',
                  Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'any-replica' }],
                },
                Period: 60,
                Stat: 'Maximum',
              },
            },
          ],
        }),
      );

    await read();
    await read();
    const throttled = await awsError(read());
    await east.send(new ListMetricsCommand({ Namespace: 'AWS/RDS' }));
    await read(aws.cloudwatch('us-west-2'));

    expect(throttled).toMatchObject({ code: 'Throttling', status: 400 });
    expect(throttled.message).toBe('Rate exceeded');
    expect((await aws.control.stats()).operations.GetMetricData?.throttled).toBeGreaterThanOrEqual(1);
  });

  it('GIVEN the Route 53 account bucket at the older 5 requests/s WHEN six calls of different operations come at once THEN the sixth is throttled', async () => {
    // Older accounts and documentation: "Five requests per second per AWS account" (same page, before the update).
    await aws.control.throttling({ enabled: true, route53: { burst: 5, perSecond: 0.001 } });
    const route53 = aws.route53();

    for (let i = 0; i < 3; i++) await route53.send(new ListHostedZonesCommand({}));
    for (let i = 0; i < 2; i++)
      await route53.send(new GetHostedZoneCommand({ Id: stack.aws.route53.zoneId }));
    const throttled = await awsError(route53.send(new ListHostedZonesCommand({})));

    expect(throttled).toMatchObject({ code: 'Throttling', status: 400 });
  });
});

describe('strict AWS layer: a whole region down', () => {
  it('GIVEN us-east-1 down (connections reset) THEN its RDS, S3 and CloudWatch fail to connect, us-west-2 answers, and Route 53 (its own control-plane switch) still answers', async () => {
    await aws.control.regionDown('us-east-1', 'reset');

    const rds = await awsError(aws.rds('us-east-1').send(new DescribeDBInstancesCommand({})));
    const s3 = await awsError(
      aws.s3(stack.aws.s3.region).send(new HeadBucketCommand({ Bucket: stack.aws.s3.bucket })),
    );
    const metrics = await awsError(aws.cloudwatch('us-east-1').send(new ListMetricsCommand({})));
    const west = await aws.rds('us-west-2').send(new DescribeDBInstancesCommand({}));
    const zones = await aws.route53().send(new ListHostedZonesCommand({}));

    for (const failure of [rds, s3, metrics]) expect(failure.connectionReset).toBe(true);
    expect(west.DBInstances?.map((i) => i.DBInstanceIdentifier)).toContain(stack.aws.rds.replica.instanceId);
    expect(zones.HostedZones?.length).toBeGreaterThan(0);
    expect((await aws.control.stats()).totals.unavailable).toBe(3);
  });

  it('GIVEN us-east-1 down in 5xx mode THEN RDS answers ServiceUnavailable (503); GIVEN hang mode THEN the call is held, then reset', async () => {
    await aws.control.regionDown('us-east-1', '5xx');
    const unavailable = await awsError(aws.rds('us-east-1').send(new DescribeDBInstancesCommand({})));

    await aws.control.update({ outage: { mode: 'hang', hangMs: 300 } });
    const started = Date.now();
    const hung = await awsError(aws.rds('us-east-1').send(new DescribeDBInstancesCommand({})));
    const heldMs = Date.now() - started;

    expect(unavailable).toMatchObject({ code: 'ServiceUnavailable', status: 503 });
    expect(hung.connectionReset).toBe(true);
    expect(heldMs).toBeGreaterThanOrEqual(290);
  });

  it('GIVEN the Route 53 control plane down THEN every Route 53 call fails while every region answers; up again THEN Route 53 answers', async () => {
    await aws.control.route53ControlPlane('down');

    const down = await awsError(aws.route53().send(new ListHostedZonesCommand({})));
    const east = await aws.rds('us-east-1').send(new DescribeDBInstancesCommand({}));
    await aws.control.route53ControlPlane('up');
    const zones = await aws.route53().send(new ListHostedZonesCommand({}));

    expect(down.connectionReset).toBe(true);
    expect(east.DBInstances?.length).toBeGreaterThan(0);
    expect(zones.HostedZones?.length).toBeGreaterThan(0);
  });
});

describe('strict AWS layer: control API', () => {
  it('GIVEN bad settings THEN HTTP 400 names the field and nothing changes; reset restores the strict defaults', async () => {
    const before = await aws.control.settings();

    const negative = await aws.control.update({ route53PropagationMs: -1 }).catch((error: Error) => error);
    const unknown = await aws.control
      .update({ outage: { regionsDown: ['mars-1'] } })
      .catch((error: Error) => error);
    const afterRefusals = await aws.control.settings();
    await aws.control.update({ rules: { rdsPromoteNonReplica: false }, throttling: { enabled: true } });
    const reset = await aws.control.reset();

    expect(negative).toBeInstanceOf(Error);
    expect((negative as Error).message).toMatch(/HTTP 400: route53PropagationMs: /);
    expect((unknown as Error).message).toMatch(/HTTP 400: outage\.regionsDown\.0: .*us-east-1/);
    expect(afterRefusals).toEqual(before);
    expect(reset).toEqual(before);
    expect(reset.rules).toEqual({
      rdsStopWithReadReplicas: true,
      rdsPromoteNonReplica: true,
      route53PriorRequestNotComplete: true,
      route53BatchLimits: true,
      route53ChangePreconditions: true,
      rdsTagConstraints: true,
      s3KmsKeyExists: true,
    });
  });
});
