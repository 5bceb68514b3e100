import { z } from 'zod';
import { lagFields } from '../lag-fields';
import type { DatabaseProvider } from '../provider';

const member = z.object({ clusterId: z.string().min(1), region: z.string().min(1) }).strict();

const targetSchema = z
  .object({
    provider: z.literal('aurora-global'),
    globalClusterId: z.string().min(1),
    /** The cluster that writes now. */
    primary: member,
    /** The secondary cluster (in another Region) that becomes the writer. */
    secondary: member,
    /** Gated on CloudWatch AuroraGlobalDBRPOLag of the secondary cluster. */
    ...lagFields,
  })
  .strict();

/**
 * An Aurora Global Database: a planned run switches over (SwitchoverGlobalCluster, no data loss), an unplanned run
 * fails over with AllowDataLoss (FailoverGlobalCluster), gated on AuroraGlobalDBRPOLag. The operation itself makes
 * the old primary a read-only secondary; there is no separate fence.
 */
export const auroraGlobal: DatabaseProvider<typeof targetSchema> = {
  provider: 'aurora-global',
  description:
    'an Amazon Aurora Global Database (SwitchoverGlobalCluster planned, FailoverGlobalCluster AllowDataLoss unplanned)',
  // Paced DescribeDB* calls (the worker's shared AWS pacer).
  readsLocally: false,
  targetSchema,
  failback(_name, target) {
    return { ...target, primary: target.secondary, secondary: target.primary };
  },
  examples: {
    valid: [
      {
        provider: 'aurora-global',
        globalClusterId: 'g1',
        primary: { clusterId: 'g1-east', region: 'us-east-1' },
        secondary: { clusterId: 'g1-west', region: 'us-west-2' },
      },
    ],
    invalid: [
      {
        target: {
          provider: 'aurora-global',
          globalClusterId: 'g1',
          primary: { clusterId: 'g1-east', region: 'us-east-1' },
        },
        path: '.secondary',
        message: /required/,
      },
    ],
  },
};
