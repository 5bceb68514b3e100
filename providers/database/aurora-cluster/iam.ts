import type { DatabaseProviderIam } from '../../../security/iam/database-provider-iam';
import { ANY_RESOURCE, arn } from '../../../security/iam/iam-grant';

/** IAM of an Aurora cluster failing over to a reader; FailoverDBCluster demotes the old writer (no fence call). */
export const auroraClusterIam: DatabaseProviderIam<'aurora-cluster'> = {
  provider: 'aurora-cluster',
  check: (t, c) => [
    {
      label: 'describe',
      actions: ['rds:DescribeDBClusters'],
      resources: [arn.rdsCluster(c, t.region, t.clusterId)],
      why: 'reads the cluster and its members (pre-flight, plan, polls)',
    },
    {
      label: 'lag',
      actions: ['cloudwatch:GetMetricData'],
      resources: [ANY_RESOURCE],
      why: 'reads the reader’s replica lag metric (CloudWatch metric reads take no resource)',
    },
  ],
  fence: () => [],
  promote: (t, c) => [
    {
      label: 'failover',
      actions: ['rds:FailoverDBCluster'],
      resources: [arn.rdsCluster(c, t.region, t.clusterId), arn.rdsInstance(c, t.region, t.targetInstanceId)],
      why: `fails the cluster over to ${t.targetInstanceId}`,
    },
  ],
};
