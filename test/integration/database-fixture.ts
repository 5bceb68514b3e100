import { RDSClient } from '@aws-sdk/client-rds';
import type { DatabaseInput } from '../../activities/contracts';
import { createDatabaseActivities } from '../fakes/database-activities';
import { createPostgresAdapter } from '../../activities/database/postgres-adapter';
import { createRdsAdapter } from '../../activities/database/rds-adapter';
import type { StackInfo } from '../../sandbox/stack-info';

/**
 * The database activities wired to the real sandbox (PostgreSQL pair, moto RDS), with the two seeded targets:
 * `ehr` (self-managed PostgreSQL) and `portal` (RDS read replica). Call `close()` in afterAll.
 */
export function realDatabaseFixture(stack: StackInfo) {
  const clients = new Map<string, RDSClient>();
  const rdsClient = (region: string): RDSClient => {
    let client = clients.get(region);
    if (!client) {
      client = new RDSClient({
        region,
        endpoint: stack.moto.endpoint,
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      });
      clients.set(region, client);
    }
    return client;
  };
  const activities = createDatabaseActivities({
    postgres: createPostgresAdapter({
      connections: {
        'ehr-primary': stack.postgres.primaryUrl,
        'ehr-replica': stack.postgres.replicaUrl,
        'ehr-app': stack.postgres.appUrl,
      },
    }),
    rds: createRdsAdapter(rdsClient),
    poll: { initialIntervalMs: 100, maxIntervalMs: 1000 },
  });
  const ehr: DatabaseInput = {
    name: 'ehr',
    target: {
      provider: 'postgres',
      primary: { connection: 'ehr-primary', endpoint: stack.postgres.primaryHost },
      replica: { connection: 'ehr-replica', endpoint: stack.postgres.replicaHost },
      applicationRoles: ['ehr_app'],
      maxLag: '30s',
    },
  };
  const portal: DatabaseInput = {
    name: 'portal',
    target: {
      provider: 'rds-instance',
      primary: stack.aws.rds.primary,
      replica: stack.aws.rds.replica,
      maxLag: '30s',
      fence: 'stop-instance',
    },
  };
  return { activities, ehr, portal, rdsClient, close: () => clients.forEach((client) => client.destroy()) };
}
