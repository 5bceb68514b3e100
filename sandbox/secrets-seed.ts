import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { MOTO_CREDENTIALS } from './aws-clients';

/** Puts each secret (name → value) into moto's Secrets Manager: created when missing, else a new version. */
export async function seedSecrets(
  endpoint: string,
  region: string,
  secrets: Record<string, string>,
): Promise<void> {
  const client = new SecretsManagerClient({ endpoint, region, credentials: MOTO_CREDENTIALS });
  try {
    for (const [name, value] of Object.entries(secrets)) {
      try {
        await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
      } catch (error) {
        if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
        await client.send(
          new CreateSecretCommand({
            Name: name,
            SecretString: value,
            Description: 'drctl sandbox connection secret',
          }),
        );
      }
    }
  } finally {
    client.destroy();
  }
}
