import { z } from 'zod';
import { FailbackUnsupportedError } from '../../../runbooks/failback-unsupported-error';
import { lagFields } from '../lag-fields';
import type { DatabaseProvider } from '../provider';

const targetSchema = z
  .object({
    provider: z.literal('aurora-cluster'),
    clusterId: z.string().min(1),
    region: z.string().min(1),
    /** The reader instance to promote to writer. */
    targetInstanceId: z.string().min(1),
    /** Gated on CloudWatch AuroraReplicaLag of the cluster. */
    ...lagFields,
  })
  .strict();

/** An Aurora DB cluster: FailoverDBCluster to a chosen reader, which demotes the old writer itself. */
export const auroraCluster: DatabaseProvider<typeof targetSchema> = {
  provider: 'aurora-cluster',
  description: 'an Amazon Aurora DB cluster (FailoverDBCluster to a chosen reader)',
  // Paced DescribeDB* calls (the worker's shared AWS pacer).
  readsLocally: false,
  targetSchema,
  failback(name) {
    throw new FailbackUnsupportedError(
      `database "${name}" is aurora-cluster: drctl fails back self-managed PostgreSQL only. ` +
        'For Aurora, run a failover runbook whose targetInstanceId names the original writer.',
    );
  },
  examples: {
    valid: [
      { provider: 'aurora-cluster', clusterId: 'c1', region: 'us-east-1', targetInstanceId: 'c1-reader' },
    ],
    invalid: [
      {
        target: { provider: 'aurora-cluster', clusterId: 'c1', region: 'us-east-1' },
        path: '.targetInstanceId',
        message: /required/,
      },
    ],
  },
};
