import { PermanentFailure, permanentFailure } from '../../activities/failures';
import { regionUnreachableFailure } from '../../activities/aws-region';
import {
  sourceNames,
  type RdsCluster,
  type RdsGlobalCluster,
  type RdsInstance,
  type RdsPort,
  type SecurityGroup,
  type SecurityGroupQuery,
} from '../../activities/database/rds-port';

/** One simulated instance; tests set fields to stage a situation. */
export interface FakeRdsInstance {
  instanceId: string;
  region: string;
  status: string;
  replicaOf: string | null;
  endpoint: string;
  securityGroups: string[];
  /**
   * Statuses of groups in transition, as AWS reports a ModifyDBInstance it is still applying (`adding`,
   * `removing`); absent groups are `active`. A ModifyDBInstance of the groups settles them all, at once or after
   * `groupChangePolls` reads.
   */
  groupStatuses?: Record<string, string>;
  tags: Record<string, string>;
  /**
   * After a ModifyDBInstance of its groups: the new groups `adding` beside the old ones `removing` for this many
   * describes (AWS applies the change "asynchronously ... as soon as possible"), the answer to the call included.
   * 0: applied at once, as moto does.
   */
  groupChangePolls: number;
  /**
   * After a ModifyDBInstance of its groups answered as applied: reports `modifying` for this many describes, and
   * refuses a reboot meanwhile (RDS still busy with the change after its answer). 0: available at once.
   */
  busyAfterGroupChangePolls: number;
  /** After PromoteReadReplica: reports `modifying` (still a replica) for this many describes. */
  promoteModifyingPolls: number;
  /**
   * After RebootDBInstance: reports `rebooting` for this many describes, refusing a reboot or a group change
   * meanwhile (RDS: "You can't reboot your DB instance if it is not in the available state"). 0: back at once.
   */
  rebootingPolls: number;
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
  engineVersion: string;
  members: Array<{ instanceId: string; isWriter: boolean }>;
  globalClusterId: string | null;
  /** After FailoverDBCluster: reports `failing-over` with the old writer for this many describes. */
  failoverPolls: number;
}

export interface FakeGlobalCluster {
  globalClusterId: string;
  /** Member cluster ARNs, and which one writes. */
  members: string[];
  writerArn: string;
  /** After a switchover/failover: `FailoverState` shows it for this many describes. */
  operationPolls: number;
}

const arnOf = (region: string, kind: 'db' | 'cluster', id: string) =>
  `arn:aws:rds:${region}:123456789012:${kind}:${id}`;

export interface FakeRdsOptions {
  /**
   * Refuse StopDBInstance on an instance that still has read replicas, as AWS does ("You can't stop a DB instance
   * that has a read replica, or that is a read replica": USER_StopInstance.html, Limitations). Default true, as the
   * strict AWS layer's `rdsStopWithReadReplicas` rule: drctl's RDS fence swaps security groups instead (issue 8.7).
   */
  refuseStopWithReadReplicas?: boolean;
}

/**
 * In-memory RDS behind the real port, modelled on real AWS and refusing what AWS refuses: StopDBInstance of an
 * instance with read replicas or of a read replica, PromoteReadReplica of a non-replica, FailoverDBCluster while
 * the cluster fails over, a global switchover while one is under way or to the writer, security groups that do
 * not exist. A promoted replica loses its source once promotion completes.
 */
export class FakeRds implements RdsPort {
  readonly state = {
    instances: new Map<string, FakeRdsInstance>(),
    clusters: new Map<string, FakeRdsCluster>(),
    globals: new Map<string, FakeGlobalCluster>(),
    securityGroups: new Map<string, SecurityGroup & { region: string }>(),
    promotions: [] as string[],
    stops: [] as string[],
    starts: [] as string[],
    reboots: [] as string[],
    /** Every AddTagsToResource that changed a tag, as `instanceId key`. */
    tagWrites: [] as string[],
    failovers: [] as string[],
    globalOperations: [] as string[],
    /** Regions whose every call fails as unreachable. */
    regionsDown: new Set<string>(),
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
      securityGroups: [this.addSecurityGroup(instance.region, 'default', 1).id],
      tags: {},
      groupChangePolls: 0,
      busyAfterGroupChangePolls: 0,
      promoteModifyingPolls: 0,
      rebootingPolls: 0,
      stoppingPolls: 0,
      startingPolls: 0,
      ...instance,
    };
    this.state.instances.set(`${full.region}/${full.instanceId}`, full);
    return full;
  }

  /** A security group; EC2 keeps a group's name unique within its VPC (each region's instances: `vpc-<region>`). */
  addSecurityGroup(
    region: string,
    name: string,
    inboundRules: number,
    vpcId = `vpc-${region}`,
  ): SecurityGroup {
    const existing = [...this.state.securityGroups.values()].find(
      (g) => g.region === region && g.name === name && g.vpcId === vpcId,
    );
    if (existing) return existing;
    const id = vpcId === `vpc-${region}` ? `sg-${name}-${region}` : `sg-${name}-${vpcId}`;
    const group = { id, name, vpcId, inboundRules, region };
    this.state.securityGroups.set(group.id, group);
    return group;
  }

  addCluster(
    cluster: Partial<FakeRdsCluster> & Pick<FakeRdsCluster, 'clusterId' | 'region' | 'members'>,
  ): FakeRdsCluster {
    const full: FakeRdsCluster = {
      status: 'available',
      endpoint: `${cluster.clusterId}.cluster-abc.${cluster.region}.rds.amazonaws.com`,
      engineVersion: '15.4',
      globalClusterId: null,
      failoverPolls: 0,
      ...cluster,
    };
    this.state.clusters.set(`${full.region}/${full.clusterId}`, full);
    return full;
  }

  /** An Aurora global database: writer cluster in one region, headed secondary in another. */
  addGlobal(globalClusterId: string, primary: FakeRdsCluster, secondary: FakeRdsCluster): FakeGlobalCluster {
    primary.globalClusterId = globalClusterId;
    secondary.globalClusterId = globalClusterId;
    const global: FakeGlobalCluster = {
      globalClusterId,
      members: [
        arnOf(primary.region, 'cluster', primary.clusterId),
        arnOf(secondary.region, 'cluster', secondary.clusterId),
      ],
      writerArn: arnOf(primary.region, 'cluster', primary.clusterId),
      operationPolls: 0,
    };
    this.state.globals.set(globalClusterId, global);
    return global;
  }

  /** The patient-portal pair: primary in us-east-1, cross-region replica in us-west-2, and the fence group. */
  static portalPair(options: FakeRdsOptions = {}): {
    rds: FakeRds;
    primary: FakeRdsInstance;
    replica: FakeRdsInstance;
  } {
    const rds = new FakeRds(options);
    rds.addSecurityGroup('us-east-1', 'drctl-fence-deny-all', 0);
    const primary = rds.addInstance({ instanceId: 'patient-portal-primary', region: 'us-east-1' });
    const replica = rds.addInstance({
      instanceId: 'patient-portal-replica',
      region: 'us-west-2',
      replicaOf: 'arn:aws:rds:us-east-1:123456789012:db:patient-portal-primary',
    });
    return { rds, primary, replica };
  }

  private guard(region: string, what: string): void {
    if (this.failWith !== undefined) throw this.failWith;
    if (this.state.regionsDown.has(region)) {
      throw regionUnreachableFailure(region, what, 'connection failed (ECONNRESET)');
    }
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

  private instance(region: string, id: string): FakeRdsInstance {
    const i = this.state.instances.get(`${region}/${id}`);
    if (i === undefined)
      throw permanentFailure(PermanentFailure.NotFound, `DBInstanceNotFound: ${id} in ${region}`);
    return i;
  }

  private replicasOf(i: FakeRdsInstance): string[] {
    return [...this.state.instances.values()]
      .filter((other) => other.replicaOf !== null && sourceNames(other.replicaOf, i.instanceId))
      .map((other) => other.instanceId);
  }

  async describeInstance(region: string, instanceId: string): Promise<RdsInstance | null> {
    this.guard(region, `DescribeDBInstances ${instanceId}`);
    const key = `${region}/${instanceId}`;
    this.tick(key);
    this.tick(`groups:${key}`);
    const i = this.state.instances.get(key);
    return i === undefined ? null : this.view(region, i);
  }

  /** The instance as RDS shows it (a describe, or the answer to a change). */
  private view(region: string, i: FakeRdsInstance): RdsInstance {
    return {
      instanceId: i.instanceId,
      arn: arnOf(region, 'db', i.instanceId),
      status: i.status,
      replicaOf: i.replicaOf,
      readReplicas: this.replicasOf(i),
      endpoint: i.endpoint,
      port: 5432,
      securityGroups: i.securityGroups.map((id) => ({ id, status: i.groupStatuses?.[id] ?? 'active' })),
      tags: { ...i.tags },
    };
  }

  async describeCluster(region: string, clusterId: string): Promise<RdsCluster | null> {
    this.guard(region, `DescribeDBClusters ${clusterId}`);
    const key = `cluster:${region}/${clusterId}`;
    this.tick(key);
    const c = this.state.clusters.get(`${region}/${clusterId}`);
    if (c === undefined) return null;
    const global = c.globalClusterId === null ? undefined : this.state.globals.get(c.globalClusterId);
    const arn = arnOf(region, 'cluster', clusterId);
    return {
      clusterId,
      arn,
      status: c.status,
      engineVersion: c.engineVersion,
      endpoint: c.endpoint,
      readerEndpoint: null,
      // A global database's secondary has no writer instance.
      members: c.members.map((m) => ({
        ...m,
        isWriter: m.isWriter && (global === undefined || global.writerArn === arn),
      })),
      globalClusterId: c.globalClusterId,
    };
  }

  async promoteReadReplica(region: string, instanceId: string): Promise<void> {
    this.guard(region, `PromoteReadReplica ${instanceId}`);
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
    this.guard(region, `StopDBInstance ${instanceId}`);
    const i = this.instance(region, instanceId);
    if (i.replicaOf !== null) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `StopDBInstance ${instanceId} in ${region}: refused in its current state (InvalidDBInstanceState: Cannot stop or start a Read-Replica instance)`,
      );
    }
    const replicas = this.replicasOf(i);
    if ((this.options.refuseStopWithReadReplicas ?? true) && replicas.length > 0) {
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
    this.guard(region, `StartDBInstance ${instanceId}`);
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
    this.guard(region, `FailoverDBCluster ${clusterId}`);
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

  async setInstanceSecurityGroups(
    region: string,
    instanceId: string,
    groupIds: string[],
  ): Promise<RdsInstance> {
    this.guard(region, `ModifyDBInstance ${instanceId}`);
    const i = this.instance(region, instanceId);
    // RDS refuses a modification of an instance that is not available (backups go on beside one).
    if (i.status !== 'available' && i.status !== 'backing-up') {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `InvalidDBInstanceState: ${instanceId} is ${i.status}`,
      );
    }
    const unknown = groupIds.filter((id) => !this.state.securityGroups.has(id));
    if (unknown.length > 0) {
      throw permanentFailure(PermanentFailure.NotFound, `InvalidVPCSecurityGroupId: ${unknown.join(', ')}`);
    }
    // Its own key: a group change in flight must not stand in for a promotion's or a stop's (nor they for it).
    const key = `groups:${region}/${instanceId}`;
    const settle = () => {
      i.securityGroups = [...groupIds];
      delete i.groupStatuses;
    };
    const leaving = i.securityGroups.filter((id) => !groupIds.includes(id));
    const joining = groupIds.filter((id) => !i.securityGroups.includes(id));
    if (i.groupChangePolls <= 0) {
      this.pending.delete(key);
      settle();
      const answer = this.view(region, i);
      if (i.busyAfterGroupChangePolls > 0) {
        const status = i.status;
        i.status = 'modifying';
        this.pending.set(key, {
          polls: i.busyAfterGroupChangePolls,
          settle: () => {
            i.status = status;
          },
        });
      }
      return answer;
    }
    i.groupStatuses = Object.fromEntries([
      ...joining.map((id) => [id, 'adding']),
      ...leaving.map((id) => [id, 'removing']),
    ]);
    i.securityGroups = [...groupIds, ...leaving];
    this.pending.set(key, { polls: i.groupChangePolls - 1, settle });
    return this.view(region, i);
  }

  async rebootInstance(region: string, instanceId: string): Promise<void> {
    this.guard(region, `RebootDBInstance ${instanceId}`);
    const i = this.instance(region, instanceId);
    if (i.status !== 'available') {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `InvalidDBInstanceState: ${instanceId} is ${i.status}`,
      );
    }
    this.state.reboots.push(instanceId);
    if (i.rebootingPolls <= 0) return;
    i.status = 'rebooting';
    this.pending.set(`${region}/${instanceId}`, {
      polls: i.rebootingPolls,
      settle: () => {
        i.status = 'available';
      },
    });
  }

  async tagResource(region: string, arn: string, tags: Record<string, string>): Promise<void> {
    this.guard(region, `AddTagsToResource ${arn}`);
    const i = [...this.state.instances.values()].find((x) => arnOf(x.region, 'db', x.instanceId) === arn);
    if (i === undefined) throw permanentFailure(PermanentFailure.NotFound, `DBInstanceNotFound: ${arn}`);
    // RDS checks every tag before it adds any (one call, all or nothing).
    for (const [key, value] of Object.entries(tags)) {
      const refused = tagRefusal(key, value);
      if (refused !== undefined) throw permanentFailure(PermanentFailure.InvalidState, refused);
    }
    // "Each Amazon RDS resource can have up to 50 tags" (USER_Tagging); a key already there is replaced.
    const after = new Set([...Object.keys(i.tags), ...Object.keys(tags)]).size;
    if (after > 50)
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `InvalidParameterValue: ${i.instanceId} would carry ${after} tags, more than 50`,
      );
    for (const [key, value] of Object.entries(tags)) {
      i.tags[key] = value;
      this.state.tagWrites.push(`${i.instanceId} ${key}`);
    }
  }

  async untagResource(region: string, arn: string, keys: string[]): Promise<void> {
    this.guard(region, `RemoveTagsFromResource ${arn}`);
    const i = [...this.state.instances.values()].find((x) => arnOf(x.region, 'db', x.instanceId) === arn);
    for (const key of keys) if (i !== undefined) delete i.tags[key];
  }

  async findSecurityGroups(region: string, query: SecurityGroupQuery): Promise<SecurityGroup[]> {
    this.guard(region, 'DescribeSecurityGroups');
    return [...this.state.securityGroups.values()]
      .filter((g) => g.region === region)
      .filter((g) => query.ids === undefined || query.ids.includes(g.id))
      .filter((g) => query.name === undefined || g.name === query.name)
      .filter((g) => query.vpcId === undefined || g.vpcId === query.vpcId)
      .map(({ region: _region, ...group }) => group);
  }

  async describeGlobalCluster(region: string, globalClusterId: string): Promise<RdsGlobalCluster | null> {
    this.guard(region, `DescribeGlobalClusters ${globalClusterId}`);
    this.tick(`global:${globalClusterId}`);
    const g = this.state.globals.get(globalClusterId);
    if (g === undefined) return null;
    const running = this.pending.get(`global:${globalClusterId}`);
    return {
      globalClusterId,
      status: running ? 'switching-over' : 'available',
      members: g.members.map((clusterArn) => ({ clusterArn, isWriter: clusterArn === g.writerArn })),
      failover: running
        ? { status: 'switching-over', fromArn: g.writerArn, toArn: null, dataLossAllowed: false }
        : null,
    };
  }

  async switchoverGlobalCluster(
    region: string,
    globalClusterId: string,
    targetClusterArn: string,
  ): Promise<void> {
    await this.globalOperation(region, globalClusterId, targetClusterArn, false);
  }

  async failoverGlobalCluster(
    region: string,
    globalClusterId: string,
    targetClusterArn: string,
  ): Promise<void> {
    await this.globalOperation(region, globalClusterId, targetClusterArn, true);
  }

  private async globalOperation(
    region: string,
    globalClusterId: string,
    targetArn: string,
    allowDataLoss: boolean,
  ): Promise<void> {
    const action = allowDataLoss ? 'FailoverGlobalCluster' : 'SwitchoverGlobalCluster';
    this.guard(region, `${action} ${globalClusterId}`);
    const g = this.state.globals.get(globalClusterId);
    if (g === undefined)
      throw permanentFailure(PermanentFailure.NotFound, `GlobalClusterNotFoundFault: ${globalClusterId}`);
    if (this.pending.has(`global:${globalClusterId}`)) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `InvalidGlobalClusterStateFault: ${globalClusterId} is in the middle of an operation`,
      );
    }
    if (!g.members.includes(targetArn)) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `InvalidDBClusterStateFault: ${targetArn} is not a member of ${globalClusterId}`,
      );
    }
    if (targetArn === g.writerArn) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `InvalidDBClusterStateFault: ${targetArn} is already the primary cluster`,
      );
    }
    const primaryRegion = g.writerArn.split(':')[3] ?? '';
    if (!allowDataLoss && this.state.regionsDown.has(primaryRegion)) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `InvalidGlobalClusterStateFault: ${globalClusterId} can't be switched over: its primary cluster in ${primaryRegion} is unavailable`,
      );
    }
    this.state.globalOperations.push(`${action} ${globalClusterId}->${targetArn}`);
    const settle = () => {
      g.writerArn = targetArn;
    };
    if (g.operationPolls <= 0) return settle();
    this.pending.set(`global:${globalClusterId}`, { polls: g.operationPolls, settle });
  }
}

/**
 * Why RDS refuses a tag, as the Tag data type states it (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html):
 * a key of 1 to 128 and a value of up to 256 Unicode characters, neither prefixed with `aws:` or `rds:`, of letters,
 * digits, white space and `_ . : / = + - @` only.
 */
function tagRefusal(key: string, value: string): string | undefined {
  const allowed = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
  const length = (text: string) => [...text].length;
  if (length(key) < 1 || length(key) > 128)
    return `InvalidParameterValue: tag key ${key} is not 1 to 128 characters`;
  if (length(value) > 256)
    return `InvalidParameterValue: the value of tag ${key} has ${length(value)} characters, more than 256`;
  if (/^(aws|rds):/i.test(key) || /^(aws|rds):/i.test(value))
    return `InvalidParameterValue: tag ${key} is prefixed with aws: or rds:`;
  if (!allowed.test(key) || !allowed.test(value))
    return `InvalidParameterValue: tag ${key}=${value} has characters RDS refuses`;
  return undefined;
}
