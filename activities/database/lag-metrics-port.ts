/**
 * Replication lag as RDS and Aurora publish it to CloudWatch (namespace AWS/RDS): `ReplicaLag` (seconds, per
 * DBInstanceIdentifier) for RDS read replicas, `AuroraReplicaLag` and `AuroraGlobalDBRPOLag` (milliseconds, per
 * DBClusterIdentifier) for Aurora
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html).
 */
export interface LagMetricsPort {
  /** The newest datapoint of the series within the last `windowMs`, converted to ms; null when there is none. */
  latestLag(query: LagQuery): Promise<LagReading | null>;
}

export type LagMetricName = 'ReplicaLag' | 'AuroraReplicaLag' | 'AuroraGlobalDBRPOLag';

export interface LagQuery {
  region: string;
  metricName: LagMetricName;
  /** The DBInstanceIdentifier (ReplicaLag) or DBClusterIdentifier (the Aurora metrics). */
  resourceId: string;
  /** How far back a datapoint may be. Default 5 minutes. */
  windowMs?: number;
}

export interface LagReading {
  lagMs: number;
  /** The datapoint's timestamp. */
  at: Date;
  /** Names the series, for messages: `ReplicaLag of patient-portal-replica in us-west-2`. */
  source: string;
}

/** The dimension each metric is published per. */
export const LAG_METRIC_DIMENSION: Record<LagMetricName, string> = {
  ReplicaLag: 'DBInstanceIdentifier',
  AuroraReplicaLag: 'DBClusterIdentifier',
  AuroraGlobalDBRPOLag: 'DBClusterIdentifier',
};

/** CloudWatch unit of each metric, and its factor to milliseconds. */
export const LAG_METRIC_TO_MS: Record<LagMetricName, number> = {
  ReplicaLag: 1000,
  AuroraReplicaLag: 1,
  AuroraGlobalDBRPOLag: 1,
};
