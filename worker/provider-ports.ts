import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ActivityPorts } from '../activities';
import { AwsPacer } from '../activities/aws-pacing/aws-pacer';
import { keepAliveDuringCalls } from '../activities/aws-pacing/keep-alive-client';
import { paceClient } from '../activities/aws-pacing/paced-client';
import { createS3Adapter } from '../activities/backups/s3-adapter';
import { createPostgresAdapter, unknownConnection } from '../activities/database/postgres-adapter';
import { createCanaryAdapter } from '../activities/drill/canary-adapter';
import { createLagMetricsAdapter } from '../activities/database/lag-metrics-adapter';
import { createRdsAdapter, rdsGatherMs } from '../activities/database/rds-adapter';
import { createRoute53Adapter } from '../activities/dns/route53-adapter';
import { createUnleashAdminAdapter, unleashAdminInFlight } from '../activities/flags/unleash-admin-adapter';
import { createUnleashClientReader } from '../activities/flags/unleash-client-reader';
import { timed } from '../activities/provider-timer';
import type { DrctlConfig } from './config';
import { PermanentFailure, permanentFailure } from '../activities/failures';
import type { PostgresPort } from '../activities/database/postgres-port';
import type { CanaryPort } from '../activities/drill/canary-port';
import type { UnleashAdminPort } from '../activities/flags/unleash-admin-port';
import type { UnleashClientReader } from '../activities/flags/unleash-client-reader';
import { connectionUrlFromSecret } from '../security/secrets/connection-secret';
import { SecretResolver } from '../security/secrets/secret-resolver';
import { withSecretFailures } from '../security/secrets/secret-failure';
import { createSecretsManagerAdapter } from '../security/secrets/secrets-manager-adapter';

/**
 * Builds the real provider adapters from the configuration, each wrapped so its calls count as provider time.
 * AWS credentials come from the SDK's default chain; `aws.endpoint` points every client at an emulator. Route 53,
 * RDS, CloudWatch and EC2 clients are paced by one `AwsPacer` (token buckets per account and API, shared by every
 * run on this worker). Every AWS client keeps the calling activity heartbeating while a call is outstanding.
 *
 * The paced clients use the SDK's standard retry mode, not its adaptive one: the pacer already slows every call of
 * the account after a throttle (it empties its bucket), and the adaptive mode's client-side limiter also counts
 * Route 53's PriorRequestNotComplete (a zone busy with an earlier change, not a rate) as throttling, and after a
 * few throttles held the client at about half a call a second for every run on the worker (a read throttled 5
 * times took 14 s, against 8.5 s in standard mode, most of it the SDK's own backoff; `test/unit/ec2-pacing.test.ts`).
 */
export function createProviderPorts(config: DrctlConfig): {
  ports: ActivityPorts;
  pacer: AwsPacer;
  close: () => void;
} {
  const endpoint = config.aws.endpoint === undefined ? {} : { endpoint: config.aws.endpoint };
  const pacer = new AwsPacer(config.aws.pacing);
  const retry = { retryMode: 'standard', maxAttempts: 5 } as const;
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
  // A Region that is down (or Route 53's control plane, in us-east-1) may accept connections and never answer:
  // bound each attempt, so a step reports RegionUnreachable after the SDK's retries instead of hanging until its
  // own timeout, and reads sharing a call in flight are not held by one that hangs.
  const regionalTimeouts = {
    ...retry,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
  };
  const route53Client = new Route53Client({ region: config.aws.region, ...endpoint, ...regionalTimeouts });
  paceClient(route53Client, pacer, 'route53', 'global');
  clients.push(route53Client);
  const secretsClient = new SecretsManagerClient({ region: config.aws.region, ...endpoint });
  clients.push(secretsClient);
  const secrets = new SecretResolver(createSecretsManagerAdapter(secretsClient), {
    ttlMs: config.secrets.cacheTtlMs,
  });
  const connectionsFor = connectionResolver(config.postgres.connections, secrets);
  const { url, adminToken, clientToken } = config.unleash;
  // One limit for every Admin API adapter: withSecret builds one per call, with the token it resolves then.
  const unleashAdminInFlightLimit = unleashAdminInFlight();
  const ports: ActivityPorts = {
    pacer,
    route53: timed(createRoute53Adapter(route53Client)),
    rds: timed(
      createRdsAdapter(
        perRegion((region) => {
          const client = new RDSClient({ region, ...endpoint, ...regionalTimeouts });
          paceClient(client, pacer, 'rds', region);
          return client;
        }),
        perRegion((region) => {
          const client = new EC2Client({ region, ...endpoint, ...regionalTimeouts });
          paceClient(client, pacer, 'ec2', region);
          return client;
        }),
        { gatherMs: rdsGatherMs(pacer) },
      ),
    ),
    lagMetrics: timed(
      createLagMetricsAdapter(
        perRegion((region) => {
          const client = new CloudWatchClient({ region, ...endpoint, ...regionalTimeouts });
          paceClient(client, pacer, 'cloudwatch', region);
          return client;
        }),
      ),
    ),
    s3: timed(
      createS3Adapter(
        perRegion((region) => {
          const client = new S3Client({
            region,
            ...endpoint,
            forcePathStyle: config.aws.endpoint !== undefined,
          });
          keepAliveDuringCalls(client);
          return client;
        }),
      ),
    ),
    postgres: timed(
      perConnection<PostgresPort>(connectionsFor, (connections) => createPostgresAdapter({ connections })),
    ),
    // Not timed: the drill canary is load on the data plane, not a step's provider call.
    canary: perConnection<CanaryPort>(connectionsFor, (connections) => createCanaryAdapter({ connections })),
    unleashAdmin: timed(
      url && adminToken
        ? withSecret<UnleashAdminPort>(
            () => secrets.resolve(adminToken, 'unleash.adminToken'),
            'Unleash admin token',
            (token) => createUnleashAdminAdapter({ url, token, inFlight: unleashAdminInFlightLimit }),
          )
        : unconfigured<UnleashAdminPort>('Unleash admin', 'UNLEASH_URL and UNLEASH_ADMIN_TOKEN'),
    ),
    unleashReader: timed(
      url && clientToken
        ? withSecret<UnleashClientReader>(
            () => secrets.resolve(clientToken, 'unleash.clientToken'),
            'Unleash client token',
            (token) => createUnleashClientReader({ url, clientToken: token }),
          )
        : unconfigured<UnleashClientReader>('Unleash client', 'UNLEASH_URL and UNLEASH_CLIENT_TOKEN'),
    ),
  };
  return { ports, pacer, close: () => clients.forEach((client) => client.destroy()) };
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

type Connections = Record<string, string>;

/**
 * The connection map an adapter needs for one call: the plain URLs, plus the named connection's URL read from
 * Secrets Manager when the configuration names a secret for it (cached by the resolver, re-read after its TTL).
 */
function connectionResolver(
  configured: DrctlConfig['postgres']['connections'],
  secrets: SecretResolver,
): (name: string) => Promise<Connections> {
  const plain: Connections = {};
  for (const [name, source] of Object.entries(configured))
    if (typeof source === 'string') plain[name] = source;
  return async (name) => {
    const source = configured[name];
    // Named here, where every configured name is known: the adapters see only the plain URLs and this one.
    if (source === undefined) throw unknownConnection(name, Object.keys(configured));
    if (typeof source === 'string') return plain;
    const what = `PostgreSQL connection "${name}"`;
    const url = await withSecretFailures(what, async () => {
      const value = await secrets.resolve(source, `postgres.connections.${name}`);
      return connectionUrlFromSecret(typeof source === 'object' ? source.secret : name, value);
    });
    return { ...plain, [name]: url };
  };
}

/**
 * A port whose every method takes the connection name first, built per call over the connections resolved for
 * that name: adapters stay synchronous over a plain map, and a rotated secret is used once the cache expires.
 */
function perConnection<P extends object>(
  connectionsFor: (name: string) => Promise<Connections>,
  build: (connections: Connections) => P,
): P {
  return new Proxy({} as P, {
    get: (_target, method) =>
      typeof method !== 'string' || method === 'then'
        ? undefined
        : async (connection: string, ...rest: unknown[]) => {
            const port = build(await connectionsFor(connection)) as Record<
              PropertyKey,
              (...args: unknown[]) => unknown
            >;
            return port[method]!(connection, ...rest);
          },
  });
}

/** A port built per call with a secret (e.g. an API token) resolved first; a missing secret fails permanently. */
function withSecret<P extends object>(
  resolve: () => Promise<string>,
  what: string,
  build: (value: string) => P,
): P {
  return new Proxy({} as P, {
    get: (_target, method) =>
      typeof method !== 'string' || method === 'then'
        ? undefined
        : async (...args: unknown[]) => {
            const port = build(await withSecretFailures(what, resolve)) as Record<
              PropertyKey,
              (...a: unknown[]) => unknown
            >;
            return port[method]!(...args);
          },
  });
}
