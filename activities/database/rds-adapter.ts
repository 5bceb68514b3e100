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
import DataLoader from 'dataloader';
import { awsErrorCode, toRdsFailure } from './rds-errors';
import { PROMOTED_FROM_TAG, type RdsCluster, type RdsInstance, type RdsPort } from './rds-port';

/** Instances one DescribeDBInstances call asks about: RDS's largest page (MaxRecords 100). */
export const DESCRIBES_PER_CALL = 100;

/**
 * The RDS port over the AWS SDK v3; `clientForRegion` comes from the composition root (one client per region).
 *
 * Reads of instances are coalesced: every `describeInstance` asked for in a region while that region's previous
 * describe is still in flight (or waiting for a token from the pacer) goes out together as one
 * DescribeDBInstances filtered by `db-instance-id`, up to 100 instances a call. A lone read goes at once; 200
 * promotions polling at the same time cost about two calls a round instead of 200. (DataLoader does the
 * batching; caching is off, every poll reads afresh.)
 */
export function createRdsAdapter(clientForRegion: (region: string) => RDSClient): RdsPort {
  async function call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toRdsFailure(error, what);
    }
  }

  const loaders = new Map<string, DataLoader<string, DBInstance | null>>();
  function describeRaw(region: string, instanceId: string): Promise<DBInstance | null> {
    let loader = loaders.get(region);
    if (loader === undefined) {
      loader = describeLoader(clientForRegion, region);
      loaders.set(region, loader);
    }
    return loader.load(instanceId);
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

/**
 * One loader per region. A batch is dispatched only once the previous one has answered, so reads pile up while a
 * call is outstanding and leave together: the busier the region, the larger the batch.
 */
function describeLoader(
  clientForRegion: (region: string) => RDSClient,
  region: string,
): DataLoader<string, DBInstance | null> {
  let idle: Promise<unknown> = Promise.resolve();
  return new DataLoader<string, DBInstance | null>(
    (ids) => {
      const done = describeMany(clientForRegion(region), region, ids);
      idle = done.catch(() => undefined);
      return done;
    },
    {
      cache: false,
      maxBatchSize: DESCRIBES_PER_CALL,
      batchScheduleFn: (dispatch) => void idle.then(() => setImmediate(dispatch)),
    },
  );
}

/** DescribeDBInstances of `ids` (≤ 100) in one call (following pages if any); null for an id that does not exist. */
async function describeMany(
  client: RDSClient,
  region: string,
  ids: readonly string[],
): Promise<Array<DBInstance | null | Error>> {
  const found = new Map<string, DBInstance>();
  let marker: string | undefined;
  try {
    do {
      const out = await client.send(
        new DescribeDBInstancesCommand({
          Filters: [{ Name: 'db-instance-id', Values: [...ids] }],
          MaxRecords: DESCRIBES_PER_CALL,
          ...(marker === undefined ? {} : { Marker: marker }),
        }),
      );
      for (const instance of out.DBInstances ?? []) {
        if (instance.DBInstanceIdentifier !== undefined) found.set(instance.DBInstanceIdentifier, instance);
      }
      marker = out.Marker;
    } while (marker !== undefined);
  } catch (error) {
    const code = awsErrorCode(error);
    if (code === 'DBInstanceNotFound' || code === 'DBInstanceNotFoundFault') return ids.map(() => null);
    const failure = <Error>(
      toRdsFailure(
        error,
        `DescribeDBInstances ${ids.length === 1 ? ids[0] : `${ids.length} instances`} in ${region}`,
      )
    );
    return ids.map(() => failure);
  }
  return ids.map((id) => found.get(id) ?? null);
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
