import { DescribeSecurityGroupsCommand, type EC2Client, type Filter } from '@aws-sdk/client-ec2';
import {
  AddTagsToResourceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  FailoverDBClusterCommand,
  FailoverGlobalClusterCommand,
  ModifyDBInstanceCommand,
  PromoteReadReplicaCommand,
  RebootDBInstanceCommand,
  RemoveTagsFromResourceCommand,
  StartDBInstanceCommand,
  StopDBInstanceCommand,
  SwitchoverGlobalClusterCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';
import { markUncertainAttempts, mayHaveTakenEffect, OUTCOME_UNKNOWN } from '../aws-attempts';
import { failureTypeOf } from '../../common/failure-type-of';
import type { AwsPacer } from '../aws-pacing/aws-pacer';
import { rankedAs, SharedCallReaders } from '../aws-pacing/paced-client';
import { currentStepScheduledAt, KEEP_ALIVE_MS, keepingAlive } from '../poll-until';
import type DataLoader from 'dataloader';
import { serialBatchLoader } from '../serial-batch-loader';
import { sharedWhileInFlight } from '../shared-reads';
import { awsErrorCode, toRdsFailure } from './rds-errors';
import {
  type RdsCluster,
  type RdsGlobalCluster,
  type RdsInstance,
  type RdsPort,
  type SecurityGroup,
  type SecurityGroupQuery,
} from './rds-port';

/** Instances one DescribeDBInstances call asks about: RDS's largest page (MaxRecords 100). */
export const DESCRIBES_PER_CALL = 100;

/**
 * The longest a describe waits for more reads to join it while its region's RDS budget is short: a call that reads
 * one instance costs the same token as one that reads 100, and when the bucket is what limits an evacuation, each
 * token spent on a small describe is one a fence or a promotion waits for.
 */
export const SHORT_BUDGET_GATHER_MS = 1_000;

/**
 * The worker's rule for how long a describe in a region gathers: while calls wait for the region's RDS tokens, as
 * long as the bucket takes to serve them all, at most `SHORT_BUDGET_GATHER_MS`; with nobody waiting, not at all.
 * Not while its bucket is merely low: at the end of an evacuation the last fences and promotions poll an emptied
 * bucket that nothing else asks for. Nor longer than the queue lasts: once the last waiting call has its token the
 * tokens a gather saves are ones nobody waits for, and a second's gathering on the last fences' reads was the
 * evacuation's tail.
 */
export function rdsGatherMs(pacer: Pick<AwsPacer, 'queueDrainMs'>): (region: string) => number {
  return (region) => Math.min(SHORT_BUDGET_GATHER_MS, pacer.queueDrainMs('rds', region));
}

/**
 * The RDS port over the AWS SDK v3; the client factories come from the composition root (one client per region).
 * EC2 is only used to look up the security groups an RDS fence swaps in.
 *
 * Reads of instances are coalesced: every `describeInstance` asked for in a region while that region's previous
 * describe is still in flight (or waiting for a token from the pacer) goes out together as one
 * DescribeDBInstances filtered by `db-instance-id`, up to 100 instances a call. A lone read goes at once; 200
 * promotions polling at the same time cost about two calls a round instead of 200. (DataLoader does the
 * batching; caching is off, every poll reads afresh.)
 */
export function createRdsAdapter(
  rdsForRegion: (region: string) => RDSClient,
  ec2ForRegion?: (region: string) => EC2Client,
  options: {
    keepAliveMs?: number;
    /** How long a describe in the region waits now for more reads to join it (the worker's pacer: `rdsGatherMs`). */
    gatherMs?: (region: string) => number;
  } = {},
): RdsPort {
  const keepAliveMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
  const marked = new WeakSet<RDSClient>();
  /** The region's client, its calls' errors marked when an attempt may have taken effect (`markUncertainAttempts`). */
  function clientForRegion(region: string): RDSClient {
    const client = rdsForRegion(region);
    if (!marked.has(client)) {
      markUncertainAttempts(client);
      marked.add(client);
    }
    return client;
  }
  async function call<T>(what: string, region: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const failure = toRdsFailure(error, what, region);
      // A change the SDK sent again after an attempt that may have gone through (lost in transit, or a 5xx) is
      // refused in its new state when it did (PromoteReadReplica: no longer a replica; RebootDBInstance: rebooting).
      if (failureTypeOf(failure) === PermanentFailure.InvalidState && mayHaveTakenEffect(error)) {
        throw transientFailure(
          OUTCOME_UNKNOWN,
          `${what}: refused after an attempt that may have reached RDS, so it may have been done already (${(error as Error).message}); the step's retry reads the state before it acts`,
        );
      }
      throw failure;
    }
  }

  const loaders = new Map<string, ReturnType<typeof describeLoader>>();
  function describeRaw(region: string, instanceId: string): Promise<DBInstance | null> {
    let loader = loaders.get(region);
    if (loader === undefined) {
      loader = describeLoader(clientForRegion, region, () => options.gatherMs?.(region) ?? 0);
      loaders.set(region, loader);
    }
    loader.rankRead(instanceId, currentStepScheduledAt() ?? Date.now());
    // The batch goes out in the context of the activity that opened it, for as long as a reader still waits
    // (`SharedCallReaders`); every reader heartbeats itself, or a describe queued behind the account's RDS bucket
    // outlasts their heartbeat timeout and they are retried.
    return keepingAlive(loader.readers.read(loader.load(instanceId)), keepAliveMs);
  }

  async function describeSecurityGroups(region: string, query: SecurityGroupQuery): Promise<SecurityGroup[]> {
    if (ec2ForRegion === undefined) {
      throw permanentFailure(
        PermanentFailure.ConfigurationMissing,
        'this worker has no EC2 client: build the RDS adapter with createRdsAdapter(rdsForRegion, ec2ForRegion)',
      );
    }
    const filters: Filter[] = [];
    if (query.name !== undefined) filters.push({ Name: 'group-name', Values: [query.name] });
    if (query.vpcId !== undefined) filters.push({ Name: 'vpc-id', Values: [query.vpcId] });
    const what = `DescribeSecurityGroups ${query.ids?.join(',') ?? query.name ?? ''} in ${region}`;
    try {
      const out = await ec2ForRegion(region).send(
        new DescribeSecurityGroupsCommand({
          ...(query.ids ? { GroupIds: query.ids } : {}),
          ...(filters.length > 0 ? { Filters: filters } : {}),
        }),
      );
      return (out.SecurityGroups ?? []).map((group) => ({
        id: group.GroupId ?? '',
        name: group.GroupName ?? '',
        vpcId: group.VpcId ?? null,
        inboundRules: (group.IpPermissions ?? []).length,
      }));
    } catch (error) {
      if (awsErrorCode(error) === 'InvalidGroup.NotFound') return [];
      throw toRdsFailure(error, what, region);
    }
  }

  const groupReads = sharedWhileInFlight('worker', { keepAliveMs });

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
          arn: c.DBClusterArn ?? null,
          status: c.Status ?? 'unknown',
          engineVersion: c.EngineVersion ?? null,
          endpoint: c.Endpoint ?? null,
          readerEndpoint: c.ReaderEndpoint ?? null,
          members: (c.DBClusterMembers ?? []).map((m) => ({
            instanceId: m.DBInstanceIdentifier ?? '',
            isWriter: m.IsClusterWriter === true,
          })),
          globalClusterId: c.GlobalClusterIdentifier ?? null,
        };
      } catch (error) {
        const code = awsErrorCode(error);
        if (code === 'DBClusterNotFoundFault' || code === 'DBClusterNotFound') return null;
        throw toRdsFailure(error, `DescribeDBClusters ${clusterId} in ${region}`, region);
      }
    },

    async promoteReadReplica(region, instanceId) {
      await call(`PromoteReadReplica ${instanceId} in ${region}`, region, () =>
        clientForRegion(region).send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: instanceId })),
      );
    },

    async stopInstance(region, instanceId) {
      await call(`StopDBInstance ${instanceId} in ${region}`, region, () =>
        clientForRegion(region).send(new StopDBInstanceCommand({ DBInstanceIdentifier: instanceId })),
      );
    },

    async startInstance(region, instanceId) {
      await call(`StartDBInstance ${instanceId} in ${region}`, region, () =>
        clientForRegion(region).send(new StartDBInstanceCommand({ DBInstanceIdentifier: instanceId })),
      );
    },

    async failoverCluster(region, clusterId, targetInstanceId) {
      await call(`FailoverDBCluster ${clusterId} to ${targetInstanceId} in ${region}`, region, () =>
        clientForRegion(region).send(
          new FailoverDBClusterCommand({
            DBClusterIdentifier: clusterId,
            TargetDBInstanceIdentifier: targetInstanceId,
          }),
        ),
      );
    },

    async setInstanceSecurityGroups(region, instanceId, groupIds) {
      const answer = await call(
        `ModifyDBInstance ${instanceId} VpcSecurityGroupIds=${groupIds.join(',')} in ${region}`,
        region,
        () =>
          clientForRegion(region).send(
            new ModifyDBInstanceCommand({
              DBInstanceIdentifier: instanceId,
              VpcSecurityGroupIds: groupIds,
              ApplyImmediately: true,
            }),
          ),
      );
      return answer.DBInstance === undefined ? null : toInstance(answer.DBInstance, instanceId);
    },

    async rebootInstance(region, instanceId) {
      await call(`RebootDBInstance ${instanceId} in ${region}`, region, () =>
        clientForRegion(region).send(new RebootDBInstanceCommand({ DBInstanceIdentifier: instanceId })),
      );
    },

    async tagResource(region, arn, tags) {
      await call(`AddTagsToResource ${Object.keys(tags).join(', ')} on ${arn}`, region, () =>
        clientForRegion(region).send(
          new AddTagsToResourceCommand({
            ResourceName: arn,
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        ),
      );
    },

    async untagResource(region, arn, keys) {
      await call(`RemoveTagsFromResource ${keys.join(', ')} on ${arn}`, region, () =>
        clientForRegion(region).send(new RemoveTagsFromResourceCommand({ ResourceName: arn, TagKeys: keys })),
      );
    },

    findSecurityGroups(region, query) {
      // Fences of one Region ask about the same groups at once (the deny-all group, the default group): they
      // share the call in flight. Nothing is kept after it answers: each later read asks EC2 again.
      const key = JSON.stringify([region, query.ids ?? null, query.name ?? null, query.vpcId ?? null]);
      return groupReads(key, () => describeSecurityGroups(region, query));
    },

    async describeGlobalCluster(region, globalClusterId): Promise<RdsGlobalCluster | null> {
      try {
        const out = await clientForRegion(region).send(
          new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: globalClusterId }),
        );
        const g = out.GlobalClusters?.[0];
        if (g === undefined) return null;
        const state = g.FailoverState;
        return {
          globalClusterId: g.GlobalClusterIdentifier ?? globalClusterId,
          status: g.Status ?? 'unknown',
          members: (g.GlobalClusterMembers ?? []).map((m) => ({
            clusterArn: m.DBClusterArn ?? '',
            isWriter: m.IsWriter === true,
          })),
          failover:
            state?.Status === undefined
              ? null
              : {
                  status: state.Status,
                  fromArn: state.FromDbClusterArn ?? null,
                  toArn: state.ToDbClusterArn ?? null,
                  dataLossAllowed: state.IsDataLossAllowed === true,
                },
        };
      } catch (error) {
        if (awsErrorCode(error) === 'GlobalClusterNotFoundFault') return null;
        throw toRdsFailure(error, `DescribeGlobalClusters ${globalClusterId} in ${region}`, region);
      }
    },

    async switchoverGlobalCluster(region, globalClusterId, targetClusterArn) {
      await call(
        `SwitchoverGlobalCluster ${globalClusterId} to ${targetClusterArn} in ${region}`,
        region,
        () =>
          clientForRegion(region).send(
            new SwitchoverGlobalClusterCommand({
              GlobalClusterIdentifier: globalClusterId,
              TargetDbClusterIdentifier: targetClusterArn,
            }),
          ),
      );
    },

    async failoverGlobalCluster(region, globalClusterId, targetClusterArn) {
      await call(
        `FailoverGlobalCluster ${globalClusterId} to ${targetClusterArn} (AllowDataLoss) in ${region}`,
        region,
        () =>
          clientForRegion(region).send(
            new FailoverGlobalClusterCommand({
              GlobalClusterIdentifier: globalClusterId,
              TargetDbClusterIdentifier: targetClusterArn,
              AllowDataLoss: true,
            }),
          ),
      );
    },
  };
}

/**
 * The region's coalescing loader (`serialBatchLoader`): reads pile up while a describe is outstanding and leave
 * together; while the region's budget is short, a batch also waits `gatherMs()` for more reads. A batch goes out
 * ranked as its oldest read's step (`rankedAs`): with the pacer serving the oldest step first, a batch sent by a
 * newer step must not hold back an older step's poll inside it.
 */
function describeLoader(
  clientForRegion: (region: string) => RDSClient,
  region: string,
  gatherMs: () => number,
): DataLoader<string, DBInstance | null> & {
  rankRead(instanceId: string, scheduledAt: number): void;
  readers: SharedCallReaders;
} {
  const ranks = new Map<string, number>();
  const readers = new SharedCallReaders();
  const loader = serialBatchLoader<string, DBInstance | null>(
    (ids) => {
      const rank = Math.min(...ids.map((id) => ranks.get(id) ?? Number.POSITIVE_INFINITY));
      for (const id of ids) ranks.delete(id);
      // Sent for every read in it: the cancellation of the step whose activity opened it does not stop it.
      return readers.send(() =>
        rankedAs(Number.isFinite(rank) ? rank : undefined, () =>
          describeMany(clientForRegion(region), region, ids),
        ),
      );
    },
    { maxBatchSize: DESCRIBES_PER_CALL, gatherMs },
  );
  return Object.assign(loader, {
    readers,
    rankRead(instanceId: string, scheduledAt: number) {
      ranks.set(instanceId, Math.min(ranks.get(instanceId) ?? Number.POSITIVE_INFINITY, scheduledAt));
    },
  });
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
        region,
      )
    );
    return ids.map(() => failure);
  }
  return ids.map((id) => found.get(id) ?? null);
}

function toInstance(raw: DBInstance, instanceId: string): RdsInstance {
  const tags = Object.fromEntries((raw.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  return {
    instanceId: raw.DBInstanceIdentifier ?? instanceId,
    arn: raw.DBInstanceArn ?? null,
    status: raw.DBInstanceStatus ?? 'unknown',
    replicaOf: raw.ReadReplicaSourceDBInstanceIdentifier ?? null,
    readReplicas: raw.ReadReplicaDBInstanceIdentifiers ?? [],
    endpoint: raw.Endpoint?.Address ?? null,
    port: raw.Endpoint?.Port ?? null,
    securityGroups: (raw.VpcSecurityGroups ?? []).map((g) => ({
      id: g.VpcSecurityGroupId ?? '',
      status: g.Status ?? 'unknown',
    })),
    tags,
  };
}
