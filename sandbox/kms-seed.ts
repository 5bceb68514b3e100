import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { MOTO_CREDENTIALS } from './aws-clients';

/** The KMS key the sandbox offers for envelope encryption of history (`DRCTL_CODEC_KMS_KEY_ID`). */
export const SANDBOX_KMS_ALIAS = 'alias/drctl-sandbox-history';

/** Creates the symmetric history key and its alias in moto unless the alias exists; returns the key's ARN. */
export async function seedKms(endpoint: string, region: string): Promise<{ alias: string; keyArn: string }> {
  const kms = new KMSClient({ endpoint, region, credentials: MOTO_CREDENTIALS });
  try {
    try {
      const existing = await kms.send(new DescribeKeyCommand({ KeyId: SANDBOX_KMS_ALIAS }));
      if (existing.KeyMetadata?.Arn) return { alias: SANDBOX_KMS_ALIAS, keyArn: existing.KeyMetadata.Arn };
    } catch (error) {
      if ((error as { name?: string }).name !== 'NotFoundException') throw error;
    }
    const created = await kms.send(
      new CreateKeyCommand({
        Description: 'drctl sandbox: wraps the data keys that encrypt Temporal payloads',
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
      }),
    );
    const keyArn = created.KeyMetadata!.Arn!;
    await kms.send(new CreateAliasCommand({ AliasName: SANDBOX_KMS_ALIAS, TargetKeyId: keyArn }));
    return { alias: SANDBOX_KMS_ALIAS, keyArn };
  } finally {
    kms.destroy();
  }
}
