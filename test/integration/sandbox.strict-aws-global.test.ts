import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateGlobalClusterCommand,
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  FailoverDBClusterCommand,
  FailoverGlobalClusterCommand,
  SwitchoverGlobalClusterCommand,
  type GlobalCluster,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import { awsError, eventually, strictAwsFixture } from './sandbox.strict-aws-clients';

/**
 * Aurora Global Database through the strict layer (moto 5.2.1 has CreateGlobalCluster but neither
 * SwitchoverGlobalCluster nor FailoverGlobalCluster). API reference:
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_SwitchoverGlobalCluster.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverGlobalCluster.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverState.html.
 */
let stack: StackInfo;
let aws: ReturnType<typeof strictAwsFixture>;
let west: RDSClient;
let east: RDSClient;

beforeAll(async () => {
  stack = await resetStack({ only: ['aws'] });
  aws = strictAwsFixture(stack);
  west = aws.rds('us-west-2');
  east = aws.rds('us-east-1');
});

afterEach(async () => {
  await aws.control.reset();
});

afterAll(async () => {
  aws.close();
  await resetStack({ only: ['aws'] });
});

async function globalCluster(id = stack.aws.aurora.globalClusterId): Promise<GlobalCluster> {
  const out = await west.send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: id }));
  return out.GlobalClusters![0]!;
}

const writerOf = (g: GlobalCluster) => g.GlobalClusterMembers?.find((m) => m.IsWriter)?.DBClusterArn;

async function clusterWriter(region: string, clusterId: string): Promise<string | undefined> {
  const out = await aws.rds(region).send(new DescribeDBClustersCommand({ DBClusterIdentifier: clusterId }));
  return out.DBClusters![0]!.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;
}

describe('strict AWS layer: the seeded Aurora global database', () => {
  it('GIVEN the seed THEN the us-east-1 cluster writes with its instance and the us-west-2 secondary has a reader and no writer', async () => {
    // A secondary Region "runs a read-only Aurora DB cluster made up entirely of Aurora Replicas" (Aurora User
    // Guide, aurora-global-database-getting-started.html); moto marks the secondary's instance as writer.
    const { primary, secondary } = stack.aws.aurora;

    const g = await globalCluster();

    expect(writerOf(g)).toBe(primary.arn);
    expect(g.GlobalClusterMembers?.map((m) => m.DBClusterArn).sort()).toEqual(
      [primary.arn, secondary.arn].sort(),
    );
    expect(g.FailoverState).toBeUndefined();
    expect(await clusterWriter(primary.region, primary.clusterId)).toBe(primary.writerInstanceId);
    expect(await clusterWriter(secondary.region, secondary.clusterId)).toBeUndefined();
  });
});

describe('strict AWS layer: SwitchoverGlobalCluster and FailoverGlobalCluster', () => {
  it('GIVEN a healthy global database WHEN switching over to the secondary THEN FailoverState goes pending → switching-over → empty and the secondary writes; a second operation meanwhile is refused', async () => {
    await aws.control.update({ globalClusterPhaseMs: 500 });
    const { primary, secondary, globalClusterId } = stack.aws.aurora;

    const started = await west.send(
      new SwitchoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalClusterId,
        TargetDbClusterIdentifier: secondary.arn,
      }),
    );
    const secondOperation = await awsError(
      west.send(
        new FailoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalClusterId,
          TargetDbClusterIdentifier: secondary.arn,
          AllowDataLoss: true,
        }),
      ),
    );
    const clusterFailover = await awsError(
      east.send(new FailoverDBClusterCommand({ DBClusterIdentifier: primary.clusterId })),
    );
    const active = await eventually(globalCluster, (g) => g.FailoverState?.Status !== 'pending');
    const done = await eventually(globalCluster, (g) => g.FailoverState === undefined);

    expect(started.GlobalCluster?.FailoverState).toEqual({
      Status: 'pending',
      FromDbClusterArn: primary.arn,
      ToDbClusterArn: secondary.arn,
      IsDataLossAllowed: false,
    });
    expect(secondOperation).toMatchObject({ code: 'InvalidGlobalClusterStateFault', status: 400 });
    expect(clusterFailover).toMatchObject({ code: 'InvalidDBClusterStateFault', status: 400 });
    expect(active.FailoverState?.Status).toBe('switching-over');
    expect(writerOf(active)).toBe(primary.arn);
    expect(writerOf(done)).toBe(secondary.arn);
    expect(await clusterWriter(secondary.region, secondary.clusterId)).toBe(secondary.readerInstanceId);
    expect(await clusterWriter(primary.region, primary.clusterId)).toBeUndefined();

    // And back, as a planned switchover after the event ("to fall back to the original primary").
    await east.send(
      new SwitchoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalClusterId,
        TargetDbClusterIdentifier: primary.arn,
      }),
    );
    expect(writerOf(await eventually(globalCluster, (g) => g.FailoverState === undefined))).toBe(primary.arn);
  });

  it('GIVEN us-east-1 down WHEN switching over THEN InvalidGlobalClusterStateFault (400); WHEN failing over with AllowDataLoss from us-west-2 THEN the secondary writes', async () => {
    // Switching over is for "a healthy global database cluster"; "Failing over - Use this operation to respond
    // to an unplanned event, such as a Regional disaster in the primary Region" (API_FailoverGlobalCluster).
    // Each phase long enough to be seen by a poll every 50 ms on a loaded machine (at 100 ms, CI saw it skip
    // from pending to done).
    await aws.control.update({ globalClusterPhaseMs: 500 });
    await aws.control.regionDown('us-east-1');
    const { primary, secondary, globalClusterId } = stack.aws.aurora;

    const switchover = await awsError(
      west.send(
        new SwitchoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalClusterId,
          TargetDbClusterIdentifier: secondary.arn,
        }),
      ),
    );
    const started = await west.send(
      new FailoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalClusterId,
        TargetDbClusterIdentifier: secondary.arn,
        AllowDataLoss: true,
      }),
    );
    const active = await eventually(globalCluster, (g) => g.FailoverState?.Status !== 'pending');
    const done = await eventually(globalCluster, (g) => g.FailoverState === undefined);

    expect(switchover).toMatchObject({ code: 'InvalidGlobalClusterStateFault', status: 400 });
    expect(started.GlobalCluster?.FailoverState).toMatchObject({
      Status: 'pending',
      IsDataLossAllowed: true,
    });
    expect(active.FailoverState).toMatchObject({ Status: 'failing-over', FromDbClusterArn: primary.arn });
    expect(writerOf(done)).toBe(secondary.arn);
    expect(await clusterWriter(secondary.region, secondary.clusterId)).toBe(secondary.readerInstanceId);
  });
});

describe('strict AWS layer: global switchover refusals', () => {
  const globalId = 'strict-it-global';
  let arns: { primary: string; mismatched: string; headless: string; standalone: string };

  beforeAll(async () => {
    // A global database of its own: primary (15.4) in us-east-1, a secondary on another engine version in
    // us-west-2, a headless secondary (no instance) in eu-west-1, and a cluster outside it.
    const raw = (region: string) => aws.rawRds(region);
    await raw('us-east-1').send(
      new CreateGlobalClusterCommand({
        GlobalClusterIdentifier: globalId,
        Engine: 'aurora-postgresql',
        EngineVersion: '15.4',
      }),
    );
    const cluster = async (
      region: string,
      id: string,
      version: string,
      global: boolean,
      instance: boolean,
    ) => {
      const out = await raw(region).send(
        new CreateDBClusterCommand({
          DBClusterIdentifier: id,
          Engine: 'aurora-postgresql',
          EngineVersion: version,
          ...(global ? { GlobalClusterIdentifier: globalId } : {}),
          MasterUsername: 'drctl',
          MasterUserPassword: 'password123',
        }),
      );
      if (instance) {
        await raw(region).send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier: `${id}-1`,
            DBClusterIdentifier: id,
            DBInstanceClass: 'db.r6g.large',
            Engine: 'aurora-postgresql',
          }),
        );
      }
      return out.DBCluster!.DBClusterArn!;
    };
    arns = {
      primary: await cluster('us-east-1', 'strict-it-primary', '15.4', true, true),
      mismatched: await cluster('us-west-2', 'strict-it-mismatched', '15.3', true, true),
      headless: await cluster('eu-west-1', 'strict-it-headless', '15.4', true, false),
      standalone: await cluster('us-west-2', 'strict-it-standalone', '15.4', false, true),
    };
  });

  const switchover = (target: string, globalClusterId = globalId) =>
    awsError(
      west.send(
        new SwitchoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalClusterId,
          TargetDbClusterIdentifier: target,
        }),
      ),
    );

  it('GIVEN a secondary on another engine version WHEN switching over to it THEN InvalidDBClusterStateFault (400)', async () => {
    // Switchovers need "the same major, minor, and patch level engine versions" (Aurora User Guide,
    // aurora-global-database-upgrade.html); AWS says "The target cluster … must be using the same engine version
    // as the current primary cluster" (https://repost.aws/knowledge-center/aurora-postgresql-global-mismatch).
    const error = await switchover(arns.mismatched);

    expect(error).toMatchObject({ code: 'InvalidDBClusterStateFault', status: 400 });
    expect(error.message).toContain('must be using the same engine version as the current primary cluster');
    expect(writerOf(await globalCluster(globalId))).toBe(arns.primary);
  });

  it('GIVEN a headless secondary WHEN switching over or failing over to it THEN InvalidDBClusterStateFault (400)', async () => {
    // A headless secondary has no DB instance that could become the writer.
    const planned = await switchover(arns.headless);
    const unplanned = await awsError(
      west.send(
        new FailoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalId,
          TargetDbClusterIdentifier: arns.headless,
          AllowDataLoss: true,
        }),
      ),
    );

    expect(planned).toMatchObject({ code: 'InvalidDBClusterStateFault', status: 400 });
    expect(unplanned).toMatchObject({ code: 'InvalidDBClusterStateFault', status: 400 });
    expect(writerOf(await globalCluster(globalId))).toBe(arns.primary);
  });

  it('GIVEN targets that are not a secondary of the global cluster THEN each is refused with its AWS error', async () => {
    // Errors listed by the API reference: DBClusterNotFoundFault (404), GlobalClusterNotFoundFault (404),
    // InvalidDBClusterStateFault (400); AllowDataLoss together with Switchover is an InvalidParameterCombination.
    expect(await switchover(arns.standalone)).toMatchObject({
      code: 'InvalidDBClusterStateFault',
      status: 400,
    });
    expect(await switchover(arns.primary)).toMatchObject({ code: 'InvalidDBClusterStateFault', status: 400 });
    expect(await switchover('arn:aws:rds:us-west-2:123456789012:cluster:no-such-cluster')).toMatchObject({
      code: 'DBClusterNotFoundFault',
      status: 404,
    });
    expect(await switchover(arns.mismatched, 'no-such-global')).toMatchObject({
      code: 'GlobalClusterNotFoundFault',
      status: 404,
    });
    expect(
      await awsError(
        west.send(
          new FailoverGlobalClusterCommand({
            GlobalClusterIdentifier: globalId,
            TargetDbClusterIdentifier: arns.mismatched,
            AllowDataLoss: true,
            Switchover: true,
          }),
        ),
      ),
    ).toMatchObject({ code: 'InvalidParameterCombination', status: 400 });
    expect(writerOf(await globalCluster(globalId))).toBe(arns.primary);
    expect((await aws.control.stats()).effects.SwitchoverGlobalCluster).toBeUndefined();
  });
});
