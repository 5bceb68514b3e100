import type { DatabaseProviderIam } from '../../../security/iam/database-provider-iam';
import { ANY_RESOURCE, arn } from '../../../security/iam/iam-grant';

/**
 * IAM of an RDS instance pair. Describes are batched with a `db-instance-id` filter rather than an identifier,
 * and IAM authorises a filtered DescribeDBInstances against every instance of the Region, hence `db:*`.
 */
export const rdsInstanceIam: DatabaseProviderIam<'rds-instance'> = {
  provider: 'rds-instance',
  check: (t, c) => [
    ...(t.fence === 'none'
      ? []
      : [
          {
            label: 'security-groups',
            actions: ['ec2:DescribeSecurityGroups'],
            resources: [ANY_RESOURCE],
            why: 'finds the fence group in the primary’s VPC, in pre-flight and the fence (EC2 describes take no resource)',
          },
        ]),
    {
      label: 'describe',
      actions: ['rds:DescribeDBInstances'],
      resources: [...new Set([t.primary.region, t.replica.region])].map((r) => arn.rdsInstance(c, r, '*')),
      why: 'reads both members (pre-flight, plan, polls); batched by filter, so not scoped to one instance',
    },
    {
      label: 'lag',
      actions: ['cloudwatch:GetMetricData'],
      resources: [ANY_RESOURCE],
      why: "reads the replica's ReplicaLag metric (CloudWatch metric reads take no resource)",
    },
  ],
  fence: (t, c) =>
    t.fence === 'none'
      ? []
      : [
          {
            label: 'fence',
            actions: [
              'rds:ModifyDBInstance',
              'rds:RebootDBInstance',
              'rds:AddTagsToResource',
              'rds:RemoveTagsFromResource',
            ],
            resources: [arn.rdsInstance(c, t.primary.region, t.primary.instanceId)],
            why: 'swaps the old primary’s security groups for the deny-all group and reboots it (undo: restores them); tags it only when it has no record of the groups in the run (the fence follow-up, groups changed since the plan), and removes such a tag on undo',
          },
        ],
  promote: (t, c) => [
    {
      label: 'promote',
      actions: ['rds:PromoteReadReplica'],
      resources: [arn.rdsInstance(c, t.replica.region, t.replica.instanceId)],
      why: 'promotes the read replica',
    },
  ],
};
