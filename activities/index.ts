import type { Route53Port } from './dns/route53-port';
import type { S3Port } from './backups/s3-port';
import type { PostgresPort } from './database/postgres-port';
import type { RdsPort } from './database/rds-port';
import type { UnleashAdminPort } from './flags/unleash-admin-port';
import type { UnleashClientReader } from './flags/unleash-client-reader';
import type { DrctlActivities } from './contracts';
import type { DrillActivities } from './drill-contracts';
import type { CanaryPort } from './drill/canary-port';
import { createDrillActivities } from './drill/drill-activities';
import { createBackupActivities } from './backups/backup-activities';
import { createDatabaseActivities } from './database/database-activities';
import { createDnsActivities } from './dns/dns-activities';
import { resolveRecord } from './dns/resolve-record';
import { createFlagActivities } from './flags/flag-activities';
import { createProbeActivities } from './probe/probe-activities';
import { createEvidenceActivities, type EvidencePorts } from './evidence/evidence-activities';
import type { EvidenceActivities } from './evidence/evidence-contracts';

/** Every port the activities need. The worker passes real adapters; tests pass fakes. */
export interface ActivityPorts {
  route53: Route53Port;
  s3: S3Port;
  postgres: PostgresPort;
  rds: RdsPort;
  unleashAdmin: UnleashAdminPort;
  unleashReader: UnleashClientReader;
  /** The drill canary's session port (createCanaryAdapter); without it the drill activities fail, saying so. */
  canary?: CanaryPort;
  /** The evidence ledger's client, bucket and key (worker/evidence-ports.ts); without it evidence activities fail, saying so. */
  evidence?: EvidencePorts;
  now?: () => Date;
}

/** The full activity surface the workflows call, built from its ports. */
export function createActivities(
  ports: ActivityPorts,
): DrctlActivities & DrillActivities & EvidenceActivities {
  return {
    ...createDatabaseActivities({ postgres: ports.postgres, rds: ports.rds }),
    ...createDnsActivities({ route53: ports.route53 }),
    ...createFlagActivities({ admin: ports.unleashAdmin, reader: ports.unleashReader }),
    ...createBackupActivities({ s3: ports.s3, now: ports.now ?? (() => new Date()) }),
    ...createProbeActivities({
      postgres: ports.postgres,
      resolveHost: (zone, record) => resolveRecord(ports.route53, zone, record),
    }),
    ...createDrillActivities({
      canary: ports.canary,
      postgres: ports.postgres,
      rds: ports.rds,
      resolveHost: (zone, record) => resolveRecord(ports.route53, zone, record),
    }),
    ...createEvidenceActivities(ports.evidence),
  };
}
