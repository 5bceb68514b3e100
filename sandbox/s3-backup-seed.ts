import { createHash, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export const BACKUP_BUCKET = 'drctl-ehr-backups';
export const BACKUP_REGION = 'us-east-1';
export const BACKUP_PREFIX = 'ehr-db/';
export const RETENTION_DAYS = 30;
/** A backup older than this on `up` gets a fresh one beside it, so "the newest backup is recent" holds. */
const FRESHNESS_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Ensures the WORM backup bucket (Object Lock at creation, versioning, COMPLIANCE 30 days by default) and a
 * few fake base backups, the newest from now. Object Lock must be set before any object exists (moto too).
 */
export async function seedBackups(s3: S3Client): Promise<void> {
  if (!(await bucketExists(s3))) {
    await s3.send(new CreateBucketCommand({ Bucket: BACKUP_BUCKET, ObjectLockEnabledForBucket: true }));
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: BACKUP_BUCKET,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: BACKUP_BUCKET,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: RETENTION_DAYS } },
        },
      }),
    );
  }
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BACKUP_BUCKET, Prefix: BACKUP_PREFIX }));
  const newest = Math.max(0, ...(listed.Contents ?? []).map((object) => object.LastModified?.getTime() ?? 0));
  const now = Date.now();
  if ((listed.Contents ?? []).length === 0) {
    // Two older backups give restore tests something to choose between; the last one is fresh.
    for (const ageDays of [2, 1]) await putBackup(s3, new Date(now - ageDays * DAY_MS));
  }
  if (now - newest > FRESHNESS_MS) await putBackup(s3, new Date(now));
}

/** Backup keys look like `ehr-db/2026-11-27T08-30-00Z-base.tar.gz`, named after the time they stand for. */
export function backupKey(takenAt: Date): string {
  return `${BACKUP_PREFIX}${takenAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-')}-base.tar.gz`;
}

async function putBackup(s3: S3Client, takenAt: Date): Promise<void> {
  const body = Buffer.concat([
    Buffer.from(`drctl sandbox fake base backup of ehr-db taken ${takenAt.toISOString()}\n`),
    randomBytes(4096),
  ]);
  await s3.send(
    new PutObjectCommand({
      Bucket: BACKUP_BUCKET,
      Key: backupKey(takenAt),
      Body: body,
      ContentType: 'application/gzip',
      ChecksumAlgorithm: 'SHA256',
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: new Date(Date.now() + RETENTION_DAYS * DAY_MS),
      Metadata: {
        'taken-at': takenAt.toISOString(),
        'sha256-hex': createHash('sha256').update(body).digest('hex'),
      },
    }),
  );
}

async function bucketExists(s3: S3Client): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: BACKUP_BUCKET }));
    return true;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) return false;
    throw error;
  }
}
