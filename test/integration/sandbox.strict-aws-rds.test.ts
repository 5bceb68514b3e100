import {
  AddTagsToResourceCommand,
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  FailoverDBClusterCommand,
  ModifyDBInstanceCommand,
  PromoteReadReplicaCommand,
  RebootDBInstanceCommand,
  RemoveTagsFromResourceCommand,
  StopDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import { awsError, eventually, strictAwsFixture } from './sandbox.strict-aws-clients';

/**
 * RDS instance and Aurora cluster rules of the strict AWS layer, called with the real AWS SDK v3 through the
 * stack's AWS endpoint. Each refusal is checked by its wire code and HTTP status, and by its effect: what was
 * refused did not happen in moto.
 */
let stack: StackInfo;
let aws: ReturnType<typeof strictAwsFixture>;

beforeAll(async () => {
  stack = await resetStack({ only: ['aws'] });
  aws = strictAwsFixture(stack);
});

afterEach(async () => {
  await aws.control.reset();
});

afterAll(async () => {
  aws.close();
  await resetStack({ only: ['aws'] });
});

async function instance(region: string, instanceId: string) {
  const out = await aws
    .rds(region)
    .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }));
  return out.DBInstances![0]!;
}

describe('strict AWS layer: RDS instances', () => {
  it('GIVEN the seeded primary with a cross-region read replica WHEN StopDBInstance THEN InvalidDBInstanceState (400) and the primary keeps running', async () => {
    // "You can't stop a DB instance that has a read replica, or that is a read replica." (Stopping an Amazon
    // RDS DB instance temporarily, Limitations: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html);
    // code and status from https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_StopDBInstance.html.
    await aws.control.rules({ rdsStopWithReadReplicas: true });
    const { primary: p } = stack.aws.rds;

    const error = await awsError(
      aws.rds(p.region).send(new StopDBInstanceCommand({ DBInstanceIdentifier: p.instanceId })),
    );

    expect(error).toMatchObject({ code: 'InvalidDBInstanceState', status: 400 });
    expect(error.message).toContain('because it has read replicas');
    expect((await instance(p.region, p.instanceId)).DBInstanceStatus).toBe('available');
    expect((await aws.control.stats()).operations.StopDBInstance?.refused).toEqual({
      InvalidDBInstanceState: 1,
    });
  });

  it('GIVEN tags RDS refuses (a value over 256 characters, a key over 128, a reserved prefix) WHEN AddTagsToResource THEN InvalidParameterValue (400) and none of the call’s tags is added; a value of 256 is added', async () => {
    // Tag data type: a key of 1 to 128 and a value of up to 256 Unicode characters, not prefixed with aws: or rds:
    // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html). moto accepts any.
    const { primary: p } = stack.aws.rds;
    const arn = (await instance(p.region, p.instanceId)).DBInstanceArn;
    const addTags = (tags: { Key: string; Value: string }[]) =>
      aws.rds(p.region).send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: tags }));
    const tagKeys = async () =>
      ((await instance(p.region, p.instanceId)).TagList ?? []).map((tag) => tag.Key);

    const tooLong = await awsError(
      addTags([
        { Key: 'drctl:probe-ok', Value: 'fine' },
        { Key: 'drctl:probe-long', Value: 'v'.repeat(257) },
      ]),
    );
    const longKey = await awsError(addTags([{ Key: 'k'.repeat(129), Value: 'x' }]));
    const reserved = await awsError(addTags([{ Key: 'rds:probe', Value: 'x' }]));
    await addTags([{ Key: 'drctl:probe-256', Value: 'v'.repeat(256) }]);

    for (const error of [tooLong, longKey, reserved])
      expect(error).toMatchObject({ code: 'InvalidParameterValue', status: 400 });
    expect(tooLong.message).toContain('at most 256 characters, not 257');
    const keys = await tagKeys();
    expect(keys).toContain('drctl:probe-256');
    expect(keys).not.toContain('drctl:probe-ok');
    expect(keys).not.toContain('drctl:probe-long');
  });

  it('GIVEN an instance carrying 49 tags WHEN AddTagsToResource adds two THEN InvalidParameterValue (400) and neither is added; one more, or a key it already carries, is added', async () => {
    // "Each Amazon RDS resource can have up to 50 tags" (Tagging Amazon RDS resources,
    // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html). moto adds any number.
    const { primary: p } = stack.aws.rds;
    const arn = (await instance(p.region, p.instanceId)).DBInstanceArn;
    const addTags = (tags: { Key: string; Value: string }[]) =>
      aws.rds(p.region).send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: tags }));
    const tagKeys = async () =>
      ((await instance(p.region, p.instanceId)).TagList ?? []).map((tag) => tag.Key ?? '');
    const carried = (await tagKeys()).length;
    const fillers = Array.from({ length: 49 - carried }, (_, i) => ({
      Key: `drctl:filler-${i}`,
      Value: 'x',
    }));
    await addTags(fillers);

    try {
      const refused = await awsError(
        addTags([
          { Key: 'drctl:probe-50', Value: 'x' },
          { Key: 'drctl:probe-51', Value: 'x' },
        ]),
      );
      expect(refused).toMatchObject({ code: 'InvalidParameterValue', status: 400 });
      expect(refused.message).toContain('at most 50');
      expect(await tagKeys()).toHaveLength(49);

      await addTags([{ Key: 'drctl:probe-50', Value: 'x' }]);
      await addTags([{ Key: 'drctl:probe-50', Value: 'replaced' }]);
      expect(await tagKeys()).toHaveLength(50);
    } finally {
      await aws.rds(p.region).send(
        new RemoveTagsFromResourceCommand({
          ResourceName: arn,
          TagKeys: [...fillers.map((tag) => tag.Key), 'drctl:probe-50'],
        }),
      );
    }
  });

  it('GIVEN the read replica WHEN StopDBInstance on it THEN InvalidDBInstanceState (400), the code moto gets wrong', async () => {
    // Same limitation ("or that is a read replica"); moto answers InvalidDBClusterStateFault.
    const { replica: r } = stack.aws.rds;

    const error = await awsError(
      aws.rds(r.region).send(new StopDBInstanceCommand({ DBInstanceIdentifier: r.instanceId })),
    );

    expect(error).toMatchObject({ code: 'InvalidDBInstanceState', status: 400 });
    expect((await instance(r.region, r.instanceId)).DBInstanceStatus).toBe('available');
  });

  it('GIVEN an instance rebooting WHEN rebooted or modified again THEN InvalidDBInstanceState (400) until its reboot ends, and it shows rebooting meanwhile', async () => {
    // "The DB instance status is set to rebooting" (Rebooting a DB instance); RebootDBInstance and ModifyDBInstance
    // answer InvalidDBInstanceState (400) to an instance not in a valid state (their API references). moto
    // reboots at once and accepts both.
    await aws.control.update({ rdsRebootMs: 1_000 });
    const { primary: p } = stack.aws.rds;
    const rds = aws.rds(p.region);

    const rebooted = await rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: p.instanceId }));
    const again = await awsError(
      rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: p.instanceId })),
    );
    const modified = await awsError(
      rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: p.instanceId,
          BackupRetentionPeriod: 3,
          ApplyImmediately: true,
        }),
      ),
    );
    const during = (await instance(p.region, p.instanceId)).DBInstanceStatus;

    expect(rebooted.DBInstance?.DBInstanceStatus).toBe('rebooting');
    expect(again).toMatchObject({ code: 'InvalidDBInstanceState', status: 400 });
    expect(modified).toMatchObject({ code: 'InvalidDBInstanceState', status: 400 });
    expect(during).toBe('rebooting');
    expect((await instance(p.region, p.instanceId)).BackupRetentionPeriod).not.toBe(3);
    await eventually(
      async () => (await instance(p.region, p.instanceId)).DBInstanceStatus,
      (status) => status === 'available',
    );
    await rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: p.instanceId }));
    expect((await aws.control.stats()).effects.RebootDBInstance).toBe(2);
  });

  it('GIVEN a modification applied immediately WHEN rebooted or modified again at once THEN InvalidDBInstanceState (400) while it shows modifying, RDS’s answer included; once available, both go ahead', async () => {
    // ModifyDBInstance with ApplyImmediately "is asynchronously applied as soon as possible"; the instance shows
    // `modifying` meanwhile (Viewing instance status), and RebootDBInstance answers InvalidDBInstanceState to an
    // instance not in the available state. moto applies a modification at once and stays available.
    const { primary: p } = stack.aws.rds;
    const rds = aws.rds(p.region);
    // Whatever an earlier test left it doing (a reboot) ends first.
    await eventually(
      async () => (await instance(p.region, p.instanceId)).DBInstanceStatus,
      (status) => status === 'available',
    );
    await aws.control.update({ rdsModifyMs: 1_000 });
    const modify = (days: number) =>
      rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: p.instanceId,
          BackupRetentionPeriod: days,
          ApplyImmediately: true,
        }),
      );

    const answer = await modify(4);
    const reboot = await awsError(
      rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: p.instanceId })),
    );
    const again = await awsError(modify(5));
    const during = (await instance(p.region, p.instanceId)).DBInstanceStatus;

    expect(answer.DBInstance?.DBInstanceStatus).toBe('modifying');
    expect(reboot).toMatchObject({ code: 'InvalidDBInstanceState', status: 400 });
    expect(reboot.message).toContain('it is modifying');
    expect(again).toMatchObject({ code: 'InvalidDBInstanceState', status: 400 });
    expect(during).toBe('modifying');
    expect((await instance(p.region, p.instanceId)).BackupRetentionPeriod).toBe(4);
    await eventually(
      async () => (await instance(p.region, p.instanceId)).DBInstanceStatus,
      (status) => status === 'available',
    );
    await aws.control.update({ rdsModifyMs: 0, rdsRebootMs: 0 });
    await modify(1);
    await rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: p.instanceId }));
    expect((await instance(p.region, p.instanceId)).BackupRetentionPeriod).toBe(1);
    expect((await aws.control.stats()).effects.RebootDBInstance).toBe(1);
  });

  it('GIVEN an instance that is not a read replica WHEN PromoteReadReplica THEN InvalidDBInstanceState (400) and nothing changes', async () => {
    // DBInstanceIdentifier "Must match the identifier of an existing read replica DB instance"; errors
    // DBInstanceNotFound (404) and InvalidDBInstanceState (400):
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PromoteReadReplica.html. moto accepts it.
    const { primary: p } = stack.aws.rds;

    const error = await awsError(
      aws.rds(p.region).send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: p.instanceId })),
    );

    expect(error).toMatchObject({ code: 'InvalidDBInstanceState', status: 400 });
    expect(error.message).toBe('DB Instance is not a read replica.');
    expect((await instance(p.region, p.instanceId)).ReadReplicaDBInstanceIdentifiers).toHaveLength(1);
  });

  it('GIVEN the read replica WHEN promoted THEN it and its source no longer show the replication, a second promotion is refused, and the old primary may stop', async () => {
    // After promotion the instance is standalone (API_PromoteReadReplica: "Promotes a read replica DB instance to
    // a standalone DB instance"), so it is no longer a read replica to promote, and its former source has no read
    // replica left that would forbid a stop. moto keeps both links; the layer shows them as AWS does.
    await aws.control.rules({ rdsStopWithReadReplicas: true });
    const { primary: p, replica: r } = stack.aws.rds;

    await aws.rds(r.region).send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: r.instanceId }));
    const second = await awsError(
      aws.rds(r.region).send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: r.instanceId })),
    );
    const promoted = await instance(r.region, r.instanceId);
    const source = await instance(p.region, p.instanceId);
    await aws.rds(p.region).send(new StopDBInstanceCommand({ DBInstanceIdentifier: p.instanceId }));

    expect(promoted.ReadReplicaSourceDBInstanceIdentifier).toBeUndefined();
    expect(source.ReadReplicaDBInstanceIdentifiers ?? []).toEqual([]);
    expect(second).toMatchObject({ code: 'InvalidDBInstanceState', status: 400 });
    expect((await instance(p.region, p.instanceId)).DBInstanceStatus).toBe('stopped');
    expect((await aws.control.stats()).effects).toMatchObject({ PromoteReadReplica: 1, StopDBInstance: 1 });
  });
});

describe('strict AWS layer: Aurora FailoverDBCluster', () => {
  const clusterId = 'strict-it-aurora';

  beforeAll(async () => {
    const client = aws.rawRds('us-east-1');
    await client.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: clusterId,
        Engine: 'aurora-postgresql',
        MasterUsername: 'drctl',
        MasterUserPassword: 'password123',
      }),
    );
    for (const id of [`${clusterId}-1`, `${clusterId}-2`]) {
      await client.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: id,
          DBClusterIdentifier: clusterId,
          DBInstanceClass: 'db.r6g.large',
          Engine: 'aurora-postgresql',
        }),
      );
    }
  });

  it('GIVEN a failover in progress WHEN FailoverDBCluster again THEN InvalidDBClusterStateFault (400), and the cluster shows failing-over until the target writes', async () => {
    // A failover takes time; meanwhile the cluster is not available and "The requested operation can't be
    // performed while the cluster is in this state" (InvalidDBClusterStateFault, 400:
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverDBCluster.html). moto fails over at
    // once, so the layer holds `failing-over` (old writer still the writer) for clusterFailoverMs.
    await aws.control.update({ clusterFailoverMs: 1_000 });
    const rds = aws.rds('us-east-1');
    const describe = async () =>
      (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: clusterId }))).DBClusters![0]!;
    const writer = (c: Awaited<ReturnType<typeof describe>>) =>
      c.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;

    await rds.send(
      new FailoverDBClusterCommand({
        DBClusterIdentifier: clusterId,
        TargetDBInstanceIdentifier: `${clusterId}-2`,
      }),
    );
    const during = await describe();
    const again = await awsError(
      rds.send(
        new FailoverDBClusterCommand({
          DBClusterIdentifier: clusterId,
          TargetDBInstanceIdentifier: `${clusterId}-2`,
        }),
      ),
    );
    const after = await eventually(describe, (c) => c.Status === 'available');

    expect(during.Status).toBe('failing-over');
    expect(writer(during)).toBe(`${clusterId}-1`);
    expect(again).toMatchObject({ code: 'InvalidDBClusterStateFault', status: 400 });
    expect(writer(after)).toBe(`${clusterId}-2`);
  });
});
