import {
  AddTagsToResourceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  FailoverDBClusterCommand,
  PromoteReadReplicaCommand,
  StartDBInstanceCommand,
  StopDBInstanceCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { awsErrorCode, toRdsFailure } from './rds-errors';
import { PROMOTED_FROM_TAG, type RdsCluster, type RdsInstance, type RdsPort } from './rds-port';

/** The RDS port over the AWS SDK v3; `clientForRegion` comes from the composition root (one client per region). */
export function createRdsAdapter(clientForRegion: (region: string) => RDSClient): RdsPort {
  async function call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toRdsFailure(error, what);
    }
  }

  async function describeRaw(region: string, instanceId: string): Promise<DBInstance | null> {
    try {
      const out = await clientForRegion(region).send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }),
      );
      return out.DBInstances?.[0] ?? null;
    } catch (error) {
      const code = awsErrorCode(error);
      if (code === 'DBInstanceNotFound' || code === 'DBInstanceNotFoundFault') return null;
      throw toRdsFailure(error, `DescribeDBInstances ${instanceId} in ${region}`);
    }
  }

  return {
    async describeInstance(region, instanceId) {
      const raw = await describeRaw(region, instanceId);
      return raw === null ? null : toInstance(raw, instanceId);
    },

    async describeCluster(region, clusterId): Promise<RdsCluster | null> {
      try {
        const out = await clientForRegion(region).send(
          new DescribeDBClustersCommand({ DBClusterIdentifier: clusterId }),
        );
        const c = out.DBClusters?.[0];
        if (c === undefined) return null;
        return {
          clusterId: c.DBClusterIdentifier ?? clusterId,
          status: c.Status ?? 'unknown',
          endpoint: c.Endpoint ?? null,
          readerEndpoint: c.ReaderEndpoint ?? null,
          members: (c.DBClusterMembers ?? []).map((m) => ({
            instanceId: m.DBInstanceIdentifier ?? '',
            isWriter: m.IsClusterWriter === true,
          })),
        };
      } catch (error) {
        const code = awsErrorCode(error);
        if (code === 'DBClusterNotFoundFault' || code === 'DBClusterNotFound') return null;
        throw toRdsFailure(error, `DescribeDBClusters ${clusterId} in ${region}`);
      }
    },

    async promoteReadReplica(region, instanceId) {
      const what = `PromoteReadReplica ${instanceId} in ${region}`;
      const before = await describeRaw(region, instanceId);
      if (before === null)
        throw toRdsFailure({ name: 'DBInstanceNotFound', message: `no instance ${instanceId}` }, what);
      await call(what, () =>
        clientForRegion(region).send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: instanceId })),
      );
      const source = before.ReadReplicaSourceDBInstanceIdentifier;
      if (source && before.DBInstanceArn) {
        await call(`AddTagsToResource ${instanceId} in ${region}`, () =>
          clientForRegion(region).send(
            new AddTagsToResourceCommand({
              ResourceName: before.DBInstanceArn,
              Tags: [{ Key: PROMOTED_FROM_TAG, Value: source }],
            }),
          ),
        );
      }
    },

    async stopInstance(region, instanceId) {
      await call(`StopDBInstance ${instanceId} in ${region}`, () =>
        clientForRegion(region).send(new StopDBInstanceCommand({ DBInstanceIdentifier: instanceId })),
      );
    },

    async startInstance(region, instanceId) {
      await call(`StartDBInstance ${instanceId} in ${region}`, () =>
        clientForRegion(region).send(new StartDBInstanceCommand({ DBInstanceIdentifier: instanceId })),
      );
    },

    async failoverCluster(region, clusterId, targetInstanceId) {
      await call(`FailoverDBCluster ${clusterId} to ${targetInstanceId} in ${region}`, () =>
        clientForRegion(region).send(
          new FailoverDBClusterCommand({
            DBClusterIdentifier: clusterId,
            TargetDBInstanceIdentifier: targetInstanceId,
          }),
        ),
      );
    },
  };
}

function toInstance(raw: DBInstance, instanceId: string): RdsInstance {
  const source = raw.ReadReplicaSourceDBInstanceIdentifier ?? null;
  const promotedFrom = raw.TagList?.find((t) => t.Key === PROMOTED_FROM_TAG)?.Value;
  return {
    instanceId: raw.DBInstanceIdentifier ?? instanceId,
    arn: raw.DBInstanceArn ?? null,
    status: raw.DBInstanceStatus ?? 'unknown',
    readReplicaSource: source,
    replicaOf: source !== null && promotedFrom !== source ? source : null,
    endpoint: raw.Endpoint?.Address ?? null,
    port: raw.Endpoint?.Port ?? null,
  };
}
