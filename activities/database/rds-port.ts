/** The narrow port the RDS and Aurora strategies need: only the RDS (and EC2 security group) calls drctl makes. */
export interface RdsPort {
  /** The instance, or null when it does not exist. */
  describeInstance(region: string, instanceId: string): Promise<RdsInstance | null>;
  /** The cluster, or null when it does not exist. */
  describeCluster(region: string, clusterId: string): Promise<RdsCluster | null>;
  /** PromoteReadReplica (RDS refuses it for an instance that is not, or no longer, a read replica). */
  promoteReadReplica(region: string, instanceId: string): Promise<void>;
  stopInstance(region: string, instanceId: string): Promise<void>;
  startInstance(region: string, instanceId: string): Promise<void>;
  failoverCluster(region: string, clusterId: string, targetInstanceId: string): Promise<void>;
  /**
   * ModifyDBInstance with VpcSecurityGroupIds and ApplyImmediately: the instance's security groups become
   * `groupIds`. Resolves with the instance as RDS's answer shows it once it accepted the change (the groups may
   * still be on their way), or null when the answer carries none.
   */
  setInstanceSecurityGroups(
    region: string,
    instanceId: string,
    groupIds: string[],
  ): Promise<RdsInstance | null>;
  /** RebootDBInstance: ends every established session. */
  rebootInstance(region: string, instanceId: string): Promise<void>;
  /** AddTagsToResource on an RDS resource ARN: every tag in one call (RDS adds them all or none). */
  tagResource(region: string, arn: string, tags: Record<string, string>): Promise<void>;
  /** RemoveTagsFromResource: every key in one call. */
  untagResource(region: string, arn: string, keys: string[]): Promise<void>;
  /** EC2 DescribeSecurityGroups by ids, or by group name within a VPC. */
  findSecurityGroups(region: string, query: SecurityGroupQuery): Promise<SecurityGroup[]>;
  /** The Aurora global database, or null when it does not exist. */
  describeGlobalCluster(region: string, globalClusterId: string): Promise<RdsGlobalCluster | null>;
  /** SwitchoverGlobalCluster: planned, no data loss; the target is a secondary cluster's ARN. */
  switchoverGlobalCluster(region: string, globalClusterId: string, targetClusterArn: string): Promise<void>;
  /** FailoverGlobalCluster with AllowDataLoss: for an outage of the primary Region. */
  failoverGlobalCluster(region: string, globalClusterId: string, targetClusterArn: string): Promise<void>;
}

export interface RdsInstance {
  instanceId: string;
  arn: string | null;
  /** `DBInstanceStatus`: available, modifying, backing-up, stopping, stopped, rebooting, … */
  status: string;
  /**
   * `ReadReplicaSourceDBInstanceIdentifier` (an id, or an ARN for cross-region): the source this instance still
   * replicates from, or null when it is not (or no longer) a replica. RDS drops it once a promotion completes
   * (moto keeps it; the sandbox's strict AWS layer drops it as RDS does).
   */
  replicaOf: string | null;
  /** `ReadReplicaDBInstanceIdentifiers`: the replicas still attached to this instance. */
  readReplicas: string[];
  endpoint: string | null;
  port: number | null;
  /** `VpcSecurityGroups`: id and status (`active`, `adding`, `removing`, …). */
  securityGroups: Array<{ id: string; status: string }>;
  tags: Record<string, string>;
}

export interface RdsCluster {
  clusterId: string;
  arn: string | null;
  status: string;
  engineVersion: string | null;
  endpoint: string | null;
  readerEndpoint: string | null;
  members: Array<{ instanceId: string; isWriter: boolean }>;
  /** The global database this cluster belongs to, if any. */
  globalClusterId: string | null;
}

export interface RdsGlobalCluster {
  globalClusterId: string;
  status: string;
  members: Array<{ clusterArn: string; isWriter: boolean }>;
  /** `FailoverState`: empty unless a switchover or failover is scheduled or in progress. */
  failover: { status: string; fromArn: string | null; toArn: string | null; dataLossAllowed: boolean } | null;
}

export interface SecurityGroupQuery {
  ids?: string[];
  name?: string;
  vpcId?: string;
}

export interface SecurityGroup {
  id: string;
  name: string;
  vpcId: string | null;
  /** Number of inbound rules: a group that fences must have none. */
  inboundRules: number;
}

/** Tag drctl puts on an instance it fenced, before changing it: the fence and the security groups it replaced. */
export const FENCE_TAG = 'drctl:fence';

/** True when `source` (an id or an ARN) names the instance `instanceId`. */
export function sourceNames(source: string, instanceId: string): boolean {
  return source === instanceId || source.endsWith(`:db:${instanceId}`);
}
