import {
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DescribeDBInstancesCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import {
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { SandboxError } from './sandbox-error';

export const RDS_PRIMARY = { instanceId: 'patient-portal-primary', region: 'us-east-1' };
/** A security group with no inbound rules in the primary's VPC: what drctl's RDS fence swaps in. */
export const FENCE_SECURITY_GROUP = 'drctl-fence-deny-all';
export const RDS_REPLICA = { instanceId: 'patient-portal-replica', region: 'us-west-2' };

/** Ensures the RDS primary and its cross-region read replica exist; returns the primary's endpoint address. */
export async function seedRds(rdsIn: (region: string) => RDSClient): Promise<{ primaryEndpoint: string }> {
  const primaryClient = rdsIn(RDS_PRIMARY.region);
  let primary = await describeInstance(primaryClient, RDS_PRIMARY.instanceId);
  if (primary === undefined) {
    await primaryClient.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: RDS_PRIMARY.instanceId,
        Engine: 'postgres',
        EngineVersion: '15.4',
        DBInstanceClass: 'db.t3.micro',
        AllocatedStorage: 20,
        MasterUsername: 'portal_admin',
        MasterUserPassword: 'sandbox-not-a-secret',
        DBName: 'portal',
        BackupRetentionPeriod: 7,
      }),
    );
    primary = await describeInstance(primaryClient, RDS_PRIMARY.instanceId);
  }
  const primaryArn = primary?.DBInstanceArn;
  const primaryEndpoint = primary?.Endpoint?.Address;
  if (primaryArn === undefined || primaryEndpoint === undefined) {
    throw new SandboxError(
      'SeedFailed',
      `moto returned RDS instance ${RDS_PRIMARY.instanceId} without an ARN or endpoint: see .sandbox/logs/moto.log`,
    );
  }
  const replicaClient = rdsIn(RDS_REPLICA.region);
  if ((await describeInstance(replicaClient, RDS_REPLICA.instanceId)) === undefined) {
    await replicaClient.send(
      new CreateDBInstanceReadReplicaCommand({
        DBInstanceIdentifier: RDS_REPLICA.instanceId,
        SourceDBInstanceIdentifier: primaryArn,
        DBInstanceClass: 'db.t3.micro',
      }),
    );
  }
  return { primaryEndpoint };
}

async function describeInstance(client: RDSClient, instanceId: string): Promise<DBInstance | undefined> {
  try {
    const result = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }));
    return result.DBInstances?.[0];
  } catch (error) {
    if (
      (error as { name?: string }).name === 'DBInstanceNotFoundFault' ||
      (error as { name?: string }).name === 'DBInstanceNotFound'
    )
      return undefined;
    throw error;
  }
}

/**
 * Ensures the fence security group exists in the VPC of the primary's current security group (moto gives the
 * instance the default VPC's default group), with no inbound rules; returns its id.
 */
export async function seedFenceSecurityGroup(
  rdsIn: (region: string) => RDSClient,
  ec2In: (region: string) => EC2Client,
): Promise<string> {
  const primary = await describeInstance(rdsIn(RDS_PRIMARY.region), RDS_PRIMARY.instanceId);
  const current = primary?.VpcSecurityGroups?.[0]?.VpcSecurityGroupId;
  const ec2 = ec2In(RDS_PRIMARY.region);
  const vpcId =
    current === undefined
      ? undefined
      : (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [current] }))).SecurityGroups?.[0]
          ?.VpcId;
  const existing = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'group-name', Values: [FENCE_SECURITY_GROUP] },
        ...(vpcId ? [{ Name: 'vpc-id', Values: [vpcId] }] : []),
      ],
    }),
  );
  const found = existing.SecurityGroups?.[0]?.GroupId;
  if (found !== undefined) return found;
  const created = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: FENCE_SECURITY_GROUP,
      Description: 'drctl fence: no inbound rules',
      ...(vpcId ? { VpcId: vpcId } : {}),
    }),
  );
  if (created.GroupId === undefined) {
    throw new SandboxError(
      'SeedFailed',
      `moto created ${FENCE_SECURITY_GROUP} without a GroupId: see .sandbox/logs/moto.log`,
    );
  }
  return created.GroupId;
}
