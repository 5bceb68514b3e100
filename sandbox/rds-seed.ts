import {
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DescribeDBInstancesCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { SandboxError } from './sandbox-error';

export const RDS_PRIMARY = { instanceId: 'patient-portal-primary', region: 'us-east-1' };
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
