import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretError } from './secret-error';
import type { SecretsManagerPort } from './secrets-manager-port';

/** Secrets Manager over the AWS SDK. Permanent refusals become SecretError; throttling and 5xx stay retryable. */
export function createSecretsManagerAdapter(client: SecretsManagerClient): SecretsManagerPort {
  return {
    async getSecretString(name) {
      let out;
      try {
        out = await client.send(new GetSecretValueCommand({ SecretId: name }));
      } catch (error) {
        throw secretsManagerError(error, name);
      }
      if (out.SecretString !== undefined) return out.SecretString;
      if (out.SecretBinary !== undefined) return Buffer.from(out.SecretBinary).toString('utf8');
      throw new SecretError(
        'SecretInvalid',
        name,
        `secret ${name} has no value: put one with aws secretsmanager put-secret-value --secret-id ${name}`,
      );
    },
  };
}

function secretsManagerError(error: unknown, name: string): unknown {
  const code = (error as { name?: string }).name ?? '';
  switch (code) {
    case 'ResourceNotFoundException':
      return new SecretError(
        'SecretNotFound',
        name,
        `secret ${name} does not exist in Secrets Manager (or has no current version) in this account and region: create it, or fix the secret name in the worker configuration`,
      );
    case 'AccessDeniedException':
      return new SecretError(
        'SecretAccessDenied',
        name,
        `access to secret ${name} was denied: grant this identity secretsmanager:GetSecretValue on it (and kms:Decrypt on its KMS key)`,
      );
    case 'DecryptionFailure':
      return new SecretError(
        'SecretAccessDenied',
        name,
        `Secrets Manager could not decrypt secret ${name} with its KMS key: grant kms:Decrypt on that key to this identity, or check that the key is enabled`,
      );
    case 'InvalidRequestException':
      return new SecretError(
        'SecretNotFound',
        name,
        `secret ${name} cannot be read now (${(error as Error).message}); it may be scheduled for deletion: restore it or name another secret`,
      );
    default:
      return error;
  }
}
