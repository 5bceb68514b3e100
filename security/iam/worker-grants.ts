import { arn, type ArnContext, type IamGrant } from './iam-grant';

/** What the worker touches for every run, whatever the runbook: from its configuration, not from the runbook. */
export interface WorkerResources {
  /** The codec's KMS key (id or ARN) and its Region. */
  codecKey?: { keyId: string; region: string };
  /** Secrets Manager secrets the worker reads (connection URLs, Unleash tokens), by name. */
  secrets?: Array<{ name: string; region: string }>;
  /** The evidence bucket (Object Lock) and the prefix of the chain. */
  evidence?: { bucket: string; prefix: string };
}

/** The grants of the codec (KMS envelope encryption), of named secrets and of evidence bundles. */
export function workerGrants(resources: WorkerResources, arns: ArnContext): IamGrant[] {
  const grants: IamGrant[] = [];
  if (resources.codecKey !== undefined) {
    grants.push({
      label: 'codec-kms',
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [arn.kmsKey(arns, resources.codecKey.region, resources.codecKey.keyId)],
      why: 'the payload codec wraps and unwraps its data keys with this KMS key',
    });
  }
  if (resources.secrets !== undefined && resources.secrets.length > 0) {
    grants.push({
      label: 'secrets',
      actions: ['secretsmanager:GetSecretValue'],
      resources: resources.secrets.map((s) => arn.secret(arns, s.region, s.name)),
      why: 'reads the named connection and token secrets',
    });
  }
  if (resources.evidence !== undefined) {
    const { bucket, prefix } = resources.evidence;
    grants.push(
      {
        label: 'evidence-write',
        actions: ['s3:PutObject', 's3:PutObjectRetention', 's3:GetObject', 's3:GetObjectRetention'],
        resources: [arn.s3Objects(arns, bucket, prefix)],
        why: 'writes evidence bundles with a COMPLIANCE retain-until date, and reads the chain’s last manifest',
      },
      {
        label: 'evidence-list',
        actions: ['s3:ListBucketVersions'],
        resources: [arn.s3Bucket(arns, bucket)],
        condition: { StringLike: { 's3:prefix': [`${prefix}*`] } },
        why: 'lists the chain’s manifests',
      },
    );
  }
  return grants;
}
