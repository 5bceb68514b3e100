/** The narrow port the RDS and Aurora strategies need: only the RDS calls drctl makes. */
export interface RdsPort {
  /** The instance, or null when it does not exist. */
  describeInstance(region: string, instanceId: string): Promise<RdsInstance | null>;
  /** The cluster, or null when it does not exist. */
  describeCluster(region: string, clusterId: string): Promise<RdsCluster | null>;
  /** PromoteReadReplica, then marks the instance promoted (tag `drctl:promoted-from`). */
  promoteReadReplica(region: string, instanceId: string): Promise<void>;
  stopInstance(region: string, instanceId: string): Promise<void>;
  startInstance(region: string, instanceId: string): Promise<void>;
  failoverCluster(region: string, clusterId: string, targetInstanceId: string): Promise<void>;
}

export interface RdsInstance {
  instanceId: string;
  arn: string | null;
  /** `DBInstanceStatus`: available, modifying, backing-up, stopping, stopped, … */
  status: string;
  /** `ReadReplicaSourceDBInstanceIdentifier` as RDS reports it (an id, or an ARN for cross-region). */
  readReplicaSource: string | null;
  /**
   * The source this instance still replicates from, or null when it is not (or no longer) a replica. RDS
   * drops the source id once promotion completes; an emulator may leave it, so an instance drctl has promoted
   * (tag `drctl:promoted-from` naming that same source) also counts as no longer a replica.
   */
  replicaOf: string | null;
  endpoint: string | null;
  port: number | null;
}

export interface RdsCluster {
  clusterId: string;
  status: string;
  endpoint: string | null;
  readerEndpoint: string | null;
  members: Array<{ instanceId: string; isWriter: boolean }>;
}

/** Tag drctl puts on an instance it promoted; its value is the replica's former source. */
export const PROMOTED_FROM_TAG = 'drctl:promoted-from';

/** True when `source` (an id or an ARN) names the instance `instanceId`. */
export function sourceNames(source: string, instanceId: string): boolean {
  return source === instanceId || source.endsWith(`:db:${instanceId}`);
}
