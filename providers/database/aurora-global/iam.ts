import type { DatabaseProviderIam } from '../../../security/iam/database-provider-iam';
import { ANY_RESOURCE, arn } from '../../../security/iam/iam-grant';

/**
 * IAM of an Aurora Global Database: a planned run calls SwitchoverGlobalCluster, an unplanned one
 * FailoverGlobalCluster; both authorise against the global cluster and its member clusters.
 */
export const auroraGlobalIam: DatabaseProviderIam<'aurora-global'> = {
  provider: 'aurora-global',
  check: (t, c) => [
    {
      label: 'describe',
      actions: ['rds:DescribeGlobalClusters', 'rds:DescribeDBClusters'],
      resources: [
        arn.rdsGlobalCluster(c, t.globalClusterId),
        arn.rdsCluster(c, t.primary.region, t.primary.clusterId),
        arn.rdsCluster(c, t.secondary.region, t.secondary.clusterId),
      ],
      why: 'reads the global cluster and both member clusters (pre-flight, plan, polls)',
    },
    {
      label: 'lag',
      actions: ['cloudwatch:GetMetricData'],
      resources: [ANY_RESOURCE],
      why: 'reads AuroraGlobalDBRPOLag (CloudWatch metric reads take no resource)',
    },
  ],
  fence: () => [],
  promote: (t, c, mode) => [
    {
      label: mode === 'planned' ? 'switchover' : 'failover',
      actions: [mode === 'planned' ? 'rds:SwitchoverGlobalCluster' : 'rds:FailoverGlobalCluster'],
      resources: [
        arn.rdsGlobalCluster(c, t.globalClusterId),
        arn.rdsCluster(c, t.primary.region, t.primary.clusterId),
        arn.rdsCluster(c, t.secondary.region, t.secondary.clusterId),
      ],
      why:
        mode === 'planned'
          ? 'switches the writer to the secondary cluster (no data loss)'
          : 'fails over to the secondary cluster with AllowDataLoss',
    },
  ],
};
