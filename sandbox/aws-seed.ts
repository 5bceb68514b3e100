import type { StackInfo } from './stack-info';
import { createSandboxAwsClients } from './aws-clients';
import { AURORA_GLOBAL, seedAuroraGlobal } from './aws-aurora-seed';
import { FENCE_SECURITY_GROUP, RDS_PRIMARY, RDS_REPLICA, seedFenceSecurityGroup, seedRds } from './rds-seed';
import { seedRoute53, ZONE_NAME } from './route53-seed';
import { BACKUP_BUCKET, BACKUP_PREFIX, BACKUP_REGION, seedBackups } from './s3-backup-seed';
import { EVIDENCE_REGION, seedEvidence } from './evidence-seed';

export const AWS_REGION = 'us-east-1';

/**
 * The lag metrics the strict layer publishes for the seeded replicas and clusters, at healthy values: ReplicaLag
 * in seconds, the Aurora metrics in milliseconds (their CloudWatch units).
 */
export const SEEDED_LAG_METRICS: StackInfo['aws']['lagMetrics'] = [
  {
    series: { metricName: 'ReplicaLag', resourceId: RDS_REPLICA.instanceId, region: RDS_REPLICA.region },
    value: 1,
  },
  {
    series: {
      metricName: 'AuroraReplicaLag',
      resourceId: AURORA_GLOBAL.primary.clusterId,
      region: AURORA_GLOBAL.primary.region,
    },
    value: 20,
  },
  {
    series: {
      metricName: 'AuroraReplicaLag',
      resourceId: AURORA_GLOBAL.secondary.clusterId,
      region: AURORA_GLOBAL.secondary.region,
    },
    value: 20,
  },
  {
    series: {
      metricName: 'AuroraGlobalDBRPOLag',
      resourceId: AURORA_GLOBAL.secondary.clusterId,
      region: AURORA_GLOBAL.secondary.region,
    },
    value: 500,
  },
];

/**
 * Seeds moto (idempotent, creates only what is missing): RDS pair, Aurora global database, Route 53 zone and
 * records, the locked backup bucket. Give it moto's own endpoint: seeding is not a client the strict layer judges.
 */
export async function seedAws(endpoint: string): Promise<StackInfo['aws']> {
  const clients = createSandboxAwsClients(endpoint);
  try {
    const { primaryEndpoint } = await seedRds(clients.rds);
    const fenceSecurityGroupId = await seedFenceSecurityGroup(clients.rds, clients.ec2);
    const aurora = await seedAuroraGlobal(clients.rds);
    const { zoneId, records } = await seedRoute53(clients.route53, primaryEndpoint);
    await seedBackups(clients.s3(BACKUP_REGION));
    await seedEvidence(clients.s3(EVIDENCE_REGION));
    return {
      region: AWS_REGION,
      rds: {
        primary: { ...RDS_PRIMARY },
        replica: { ...RDS_REPLICA },
        fenceSecurityGroup: { name: FENCE_SECURITY_GROUP, id: fenceSecurityGroupId },
      },
      route53: { zoneName: ZONE_NAME, zoneId, records },
      s3: { bucket: BACKUP_BUCKET, region: BACKUP_REGION, prefix: BACKUP_PREFIX },
      aurora,
      lagMetrics: SEEDED_LAG_METRICS.map((entry) => ({ series: { ...entry.series }, value: entry.value })),
    };
  } finally {
    clients.route53.destroy();
  }
}
