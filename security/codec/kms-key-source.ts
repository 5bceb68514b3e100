import { CodecError } from './codec-error';
import { sameMasterKey, type DataKey, type KeySource } from './key-source';
import type { KmsPort } from './kms-port';

/** Binds every data key to its use: KMS refuses to unwrap it under any other encryption context. */
export const KMS_ENCRYPTION_CONTEXT = { 'drctl:purpose': 'temporal-payload' };

/** The longest CiphertextBlob KMS Decrypt takes (KMS API reference, Decrypt, Request Parameters). */
const KMS_CIPHERTEXT_MAX_BYTES = 6144;

/**
 * Data keys from AWS KMS. `keyId` (id, ARN or alias) makes new data keys; a payload names the ARN of the key
 * that wrapped its data key, so after `keyId` moves to a new key the old key still unwraps old payloads
 * (as long as it stays enabled). KMS's own yearly rotation of a key's material is invisible here. Without a
 * `keyId` the source only decrypts: the payload names its key, so history written under KMS stays readable
 * after a move to the keyring. `knownKeyArns` are the deployment's other keys (`codec.knownKmsKeyArns`): a payload
 * under one of them is drctl's own (`holds`), though this process never made a data key under it.
 */
export function createKmsKeySource(
  kms: KmsPort,
  keyId: string | undefined,
  knownKeyArns: readonly string[] = [],
): KeySource {
  const known = new Set(knownKeyArns.map((arn) => sameMasterKey(`kms:${arn}`)));
  return {
    kind: 'kms',
    holds: (payloadKeyId) => known.has(sameMasterKey(payloadKeyId)),
    async newDataKey(): Promise<DataKey> {
      if (keyId === undefined) {
        throw new CodecError(
          'CodecMisconfigured',
          'no KMS key is configured for new payloads: set codec.kmsKeyId / DRCTL_CODEC_KMS_KEY_ID',
        );
      }
      const key = await kms.generateDataKey(keyId, KMS_ENCRYPTION_CONTEXT);
      return {
        keyId: `kms:${key.keyArn}`,
        plaintext: Buffer.from(key.plaintext),
        wrapped: Buffer.from(key.wrapped),
      };
    },
    async unwrap(payloadKeyId, wrapped): Promise<Buffer> {
      if (wrapped.length > KMS_CIPHERTEXT_MAX_BYTES)
        throw new CodecError(
          'PayloadTampered',
          `the data key stored with a payload under ${payloadKeyId} is ${wrapped.length} bytes, more than any KMS ciphertext (${KMS_CIPHERTEXT_MAX_BYTES}): the payload was altered or not written by drctl's codec`,
        );
      return Buffer.from(
        await kms.decrypt(payloadKeyId.slice('kms:'.length), wrapped, KMS_ENCRYPTION_CONTEXT),
      );
    },
  };
}
