import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateGlobalClusterCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  type DBCluster,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { SandboxError } from './sandbox-error';
import type { StackInfo } from './stack-info';

/** An Aurora PostgreSQL global database: writer cluster in us-east-1, headed secondary (one reader) in us-west-2. */
export const AURORA_GLOBAL = {
  globalClusterId: 'ehr-global',
  engine: 'aurora-postgresql',
  engineVersion: '15.4',
  primary: { clusterId: 'ehr-aurora-east', region: 'us-east-1', instanceId: 'ehr-aurora-east-1' },
  secondary: { clusterId: 'ehr-aurora-west', region: 'us-west-2', instanceId: 'ehr-aurora-west-1' },
} as const;

function isNotFound(error: unknown): boolean {
  return /NotFound/.test((error as { name?: string }).name ?? '');
}

async function describeCluster(client: RDSClient, clusterId: string): Promise<DBCluster | undefined> {
  try {
    return (await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: clusterId })))
      .DBClusters?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function instanceExists(client: RDSClient, instanceId: string): Promise<boolean> {
  try {
    await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function ensureCluster(
  client: RDSClient,
  member: { clusterId: string; instanceId: string },
  credentials: { MasterUsername: string; MasterUserPassword: string } | undefined,
): Promise<DBCluster> {
  if ((await describeCluster(client, member.clusterId)) === undefined) {
    await client.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: member.clusterId,
        Engine: AURORA_GLOBAL.engine,
        EngineVersion: AURORA_GLOBAL.engineVersion,
        GlobalClusterIdentifier: AURORA_GLOBAL.globalClusterId,
        ...credentials,
      }),
    );
  }
  if (!(await instanceExists(client, member.instanceId))) {
    await client.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: member.instanceId,
        DBClusterIdentifier: member.clusterId,
        Engine: AURORA_GLOBAL.engine,
        DBInstanceClass: 'db.r6g.large',
      }),
    );
  }
  const cluster = await describeCluster(client, member.clusterId);
  if (cluster?.DBClusterArn === undefined || cluster.Endpoint === undefined) {
    throw new SandboxError(
      'SeedFailed',
      `moto returned Aurora cluster ${member.clusterId} without an ARN or endpoint: see .sandbox/logs/moto.log`,
    );
  }
  return cluster;
}

/**
 * Ensures the Aurora global database exists (idempotent: creates only what is missing). The secondary cluster
 * takes its engine and credentials from the global cluster, as in AWS; the primary cluster is created first so
 * that it becomes the writer.
 */
export async function seedAuroraGlobal(
  rdsIn: (region: string) => RDSClient,
): Promise<StackInfo['aws']['aurora']> {
  const primaryClient = rdsIn(AURORA_GLOBAL.primary.region);
  const existing = await primaryClient.send(new DescribeGlobalClustersCommand({}));
  if (!existing.GlobalClusters?.some((g) => g.GlobalClusterIdentifier === AURORA_GLOBAL.globalClusterId)) {
    await primaryClient.send(
      new CreateGlobalClusterCommand({
        GlobalClusterIdentifier: AURORA_GLOBAL.globalClusterId,
        Engine: AURORA_GLOBAL.engine,
        EngineVersion: AURORA_GLOBAL.engineVersion,
      }),
    );
  }
  const primary = await ensureCluster(primaryClient, AURORA_GLOBAL.primary, {
    MasterUsername: 'ehr_admin',
    MasterUserPassword: 'sandbox-not-a-secret',
  });
  const secondary = await ensureCluster(
    rdsIn(AURORA_GLOBAL.secondary.region),
    AURORA_GLOBAL.secondary,
    undefined,
  );
  return {
    globalClusterId: AURORA_GLOBAL.globalClusterId,
    engineVersion: AURORA_GLOBAL.engineVersion,
    primary: {
      clusterId: AURORA_GLOBAL.primary.clusterId,
      region: AURORA_GLOBAL.primary.region,
      arn: primary.DBClusterArn ?? '',
      endpoint: primary.Endpoint ?? '',
      writerInstanceId: AURORA_GLOBAL.primary.instanceId,
    },
    secondary: {
      clusterId: AURORA_GLOBAL.secondary.clusterId,
      region: AURORA_GLOBAL.secondary.region,
      arn: secondary.DBClusterArn ?? '',
      endpoint: secondary.Endpoint ?? '',
      readerInstanceId: AURORA_GLOBAL.secondary.instanceId,
    },
  };
}
