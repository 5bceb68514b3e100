import { PermanentFailure, permanentFailure } from '../../activities/failures';
import {
  sourceNames,
  type RdsCluster,
  type RdsInstance,
  type RdsPort,
} from '../../activities/database/rds-port';

/** One simulated instance; tests set fields to stage a situation. */
export interface FakeRdsInstance {
  instanceId: string;
  region: string;
  status: string;
  replicaOf: string | null;
  endpoint: string;
  /** After PromoteReadReplica: reports `modifying` (still a replica) for this many describes. */
  promoteModifyingPolls: number;
  /** After StopDBInstance: reports `stopping` for this many describes. */
  stoppingPolls: number;
  /** After StartDBInstance: reports `starting` for this many describes. */
  startingPolls: number;
}

export interface FakeRdsCluster {
  clusterId: string;
  region: string;
  status: string;
  endpoint: string;
  members: Array<{ instanceId: string; isWriter: boolean }>;
  /** After FailoverDBCluster: reports `failing-over` with the old writer for this many describes. */
  failoverPolls: number;
}

export interface FakeRdsOptions {
  /**
   * Refuse StopDBInstance on an instance that still has read replicas, as AWS does ("You can't stop a DB instance
   * that has a read replica, or that is a read replica": USER_StopInstance.html, Limitations). Default false, the
   * same default as the strict AWS layer's `rdsStopWithReadReplicas` rule, because drctl's `stop-instance` fence
   * stops the primary before promoting its replica (issue 8.7); turn it on in both once the fence is fixed.
   */
  refuseStopWithReadReplicas?: boolean;
}

/**
 * In-memory RDS behind the real port, modelled on real AWS and refusing what it refuses (with the failures the
 * real adapter maps AWS's codes to): a promoted replica loses its source once promotion completes;
 * PromoteReadReplica of a non-replica, StopDBInstance of a read replica (or, with `refuseStopWithReadReplicas`,
 * of an instance that has one) and FailoverDBCluster while the cluster is failing over are InvalidState.
 */
export class FakeRds implements RdsPort {
  readonly state = {
    instances: new Map<string, FakeRdsInstance>(),
    clusters: new Map<string, FakeRdsCluster>(),
    promotions: [] as string[],
    stops: [] as string[],
    starts: [] as string[],
    failovers: [] as string[],
  };
  /** Makes every call fail with this (e.g. an AccessDenied permanentFailure). */
  failWith: unknown;
  private readonly pending = new Map<string, { polls: number; settle: () => void }>();

  constructor(private readonly options: FakeRdsOptions = {}) {}

  addInstance(
    instance: Partial<FakeRdsInstance> & Pick<FakeRdsInstance, 'instanceId' | 'region'>,
  ): FakeRdsInstance {
    const full: FakeRdsInstance = {
      status: 'available',
      replicaOf: null,
      endpoint: `${instance.instanceId}.abc.${instance.region}.rds.amazonaws.com`,
      promoteModifyingPolls: 0,
      stoppingPolls: 0,
      startingPolls: 0,
      ...instance,
    };
    this.state.instances.set(`${full.region}/${full.instanceId}`, full);
    return full;
  }

  addCluster(
    cluster: Partial<FakeRdsCluster> & Pick<FakeRdsCluster, 'clusterId' | 'region' | 'members'>,
  ): FakeRdsCluster {
    const full: FakeRdsCluster = {
      status: 'available',
      endpoint: `${cluster.clusterId}.cluster-abc.${cluster.region}.rds.amazonaws.com`,
      failoverPolls: 0,
      ...cluster,
    };
    this.state.clusters.set(`${full.region}/${full.clusterId}`, full);
    return full;
  }

  /** The patient-portal pair: primary in us-east-1, cross-region replica in us-west-2. */
  static portalPair(options: FakeRdsOptions = {}): {
    rds: FakeRds;
    primary: FakeRdsInstance;
    replica: FakeRdsInstance;
  } {
    const rds = new FakeRds(options);
    const primary = rds.addInstance({ instanceId: 'patient-portal-primary', region: 'us-east-1' });
    const replica = rds.addInstance({
      instanceId: 'patient-portal-replica',
      region: 'us-west-2',
      replicaOf: 'arn:aws:rds:us-east-1:123456789012:db:patient-portal-primary',
    });
    return { rds, primary, replica };
  }

  private tick(key: string): void {
    const p = this.pending.get(key);
    if (p === undefined) return;
    if (p.polls <= 0) {
      p.settle();
      this.pending.delete(key);
    } else {
      p.polls -= 1;
    }
  }

  /** Instances (any region) that still replicate from `instanceId`. */
  private replicasOf(instanceId: string): string[] {
    return [...this.state.instances.values()]
      .filter((candidate) => candidate.replicaOf !== null && sourceNames(candidate.replicaOf, instanceId))
      .map((candidate) => candidate.instanceId);
  }

  private instance(region: string, id: string): FakeRdsInstance {
    const i = this.state.instances.get(`${region}/${id}`);
    if (i === undefined)
      throw permanentFailure(PermanentFailure.NotFound, `DBInstanceNotFound: ${id} in ${region}`);
    return i;
  }

  async describeInstance(region: string, instanceId: string): Promise<RdsInstance | null> {
    if (this.failWith !== undefined) throw this.failWith;
    const key = `${region}/${instanceId}`;
    this.tick(key);
    const i = this.state.instances.get(key);
    if (i === undefined) return null;
    return {
      instanceId: i.instanceId,
      arn: `arn:aws:rds:${region}:123456789012:db:${instanceId}`,
      status: i.status,
      readReplicaSource: i.replicaOf,
      replicaOf: i.replicaOf,
      endpoint: i.endpoint,
      port: 5432,
    };
  }

  async describeCluster(region: string, clusterId: string): Promise<RdsCluster | null> {
    if (this.failWith !== undefined) throw this.failWith;
    const key = `cluster:${region}/${clusterId}`;
    this.tick(key);
    const c = this.state.clusters.get(`${region}/${clusterId}`);
    if (c === undefined) return null;
    return {
      clusterId,
      status: c.status,
      endpoint: c.endpoint,
      readerEndpoint: null,
      members: c.members.map((m) => ({ ...m })),
    };
  }

  async promoteReadReplica(region: string, instanceId: string): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    const i = this.instance(region, instanceId);
    if (i.replicaOf === null || i.status !== 'available') {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `InvalidDBInstanceState: ${instanceId} is ${i.status}${i.replicaOf === null ? ', not a read replica' : ''}`,
      );
    }
    this.state.promotions.push(instanceId);
    const settle = () => {
      i.status = 'available';
      i.replicaOf = null;
    };
    if (i.promoteModifyingPolls <= 0) return settle();
    i.status = 'modifying';
    this.pending.set(`${region}/${instanceId}`, { polls: i.promoteModifyingPolls, settle });
  }

  async stopInstance(region: string, instanceId: string): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    const i = this.instance(region, instanceId);
    if (i.replicaOf !== null) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `StopDBInstance ${instanceId} in ${region}: refused in its current state (InvalidDBInstanceState: Cannot stop or start a Read-Replica instance)`,
      );
    }
    const replicas = this.replicasOf(instanceId);
    if (this.options.refuseStopWithReadReplicas && replicas.length > 0) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `StopDBInstance ${instanceId} in ${region}: refused in its current state (InvalidDBInstanceState: Cannot stop DB instance ${instanceId} because it has read replicas: ${replicas.join(', ')})`,
      );
    }
    if (i.status !== 'available')
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `InvalidDBInstanceState: ${instanceId} is ${i.status}`,
      );
    this.state.stops.push(instanceId);
    const settle = () => {
      i.status = 'stopped';
    };
    if (i.stoppingPolls <= 0) return settle();
    i.status = 'stopping';
    this.pending.set(`${region}/${instanceId}`, { polls: i.stoppingPolls, settle });
  }

  async startInstance(region: string, instanceId: string): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    const i = this.instance(region, instanceId);
    if (i.status !== 'stopped')
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `InvalidDBInstanceState: ${instanceId} is ${i.status}, not stopped`,
      );
    this.state.starts.push(instanceId);
    const settle = () => {
      i.status = 'available';
    };
    if (i.startingPolls <= 0) return settle();
    i.status = 'starting';
    this.pending.set(`${region}/${instanceId}`, { polls: i.startingPolls, settle });
  }

  async failoverCluster(region: string, clusterId: string, targetInstanceId: string): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    const c = this.state.clusters.get(`${region}/${clusterId}`);
    if (c === undefined)
      throw permanentFailure(PermanentFailure.NotFound, `DBClusterNotFoundFault: ${clusterId}`);
    if (c.status !== 'available') {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `FailoverDBCluster ${clusterId} to ${targetInstanceId} in ${region}: refused in its current state (InvalidDBClusterStateFault: DB cluster ${clusterId} is ${c.status})`,
      );
    }
    this.state.failovers.push(`${clusterId}->${targetInstanceId}`);
    const settle = () => {
      c.status = 'available';
      for (const m of c.members) m.isWriter = m.instanceId === targetInstanceId;
    };
    if (c.failoverPolls <= 0) return settle();
    c.status = 'failing-over';
    this.pending.set(`cluster:${region}/${clusterId}`, { polls: c.failoverPolls, settle });
  }
}
