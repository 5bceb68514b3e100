import { z } from 'zod';
import { duration } from '../../../runbooks/schema-parts';
import type { DatabaseProvider } from '../provider';

const member = z
  .object({
    /** Name of a connection in the worker's configuration; the runbook never holds credentials. */
    connection: z.string().min(1),
    /** The address clients should reach this member at; what DNS points to after a switch. */
    endpoint: z.string().min(1),
  })
  .strict();

const targetSchema = z
  .object({
    provider: z.literal('postgres'),
    primary: member,
    replica: member,
    /** The largest replication lag pre-flight accepts. */
    maxLag: duration().default('30s'),
  })
  .strict();

/** Self-managed PostgreSQL streaming replication: fence the old primary, pg_promote() the standby. */
export const postgres: DatabaseProvider<typeof targetSchema> = {
  provider: 'postgres',
  description: 'self-managed PostgreSQL with a streaming replica',
  targetSchema,
  // The original primary, rebuilt as a replica of the current one, is promoted again.
  failback: (_name, target) => ({ ...target, primary: target.replica, replica: target.primary }),
  examples: {
    valid: [
      {
        provider: 'postgres',
        primary: { connection: 'p', endpoint: '10.0.0.2' },
        replica: { connection: 'r', endpoint: '10.0.0.3' },
      },
    ],
    invalid: [
      {
        target: { provider: 'postgres', primary: { connection: 'p', endpoint: '10.0.0.2' } },
        path: '.replica',
        message: /required/,
      },
    ],
  },
};
