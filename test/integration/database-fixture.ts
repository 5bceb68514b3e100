import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { createLagMetricsAdapter } from '../../activities/database/lag-metrics-adapter';
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
  const clients = new Map<string, { destroy(): void }>();
  const perRegion =
    <C extends { destroy(): void }>(kind: string, create: (options: object) => C) =>
    (region: string): C => {
      let client = clients.get(`${kind}/${region}`) as C | undefined;
      if (!client) {
        client = create({
          region,
          endpoint: stack.moto.endpoint,
          credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
          maxAttempts: 2,
        });
        clients.set(`${kind}/${region}`, client);
      }
      return client;
    };
  const rdsClient = perRegion('rds', (options) => new RDSClient(options));
  const ec2Client = perRegion('ec2', (options) => new EC2Client(options));
  const cloudWatchClient = perRegion('cloudwatch', (options) => new CloudWatchClient(options));
  const activities = createDatabaseActivities({
    postgres: createPostgresAdapter({
      connections: {
        'ehr-primary': stack.postgres.primaryUrl,
        'ehr-replica': stack.postgres.replicaUrl,
        'ehr-app': stack.postgres.appUrl,
      },
    }),
    rds: createRdsAdapter(rdsClient, ec2Client),
    lagMetrics: createLagMetricsAdapter(cloudWatchClient),
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
      fence: 'security-groups',
      fenceSecurityGroup: 'drctl-fence-deny-all',
      acceptUnknownLag: false,
    },
  };
  return {
    activities,
    ehr,
    portal,
    rdsClient,
    ec2Client,
    cloudWatchClient,
    close: () => clients.forEach((client) => client.destroy()),
  };
}
