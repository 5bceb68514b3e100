import type { Client } from '@temporalio/client';
import type { AwsPacer } from './aws-pacing/aws-pacer';
import type { AuthActivityDeps } from './auth/auth-activities';
import type { RunRecordDeps } from './runs/recorded-failover';
import type { EvidencePorts } from './evidence/evidence-activities';
import type { S3Port } from './backups/s3-port';
import type { PostgresPort } from './database/postgres-port';
import type { LagMetricsPort } from './database/lag-metrics-port';
import type { RdsPort } from './database/rds-port';
import type { CanaryPort } from './drill/canary-port';
import type { Route53Port } from './dns/route53-port';
import type { UnleashAdminPort } from './flags/unleash-admin-port';
import type { UnleashClientReader } from './flags/unleash-client-reader';

/** Every port the activities need. The worker passes real adapters; tests pass fakes. */
export interface ActivityPorts {
  route53: Route53Port;
  s3: S3Port;
  postgres: PostgresPort;
  rds: RdsPort;
  lagMetrics: LagMetricsPort;
  unleashAdmin: UnleashAdminPort;
  unleashReader: UnleashClientReader;
  /** The drill canary's session port (createCanaryAdapter); without it the drill activities fail, saying so. */
  canary?: CanaryPort;
  /** The evidence ledger's client, bucket and key (worker/evidence-ports.ts); without it evidence activities fail, saying so. */
  evidence?: EvidencePorts;
  /** The worker's AWS pacer, whose spare budget (or fair share of it) lets waits poll sooner; without it waits always grow. */
  pacer?: Pick<AwsPacer, 'hasSpare' | 'fairShareIntervalMs'>;
  now?: () => Date;
  /** The worker's Temporal client, for evacuations watching and aborting their child runs. */
  temporal?: Client;
  /** The worker's access policy file and reviewed runbook catalog; without them every run is refused. */
  access?: AuthActivityDeps;
  /** A client of the worker's namespace for reading recorded runs (a failback reads its failover's record). */
  runs?: RunRecordDeps;
  /** The worker's named drill failure-injection commands (config `drill.injections`). */
  drillInjections?: Readonly<Record<string, readonly string[]>>;
}

/** What every `kinds/<kind>/activities.ts` exports: its activities, built from the worker's ports. */
export interface KindActivitiesModule {
  activitiesFromPorts(ports: ActivityPorts): object;
}
