import { z } from 'zod';
import { FailbackUnsupportedError } from '../../../runbooks/failback-unsupported-error';
import { lagFields } from '../lag-fields';
import type { DatabaseProvider } from '../provider';

const member = z
  .object({
    instanceId: z.string().min(1),
    region: z.string().min(1),
    /**
     * A PostgreSQL connection (in the worker's configuration) to this instance's endpoint, for drills: with one
     * on each member a drill writes its canary to the primary and measures the RPO on the promoted replica.
     */
    connection: z.string().min(1).optional(),
  })
  .strict();

const STOP_REFUSED =
  "'stop-instance' is not a fence AWS accepts: StopDBInstance is refused on an instance with read replicas, and a stopped instance starts again after 7 days; use fence: 'security-groups' with fenceSecurityGroup";

const targetSchema = z
  .object({
    provider: z.literal('rds-instance'),
    primary: member,
    replica: member,
    ...lagFields,
    /**
     * How the old primary is fenced: `security-groups` swaps its VPC security groups for `fenceSecurityGroup` (a
     * group with no inbound rules) and reboots it to end established sessions; `none` leaves it (only when it is
     * known to be gone).
     */
    fence: z
      .enum(['security-groups', 'none'], {
        error: (issue) => (issue.input === 'stop-instance' ? STOP_REFUSED : undefined),
      })
      .default('security-groups'),
    /** Name (or `sg-…` id) of a security group with no inbound rules, in the primary's VPC. */
    fenceSecurityGroup: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((target, context) => {
    if (target.fence === 'security-groups' && target.fenceSecurityGroup === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['fenceSecurityGroup'],
        message:
          "required with fence 'security-groups': name a security group with no inbound rules in the primary's VPC (e.g. drctl-fence-deny-all)",
      });
    }
  });

/**
 * An RDS DB instance with a (cross-region) read replica. Fence: the old primary's security groups are swapped for a
 * group with no inbound rules, then it is rebooted; promotion: PromoteReadReplica, gated on CloudWatch ReplicaLag.
 */
export const rdsInstance: DatabaseProvider<typeof targetSchema> = {
  provider: 'rds-instance',
  description: 'an Amazon RDS DB instance with a read replica (PromoteReadReplica)',
  // Paced DescribeDB* calls (the worker's shared AWS pacer).
  readsLocally: false,
  targetSchema,
  failback(name) {
    throw new FailbackUnsupportedError(
      `database "${name}" is rds-instance: drctl fails back self-managed PostgreSQL only. ` +
        'For RDS, create a read replica in the original region from the new primary, then run a failover runbook that targets it.',
    );
  },
  examples: {
    valid: [
      {
        provider: 'rds-instance',
        primary: { instanceId: 'db-1', region: 'us-east-1' },
        replica: { instanceId: 'db-1-replica', region: 'us-west-2' },
        fenceSecurityGroup: 'drctl-fence-deny-all',
      },
      {
        provider: 'rds-instance',
        primary: { instanceId: 'db-1', region: 'us-east-1' },
        replica: { instanceId: 'db-1-replica', region: 'us-west-2' },
        fence: 'none',
      },
    ],
    invalid: [
      {
        target: {
          provider: 'rds-instance',
          primary: { instanceId: 'db-1', region: 'us-east-1' },
          replica: { instanceId: 'db-1-replica', region: 'us-west-2' },
          fence: 'stop-instance',
        },
        path: '.fence',
        message: /StopDBInstance is refused on an instance with read replicas/,
      },
      {
        target: {
          provider: 'rds-instance',
          primary: { instanceId: 'db-1', region: 'us-east-1' },
          replica: { instanceId: 'db-1-replica', region: 'us-west-2' },
        },
        path: '.fenceSecurityGroup',
        message: /no inbound rules/,
      },
    ],
  },
};
