import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CodecError } from './codec-error';
import type { KmsPort } from './kms-port';

/** Errors after which a retry cannot help: the key is gone, disabled, not ours, or the caller may not use it. */
const PERMANENT = new Set([
  'NotFoundException',
  'AccessDeniedException',
  'DisabledException',
  'KMSInvalidStateException',
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'InvalidKeyUsageException',
]);

/**
 * Decrypt's answers for a wrapped data key that the named key did not wrap under drctl's encryption context:
 * the payload's metadata was altered or forged, whichever key it names (KMS API reference, Decrypt, Errors).
 */
const NOT_WRAPPED_BY_KEY = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

export function createKmsAdapter(client: KMSClient): KmsPort {
  return {
    async generateDataKey(keyId, context) {
      try {
        const out = await client.send(
          new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }),
        );
        if (!out.KeyId || !out.Plaintext || !out.CiphertextBlob) {
          throw new Error(`KMS GenerateDataKey for ${keyId} answered without a key`);
        }
        return { keyArn: out.KeyId, plaintext: out.Plaintext, wrapped: out.CiphertextBlob };
      } catch (error) {
        throw kmsError(
          error,
          `make a data key under KMS key ${keyId}`,
          'check codec.kmsKeyId / DRCTL_CODEC_KMS_KEY_ID and that this identity may call kms:GenerateDataKey on it',
        );
      }
    },
    async decrypt(keyArn, wrapped, context) {
      try {
        const out = await client.send(
          new DecryptCommand({ KeyId: keyArn, CiphertextBlob: wrapped, EncryptionContext: context }),
        );
        if (!out.Plaintext) throw new Error(`KMS Decrypt under ${keyArn} answered without a key`);
        return out.Plaintext;
      } catch (error) {
        const name = (error as { name?: string }).name ?? '';
        if (NOT_WRAPPED_BY_KEY.has(name))
          throw new CodecError(
            'PayloadTampered',
            `KMS key ${keyArn} did not wrap the data key stored with a payload (${name}): the payload was altered or not written by drctl's codec`,
          );
        throw kmsError(
          error,
          `unwrap a payload's data key under KMS key ${keyArn}`,
          'old keys must stay enabled (not scheduled for deletion) and this identity needs kms:Decrypt on them',
        );
      }
    },
  };
}

function kmsError(error: unknown, what: string, todo: string): Error {
  const name = (error as { name?: string }).name ?? '';
  if (!PERMANENT.has(name)) return error as Error;
  return new CodecError('KeyUnavailable', `cannot ${what}: ${name} (${(error as Error).message}); ${todo}`);
}
