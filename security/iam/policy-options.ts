import { isKmsKeyId } from '../../common/kms-key-id';
import type { IamPolicyOptions } from './compose-policy';

/** A bad option of `drctl iam-policy`: names the option, the value and what is allowed. */
export class IamPolicyOptionError extends Error {
  readonly code = 'BadOption';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'IamPolicyOptionError';
  }
}

export interface RawIamPolicyOptions {
  account?: string;
  partition?: string;
  region?: string;
  kmsKey?: string[];
  secret?: string[];
  evidenceBucket?: string;
  evidencePrefix?: string;
  evidenceKmsKey?: string;
  evidenceRegion?: string;
}

const PARTITIONS = ['aws', 'aws-us-gov', 'aws-cn'];
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
// S3 bucket naming rules (S3 User Guide, "Bucket naming rules"): 3–63 characters, lower case, digits, dots, hyphens.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** Checks the options of `drctl iam-policy` and turns them into composer options; throws on the first bad one. */
export function parseIamPolicyOptions(raw: RawIamPolicyOptions): IamPolicyOptions {
  if (raw.account !== undefined && !/^\d{12}$/.test(raw.account)) {
    throw new IamPolicyOptionError(
      '--account',
      `"${raw.account}" is not an AWS account id: give its 12 digits`,
    );
  }
  if (raw.partition !== undefined && !PARTITIONS.includes(raw.partition)) {
    throw new IamPolicyOptionError(
      '--partition',
      `"${raw.partition}" is not one of ${PARTITIONS.join(', ')}`,
    );
  }
  const region = raw.region ?? '*';
  if (region !== '*' && !REGION.test(region)) {
    throw new IamPolicyOptionError('--region', `"${region}" is not a Region name (e.g. us-east-1), nor *`);
  }
  for (const key of raw.kmsKey ?? []) {
    if (!isKmsKeyId(key)) {
      throw new IamPolicyOptionError('--kms-key', `"${key}" is not a KMS key id, alias or key ARN`);
    }
  }
  for (const name of raw.secret ?? []) {
    if (!SECRET_NAME.test(name)) {
      throw new IamPolicyOptionError(
        '--secret',
        `"${name}" is not a Secrets Manager secret name (letters, digits and /_+=.@-, up to 512)`,
      );
    }
  }
  if (raw.evidenceBucket !== undefined && !BUCKET.test(raw.evidenceBucket)) {
    throw new IamPolicyOptionError(
      '--evidence-bucket',
      `"${raw.evidenceBucket}" is not an S3 bucket name (3–63 lower-case letters, digits, dots, hyphens)`,
    );
  }
  if (raw.evidencePrefix !== undefined && raw.evidenceBucket === undefined) {
    throw new IamPolicyOptionError('--evidence-prefix', 'needs --evidence-bucket');
  }
  if (raw.evidenceKmsKey !== undefined) {
    if (raw.evidenceBucket === undefined)
      throw new IamPolicyOptionError('--evidence-kms-key', 'needs --evidence-bucket');
    if (raw.evidenceRegion !== undefined && !REGION.test(raw.evidenceRegion))
      throw new IamPolicyOptionError(
        '--evidence-region',
        `"${raw.evidenceRegion}" is not a Region name (e.g. us-east-1)`,
      );
    if (!isKmsKeyId(raw.evidenceKmsKey))
      throw new IamPolicyOptionError(
        '--evidence-kms-key',
        `"${raw.evidenceKmsKey}" is not a KMS key id, alias or key ARN`,
      );
  }
  return {
    ...(raw.account === undefined ? {} : { account: raw.account }),
    ...(raw.partition === undefined ? {} : { partition: raw.partition }),
    worker: {
      ...(raw.kmsKey === undefined ? {} : { codecKeys: raw.kmsKey.map((keyId) => ({ keyId, region })) }),
      ...(raw.secret === undefined ? {} : { secrets: raw.secret.map((name) => ({ name, region })) }),
      ...(raw.evidenceBucket === undefined
        ? {}
        : {
            evidence: {
              bucket: raw.evidenceBucket,
              prefix: raw.evidencePrefix ?? 'drctl-evidence/',
              // S3 uses a key in the bucket's Region (DRCTL_EVIDENCE_REGION), which may differ from --region.
              ...(raw.evidenceKmsKey === undefined
                ? {}
                : { kmsKey: { keyId: raw.evidenceKmsKey, region: raw.evidenceRegion ?? region } }),
            },
          }),
    },
  };
}
