import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import {
  AddTagsToResourceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-rds';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { StepOutcome } from '../../activities/contracts';
import type { FenceUndo } from '../../kinds/database-fence/definition';
import { resetStack } from '../../sandbox/stack';
import { strictAwsControl } from '../../sandbox/strict-aws-client';
import { realDatabaseFixture } from './database-fixture';
import { eventually } from './sandbox.strict-aws-clients';
import { getStack } from './stack';

const stack = getStack();
const { activities, portal, rdsClient, ec2Client, close } = realDatabaseFixture(stack);
const aws = strictAwsControl(stack.moto.controlUrl);
const { primary } = stack.aws.rds;
/** The deny-all group as the reset reseeded it (moto gives it a new id each time). */
let fenceSecurityGroup: { name: string; id: string };

/** Until the primary is available again (a modification the test sent directly is applied for `rdsModifyMs`). */
async function primaryAvailable(): Promise<void> {
  await eventually(
    async () =>
      (
        await rdsClient(primary.region).send(
          new DescribeDBInstancesCommand({ DBInstanceIdentifier: primary.instanceId }),
        )
      ).DBInstances?.[0]?.DBInstanceStatus,
    (status) => status === 'available',
  );
}

async function primaryGroups(): Promise<string[]> {
  const out = await rdsClient(primary.region).send(
    new DescribeDBInstancesCommand({ DBInstanceIdentifier: primary.instanceId }),
  );
  return (out.DBInstances?.[0]?.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId ?? '');
}

/** Writes the primary's `drctl:fence` tag as a fence would have. */
async function tagPrimary(value: string): Promise<void> {
  const described = await rdsClient(primary.region).send(
    new DescribeDBInstancesCommand({ DBInstanceIdentifier: primary.instanceId }),
  );
  await rdsClient(primary.region).send(
    new AddTagsToResourceCommand({
      ResourceName: described.DBInstances?.[0]?.DBInstanceArn,
      Tags: [{ Key: 'drctl:fence', Value: value }],
    }),
  );
}

beforeAll(async () => {
  fenceSecurityGroup = (await resetStack({ only: ['aws'] })).aws.rds.fenceSecurityGroup;
});

afterAll(async () => {
  close();
  await resetStack({ only: ['aws'] });
});

describe('the RDS fence of a primary that has a read replica', () => {
  it('GIVEN the strict layer refuses StopDBInstance with read replicas WHEN fencing THEN AWS accepts the fence: only the deny-all group, a reboot, no stop; a retry changes nothing; the undo puts the groups back', async () => {
    expect((await aws.settings()).rules.rdsStopWithReadReplicas).toBe(true);
    const before = await primaryGroups();
    await aws.resetStats();

    const fence = await activities.fenceDatabase(portal);
    const again = await activities.fenceDatabase(portal);

    expect(fence).toMatchObject({ changed: true, facts: { fenceSecurityGroup: fenceSecurityGroup.id } });
    expect(await primaryGroups()).toEqual([fenceSecurityGroup.id]);
    const stats = (await aws.stats()).operations;
    expect(stats.StopDBInstance?.calls ?? 0).toBe(0);
    expect(stats.RebootDBInstance?.succeeded).toBe(1);
    expect(again.changed).toBe(false);

    const undo = await activities.unfenceDatabase(portal, (fence.compensation as FenceUndo).detail);

    expect(undo.changed).toBe(true);
    expect(await primaryGroups()).toEqual(before);
  });

  it('GIVEN the groups its plan read, recorded by the run WHEN fencing THEN the layer sees the swap and the reboot and no tag; the undo from the record puts the groups back', async () => {
    const before = await primaryGroups();
    await aws.resetStats();
    const [planned] = await activities.planFence(portal);
    expect(planned?.undoDetail).toEqual({ previousGroups: before });

    const fence = await activities.fenceDatabase(portal, planned?.undoDetail);

    expect(fence.changed).toBe(true);
    expect(await primaryGroups()).toEqual([fenceSecurityGroup.id]);
    const stats = (await aws.stats()).operations;
    expect(stats.ModifyDBInstance?.succeeded).toBe(1);
    expect(stats.RebootDBInstance?.succeeded).toBe(1);
    expect(stats.AddTagsToResource?.calls ?? 0).toBe(0);

    const undo = await activities.unfenceDatabase(portal, planned?.undoDetail);

    expect(undo.changed).toBe(true);
    expect(await primaryGroups()).toEqual(before);
    expect((await aws.stats()).operations.RemoveTagsFromResource?.calls ?? 0).toBe(0);
  });

  it('GIVEN the tag of a fence that never swapped the groups WHEN fencing THEN the primary ends behind the deny-all group only (before: "already fenced", reachable), and the undo puts its groups back', async () => {
    const before = await primaryGroups();
    await tagPrimary(`fence=fence-follow-up-portal/3 sg=${before.join('+')}`);
    const [planned] = await activities.planFence(portal);
    expect(planned?.willChange).toBe(true);

    const fence = await activities.fenceDatabase(portal, planned?.undoDetail);

    expect(fence).toMatchObject({
      changed: true,
      facts: { fencedBy: expect.not.stringContaining('follow-up') },
    });
    expect(await primaryGroups()).toEqual([fenceSecurityGroup.id]);

    const undo = await activities.unfenceDatabase(portal, planned?.undoDetail);

    expect(undo.changed).toBe(true);
    expect(await primaryGroups()).toEqual(before);
  });

  it('GIVEN an earlier execution of this run’s fence that tagged and swapped the groups and failed before its reboot WHEN the step is retried (a new activity) THEN the retry reboots the primary and its undo puts the groups back (before: "already fenced", no reboot)', async () => {
    const before = await primaryGroups();
    await tagPrimary(`fence=failover-portal/5 sg=${before.join('+')} run=run-7`);
    await rdsClient(primary.region).send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: primary.instanceId,
        VpcSecurityGroupIds: [fenceSecurityGroup.id],
        ApplyImmediately: true,
      }),
    );
    await aws.resetStats();
    const retry = new MockActivityEnvironment({
      workflowExecution: { workflowId: 'failover-portal', runId: 'run-7' },
      activityId: '11',
    });

    const fence: StepOutcome<unknown> = await retry.run(() => activities.fenceDatabase(portal));

    expect(fence).toMatchObject({ changed: true, facts: { fencedBy: 'failover-portal/5' } });
    expect(fence.facts.fencedByAnother).toBeUndefined();
    expect((await aws.stats()).operations.RebootDBInstance?.succeeded).toBe(1);
    expect(await primaryGroups()).toEqual([fenceSecurityGroup.id]);

    const undo = await activities.unfenceDatabase(portal, (fence.compensation as FenceUndo).detail);

    expect(undo.changed).toBe(true);
    expect(await primaryGroups()).toEqual(before);
  });

  it('GIVEN a fence step of a workflow with a 1,000-character id and a primary with 8 security groups WHEN fencing with no record THEN RDS accepts its tags and the primary ends behind the deny-all group only; the undo puts all 8 back and leaves no fence tag (before: InvalidParameterValue, a tag value over 256 characters)', async () => {
    const before = await primaryGroups();
    const { SecurityGroups: own = [] } = await ec2Client(primary.region).send(
      new DescribeSecurityGroupsCommand({ GroupIds: before }),
    );
    const vpcId = own[0]?.VpcId;
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) {
      const created = await ec2Client(primary.region).send(
        new CreateSecurityGroupCommand({
          GroupName: `portal-clients-${i}-${Date.now()}`,
          Description: 'a client group of the primary',
          VpcId: vpcId,
        }),
      );
      groups.push(created.GroupId ?? '');
    }
    await rdsClient(primary.region).send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: primary.instanceId,
        VpcSecurityGroupIds: groups,
        ApplyImmediately: true,
      }),
    );
    const step = new MockActivityEnvironment({
      workflowExecution: {
        workflowId: `evacuation-${'patient-portal-wave-'.repeat(50)}`.slice(0, 1000),
        runId: '9b2f4c1e-6a41-4f8e-9d55-0c3f1b7a2e10',
      },
      activityId: '12',
    });

    try {
      const fence: StepOutcome<unknown> = await step.run(() => activities.fenceDatabase(portal));

      expect(fence.changed).toBe(true);
      expect(await primaryGroups()).toEqual([fenceSecurityGroup.id]);
      const described = await rdsClient(primary.region).send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: primary.instanceId }),
      );
      const fenceTags = (described.DBInstances?.[0]?.TagList ?? []).filter((tag) =>
        tag.Key?.startsWith('drctl:fence'),
      );
      expect(fenceTags.length).toBe(2);

      const undo = await activities.unfenceDatabase(portal, (fence.compensation as FenceUndo).detail);

      expect(undo.changed).toBe(true);
      expect([...(await primaryGroups())].sort()).toEqual([...groups].sort());
      const after = await rdsClient(primary.region).send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: primary.instanceId }),
      );
      expect(
        (after.DBInstances?.[0]?.TagList ?? []).filter((tag) => tag.Key?.startsWith('drctl:fence')),
      ).toEqual([]);
    } finally {
      // Back as the other tests expect it, whatever the fence left.
      await primaryAvailable();
      await rdsClient(primary.region).send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: primary.instanceId,
          VpcSecurityGroupIds: before,
          ApplyImmediately: true,
        }),
      );
      await primaryAvailable();
    }
  });

  it('GIVEN a primary carrying 50 tags, RDS’s most WHEN a fence with no record runs THEN it is refused before anything changes: its groups stay, no tag is added, and the message says which tags to remove (before: AddTagsToResource refused, with an error naming no limit)', async () => {
    const before = await primaryGroups();
    const described = await rdsClient(primary.region).send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: primary.instanceId }),
    );
    const arn = described.DBInstances?.[0]?.DBInstanceArn;
    const carried = described.DBInstances?.[0]?.TagList?.length ?? 0;
    const fillers = Array.from({ length: 50 - carried }, (_, i) => ({ Key: `team:cost-${i}`, Value: 'x' }));
    await rdsClient(primary.region).send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: fillers }));
    await aws.resetStats();
    const step = new MockActivityEnvironment({
      workflowExecution: { workflowId: 'drill-portal', runId: '9b2f4c1e-6a41-4f8e-9d55-0c3f1b7a2e10' },
      activityId: '4',
    });

    try {
      const failure = await step
        .run(() => activities.fenceDatabase(portal))
        .then(
          () => new Error('the fence was not refused'),
          (error: Error) => error,
        );

      expect(failure.message).toMatch(/carries 50 tag\(s\).*RDS allows 50 per instance.*remove 1 tag\(s\)/);
      expect(await primaryGroups()).toEqual(before);
      const stats = (await aws.stats()).operations;
      expect(stats.AddTagsToResource?.calls ?? 0).toBe(0);
      expect(stats.ModifyDBInstance?.calls ?? 0).toBe(0);
    } finally {
      await rdsClient(primary.region).send(
        new RemoveTagsFromResourceCommand({ ResourceName: arn, TagKeys: fillers.map((tag) => tag.Key) }),
      );
    }
  });

  it("GIVEN RDS's answer to the swap shows the deny-all group in place WHEN fencing THEN the fence reads the primary before the swap and after its reboot, not between", async () => {
    // Reboots and modifications instant here, so RDS's answer to the swap shows it done, and the one read after the
    // reboot finds it done; the rest of the test is moto's answer.
    const { rdsRebootMs, rdsModifyMs } = await aws.settings();
    await aws.update({ rdsRebootMs: 0, rdsModifyMs: 0 });
    const before = await primaryGroups();
    const [planned] = await activities.planFence(portal);
    try {
      await aws.resetStats();

      const fence = await activities.fenceDatabase(portal, planned?.undoDetail);

      expect(fence.changed).toBe(true);
      const stats = (await aws.stats()).operations;
      expect(stats.ModifyDBInstance?.succeeded).toBe(1);
      expect(stats.RebootDBInstance?.succeeded).toBe(1);
      expect(stats.DescribeDBInstances?.callsByRegion[primary.region]).toBe(2);
    } finally {
      const undo = await activities.unfenceDatabase(portal, planned?.undoDetail);
      await aws.update({ rdsRebootMs, rdsModifyMs });
      expect(undo.changed).toBe(true);
      expect(await primaryGroups()).toEqual(before);
    }
  });

  it('GIVEN a recorded fence whose deny-all group someone opened since (an inbound rule) WHEN undoing THEN the recorded groups go back all the same', async () => {
    const before = await primaryGroups();
    const [planned] = await activities.planFence(portal);
    await activities.fenceDatabase(portal, planned?.undoDetail);
    const rule = {
      GroupId: fenceSecurityGroup.id,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
      ],
    };
    await ec2Client(primary.region).send(new AuthorizeSecurityGroupIngressCommand(rule));
    try {
      const undo = await activities.unfenceDatabase(portal, planned?.undoDetail);

      expect(undo.changed).toBe(true);
      expect(await primaryGroups()).toEqual(before);
    } finally {
      await ec2Client(primary.region).send(new RevokeSecurityGroupIngressCommand(rule));
    }
  });

  it('GIVEN the fenced primary WHEN the replica is promoted THEN the promotion goes ahead and the old primary stays fenced', async () => {
    await activities.fenceDatabase(portal);

    const promote = await activities.promoteDatabase(portal);

    expect(promote.changed).toBe(true);
    expect(promote.facts).toMatchObject({
      lagSource: expect.stringMatching(/^ReplicaLag of patient-portal-replica/),
    });
    expect(await primaryGroups()).toEqual([fenceSecurityGroup.id]);
  });
});
