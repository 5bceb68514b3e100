import { arn, type ArnContext, type IamGrant } from './iam-grant';

/** What the worker touches for every run, whatever the runbook: from its configuration, not from the runbook. */
export interface WorkerResources {
  /**
   * The codec's KMS keys (id, alias or ARN) and their Region: the first encrypts new payloads; after a rotation,
   * the older keys still decrypt history, so they stay listed.
   */
  codecKeys?: Array<{ keyId: string; region: string }>;
  /** Secrets Manager secrets the worker reads (connection URLs, Unleash tokens), by name. */
  secrets?: Array<{ name: string; region: string }>;
  /** The evidence bucket (Object Lock), the prefix of the chain, and the KMS key S3 encrypts its objects under. */
  evidence?: { bucket: string; prefix: string; kmsKey?: { keyId: string; region: string } };
}

/** The grants of the codec (KMS envelope encryption), of named secrets and of evidence bundles. */
export function workerGrants(resources: WorkerResources, arns: ArnContext): IamGrant[] {
  const grants: IamGrant[] = [];
  const [current, ...older] = resources.codecKeys ?? [];
  if (current !== undefined) {
    grants.push(kmsGrant('codec-encrypt', ['kms:GenerateDataKey', 'kms:Decrypt'], current, arns));
    for (const key of older) grants.push(kmsGrant('codec-decrypt', ['kms:Decrypt'], key, arns));
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
    const { bucket, prefix, kmsKey } = resources.evidence;
    if (kmsKey !== undefined)
      grants.push(kmsGrant('evidence-encrypt', ['kms:GenerateDataKey', 'kms:Decrypt'], kmsKey, arns));
    grants.push(
      {
        label: 'evidence-write',
        actions: [
          's3:PutObject',
          's3:PutObjectRetention',
          's3:GetObject',
          's3:GetObjectVersion',
          's3:GetObjectRetention',
        ],
        resources: [arn.s3Objects(arns, bucket, prefix)],
        why: 'writes evidence bundles with a COMPLIANCE retain-until date (extending it on files an earlier attempt stored), and reads the chain’s last manifest, by its version when a delete marker hides it',
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

const KMS_GRANT_WHY: Record<string, string> = {
  'codec-encrypt': 'the payload codec wraps new data keys with this key and unwraps them',
  'codec-decrypt': 'the payload codec unwraps data keys of history written before the key rotated',
  // S3 calls KMS as the caller for SSE-KMS: a PUT needs GenerateDataKey, a GET Decrypt (S3 User Guide, "Using
  // server-side encryption with AWS KMS keys", Permissions).
  'evidence-encrypt': 'S3 encrypts evidence objects under this key (SSE-KMS) on PUT and decrypts them on GET',
};

/**
 * KMS authorises a call made with an alias against the key behind it, whose id the policy cannot know: an alias is
 * granted as the Region's keys that carry that alias (condition key kms:ResourceAliases).
 */
function kmsGrant(
  label: string,
  actions: string[],
  key: { keyId: string; region: string },
  arns: ArnContext,
): IamGrant {
  const alias = /(^|:)(alias\/.+)$/.exec(key.keyId)?.[2];
  return {
    label,
    actions,
    resources: [
      alias === undefined ? arn.kmsKey(arns, key.region, key.keyId) : arn.kmsKey(arns, key.region, '*'),
    ],
    ...(alias === undefined
      ? {}
      : { condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': [alias] } } }),
    why: KMS_GRANT_WHY[label] ?? label,
  };
}
