import type { StackInfo } from './stack-info';
import { createSandboxAwsClients } from './aws-clients';
import { RDS_PRIMARY, RDS_REPLICA, seedRds } from './rds-seed';
import { seedRoute53, ZONE_NAME } from './route53-seed';
import { BACKUP_BUCKET, BACKUP_PREFIX, BACKUP_REGION, seedBackups } from './s3-backup-seed';
import { EVIDENCE_REGION, seedEvidence } from './evidence-seed';

export const AWS_REGION = 'us-east-1';

/** Seeds moto (idempotent, creates only what is missing): RDS pair, Route 53 zone and records, the locked backup bucket. */
export async function seedAws(endpoint: string): Promise<StackInfo['aws']> {
  const clients = createSandboxAwsClients(endpoint);
  try {
    const { primaryEndpoint } = await seedRds(clients.rds);
    const { zoneId, records } = await seedRoute53(clients.route53, primaryEndpoint);
    await seedBackups(clients.s3(BACKUP_REGION));
    await seedEvidence(clients.s3(EVIDENCE_REGION));
    return {
      region: AWS_REGION,
      rds: { primary: { ...RDS_PRIMARY }, replica: { ...RDS_REPLICA } },
      route53: { zoneName: ZONE_NAME, zoneId, records },
      s3: { bucket: BACKUP_BUCKET, region: BACKUP_REGION, prefix: BACKUP_PREFIX },
    };
  } finally {
    clients.route53.destroy();
  }
}
