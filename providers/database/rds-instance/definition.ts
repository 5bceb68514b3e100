import { z } from 'zod';
import { FailbackUnsupportedError } from '../../../runbooks/failback-unsupported-error';
import { duration } from '../../../runbooks/schema-parts';
import type { DatabaseProvider } from '../provider';

const member = z.object({ instanceId: z.string().min(1), region: z.string().min(1) }).strict();

const targetSchema = z
  .object({
    provider: z.literal('rds-instance'),
    primary: member,
    replica: member,
    maxLag: duration().default('30s'),
    /** How the old primary is fenced: stop it, or leave it (only when it is known to be gone). */
    fence: z.enum(['stop-instance', 'none']).default('stop-instance'),
  })
  .strict();

/** An RDS DB instance with a (cross-region) read replica: PromoteReadReplica. */
export const rdsInstance: DatabaseProvider<typeof targetSchema> = {
  provider: 'rds-instance',
  description: 'an Amazon RDS DB instance with a read replica (PromoteReadReplica)',
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
      },
    ],
    invalid: [
      {
        target: {
          provider: 'rds-instance',
          primary: { instanceId: 'db-1', region: 'us-east-1' },
          replica: { instanceId: 'db-1-replica', region: 'us-west-2' },
          fence: 'reboot',
        },
        path: '.fence',
        message: /"stop-instance", "none"/,
      },
    ],
  },
};
