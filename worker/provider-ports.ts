import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import type { ActivityPorts } from '../activities';
import { createS3Adapter } from '../activities/backups/s3-adapter';
import { createPostgresAdapter } from '../activities/database/postgres-adapter';
import { createCanaryAdapter } from '../activities/drill/canary-adapter';
import { createLagMetricsAdapter } from '../activities/database/lag-metrics-adapter';
import { createRdsAdapter } from '../activities/database/rds-adapter';
import { createRoute53Adapter } from '../activities/dns/route53-adapter';
import { createUnleashAdminAdapter } from '../activities/flags/unleash-admin-adapter';
import { createUnleashClientReader } from '../activities/flags/unleash-client-reader';
import { timed } from '../activities/provider-timer';
import type { DrctlConfig } from './config';
import { PermanentFailure, permanentFailure } from '../activities/failures';
import type { UnleashAdminPort } from '../activities/flags/unleash-admin-port';
import type { UnleashClientReader } from '../activities/flags/unleash-client-reader';

/**
 * Builds the real provider adapters from the configuration, each wrapped so its calls count as provider time.
 * AWS credentials come from the SDK's default chain; `aws.endpoint` points every client at an emulator.
 */
export function createProviderPorts(config: DrctlConfig): { ports: ActivityPorts; close: () => void } {
  const endpoint = config.aws.endpoint === undefined ? {} : { endpoint: config.aws.endpoint };
  const clients: Array<{ destroy(): void }> = [];
  const perRegion = <C extends { destroy(): void }>(create: (region: string) => C) => {
    const cache = new Map<string, C>();
    return (region: string = config.aws.region): C => {
      let client = cache.get(region);
      if (!client) {
        client = create(region);
        cache.set(region, client);
        clients.push(client);
      }
      return client;
    };
  };
  // A Region that is down may accept connections and never answer: bound each attempt, so a step reports
  // RegionUnreachable after the SDK's retries instead of hanging until its own timeout.
  const regionalTimeouts = {
    requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
    maxAttempts: 3,
  };
  const route53Client = new Route53Client({ region: config.aws.region, ...endpoint });
  clients.push(route53Client);
  const { url, adminToken, clientToken } = config.unleash;
  const ports: ActivityPorts = {
    route53: timed(createRoute53Adapter(route53Client)),
    rds: timed(
      createRdsAdapter(
        perRegion((region) => new RDSClient({ region, ...endpoint, ...regionalTimeouts })),
        perRegion((region) => new EC2Client({ region, ...endpoint, ...regionalTimeouts })),
      ),
    ),
    lagMetrics: timed(
      createLagMetricsAdapter(
        perRegion((region) => new CloudWatchClient({ region, ...endpoint, ...regionalTimeouts })),
      ),
    ),
    s3: timed(
      createS3Adapter(
        perRegion(
          (region) =>
            new S3Client({ region, ...endpoint, forcePathStyle: config.aws.endpoint !== undefined }),
        ),
      ),
    ),
    postgres: timed(createPostgresAdapter({ connections: config.postgres.connections })),
    // Not timed: the drill canary is load on the data plane, not a step's provider call.
    canary: createCanaryAdapter({ connections: config.postgres.connections }),
    unleashAdmin: timed(
      url && adminToken
        ? createUnleashAdminAdapter({ url, token: adminToken })
        : unconfigured<UnleashAdminPort>('Unleash admin', 'UNLEASH_URL and UNLEASH_ADMIN_TOKEN'),
    ),
    unleashReader: timed(
      url && clientToken
        ? createUnleashClientReader({ url, clientToken })
        : unconfigured<UnleashClientReader>('Unleash client', 'UNLEASH_URL and UNLEASH_CLIENT_TOKEN'),
    ),
  };
  return { ports, close: () => clients.forEach((client) => client.destroy()) };
}

/**
 * A port for a provider the configuration does not set up: a worker serving only RDS runbooks needs no
 * Unleash, so the gap is reported (permanently, with what to set) only when a step actually uses it.
 */
function unconfigured<T extends object>(provider: string, settings: string): T {
  return new Proxy({} as T, {
    get: () => async () => {
      throw permanentFailure(
        PermanentFailure.ConfigurationMissing,
        `${provider} is not configured on this worker: set ${settings}`,
      );
    },
  });
}
