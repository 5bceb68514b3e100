import type { MotoLookup } from './moto-lookup';
import { refuse, type StrictCall, type StrictOutcome, type StrictRule } from './strict-call';
import type { StrictAwsSettings } from './strict-settings';

/**
 * S3 encrypts an SSE-KMS object by asking KMS for a data key under the named key, in the bucket's Region ("The KMS
 * key must be in the same Region as the bucket", Specifying server-side encryption with AWS KMS,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html); a key KMS does not know
 * there fails the PutObject with 400 KMS.NotFoundException, "Invalid keyId", and nothing is stored. moto stores
 * the object under any key id given. The layer asks moto's KMS in the call's Region first.
 */
export function createS3KmsRules(
  settings: () => StrictAwsSettings,
  lookup: MotoLookup,
): Record<string, StrictRule> {
  async function putObject(call: StrictCall): Promise<StrictOutcome | undefined> {
    if (!settings().rules.s3KmsKeyExists) return undefined;
    if (call.headers['x-amz-server-side-encryption'] !== 'aws:kms') return undefined;
    const keyId = call.headers['x-amz-server-side-encryption-aws-kms-key-id'];
    // No key named: S3 uses the account's AWS managed key (aws/s3), which always exists.
    if (typeof keyId !== 'string' || keyId === '') return undefined;
    if (await lookup.kmsKeyExists(call.region, keyId)) return undefined;
    return refuse(400, 'KMS.NotFoundException', `Invalid keyId ${keyId}`);
  }
  return { PutObject: putObject };
}
