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
    /**
     * The roles the application logs in as. The fence takes their LOGIN away and ends their sessions, which no
     * client can undo (a read-only default alone is advisory); the promotion gives LOGIN back on the new primary.
     * Every role the application uses to write must be listed; drctl's own connection role must not be.
     */
    applicationRoles: z.array(z.string().min(1).max(63)).min(1, {
      message:
        'list the roles the application logs in as (e.g. ["ehr_app"]): the fence takes their login away',
    }),
    /**
     * The largest replication lag pre-flight accepts; also how long a promotion after a fence waits for the replica
     * to replay the fenced primary's last WAL before it stops for a decision.
     */
    maxLag: duration().default('30s'),
  })
  .strict()
  .superRefine((target, context) => {
    for (const role of new Set(target.applicationRoles)) {
      if (target.applicationRoles.indexOf(role) !== target.applicationRoles.lastIndexOf(role)) {
        context.addIssue({ code: 'custom', path: ['applicationRoles'], message: `lists "${role}" twice` });
      }
    }
  });

/** Self-managed PostgreSQL streaming replication: fence the old primary, pg_promote() the standby. */
export const postgres: DatabaseProvider<typeof targetSchema> = {
  provider: 'postgres',
  description: 'self-managed PostgreSQL with a streaming replica',
  // A few SQL queries on the worker's own connections per read.
  readsLocally: true,
  targetSchema,
  // The original primary, rebuilt as a replica of the current one, is promoted again.
  failback: (_name, target) => ({ ...target, primary: target.replica, replica: target.primary }),
  examples: {
    valid: [
      {
        provider: 'postgres',
        primary: { connection: 'p', endpoint: '10.0.0.2' },
        replica: { connection: 'r', endpoint: '10.0.0.3' },
        applicationRoles: ['app'],
      },
    ],
    invalid: [
      {
        target: {
          provider: 'postgres',
          primary: { connection: 'p', endpoint: '10.0.0.2' },
          replica: { connection: 'r', endpoint: '10.0.0.3' },
          applicationRoles: [],
        },
        path: '.applicationRoles',
        message: /the fence takes their login away/,
      },
      {
        target: {
          provider: 'postgres',
          primary: { connection: 'p', endpoint: '10.0.0.2' },
          applicationRoles: ['app'],
        },
        path: '.replica',
        message: /required/,
      },
    ],
  },
};
