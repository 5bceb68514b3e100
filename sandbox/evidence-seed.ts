import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { EvidenceSettings } from '../worker/config';
import { sandboxPaths } from './sandbox-paths';

export const EVIDENCE_BUCKET = 'drctl-evidence';
export const EVIDENCE_REGION = 'us-east-1';
export const EVIDENCE_RETENTION_YEARS = 6;

const evidenceDir = resolve(sandboxPaths.dir, 'evidence');
export const sandboxEvidenceKeys = {
  signingKeyFile: resolve(evidenceDir, 'signing-key.pem'),
  publicKeyFile: resolve(evidenceDir, 'public-key.pem'),
};

/** The evidence settings of the sandbox's drctl config. */
export function sandboxEvidenceConfig(): EvidenceSettings {
  return {
    bucket: EVIDENCE_BUCKET,
    region: EVIDENCE_REGION,
    prefix: 'drctl-evidence/',
    signingKeyFile: sandboxEvidenceKeys.signingKeyFile,
    publicKeyFiles: [sandboxEvidenceKeys.publicKeyFile],
    retentionYears: EVIDENCE_RETENTION_YEARS,
    taskQueue: 'drctl-evidence',
  };
}

/**
 * The evidence store of the sandbox: an Ed25519 signing key (generated once, kept in `.sandbox/evidence/`,
 * 0600) and an S3 bucket with Object Lock enabled at creation (moto, like S3, refuses to turn it on later),
 * versioning, and a COMPLIANCE default retention of six years. Idempotent.
 */
export async function seedEvidence(s3: S3Client, bucket = EVIDENCE_BUCKET): Promise<void> {
  ensureSigningKey();
  if (await bucketExists(s3, bucket)) return;
  await createEvidenceBucket(s3, bucket);
}

/** An Object Lock bucket like the sandbox's evidence bucket; tests make copies of the chain in such buckets. */
export async function createEvidenceBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: EVIDENCE_RETENTION_YEARS } },
      },
    }),
  );
}

function ensureSigningKey(): void {
  if (existsSync(sandboxEvidenceKeys.signingKeyFile) && existsSync(sandboxEvidenceKeys.publicKeyFile)) return;
  mkdirSync(evidenceDir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(sandboxEvidenceKeys.signingKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  writeFileSync(sandboxEvidenceKeys.publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
}

async function bucketExists(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) return false;
    throw error;
  }
}
