import type { KMSClient } from '@aws-sdk/client-kms';
import type { DataConverter } from '@temporalio/common';
import type { DrctlConfig } from '../../worker/config';
import { CodecError } from './codec-error';
import { EncryptionCodec } from './encryption-codec';
import { createKeyringKeySource } from './keyring-key-source';
import { createKmsKeySource } from './kms-key-source';
import type { KmsPort } from './kms-port';

/** The data converter every drctl Client and Worker uses: the codec, and failure text moved into payloads. */
export function encryptingDataConverter(codec: EncryptionCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: require.resolve('./failure-converter') };
}

/**
 * The payload codec the configuration asks for, or undefined when `codec.enabled` is off. New payloads are
 * encrypted under the KMS key when one is set, else under the keyring's current key. Either way both keepers
 * decrypt: a keyring next to a KMS key reads the history written under it, and KMS reads payloads that name a
 * KMS key (with this process's AWS credentials). `close` releases the KMS client.
 */
export function codecFromConfig(
  config: Pick<DrctlConfig, 'codec' | 'aws'>,
): { codec: EncryptionCodec; close: () => void } | undefined {
  const settings = config.codec;
  if (!settings.enabled) return undefined;
  // KMS always decrypts (a payload names its key's ARN); it makes new data keys only when a key is named.
  const kms = lazyKms(config.aws);
  const kmsSource = createKmsKeySource(kms.port, settings.kmsKeyId);
  const keyringSource = settings.keyringFile ? createKeyringKeySource(settings.keyringFile) : undefined;
  if (!settings.kmsKeyId && keyringSource === undefined) {
    throw new CodecError(
      'CodecMisconfigured',
      'the payload codec is on (codec.enabled / DRCTL_CODEC) but names no key: set codec.kmsKeyId (DRCTL_CODEC_KMS_KEY_ID) or codec.keyringFile (DRCTL_CODEC_KEYRING_FILE)',
    );
  }
  const [encryptWith, ...alsoDecryptWith] = settings.kmsKeyId
    ? [kmsSource, ...(keyringSource ? [keyringSource] : [])]
    : [keyringSource!, kmsSource];
  const codec = new EncryptionCodec({
    encryptWith,
    alsoDecryptWith,
    dataKeyMaxAgeMs: settings.dataKeyMaxAgeMs,
    dataKeyMaxUses: settings.dataKeyMaxUses,
  });
  return { codec, close: kms.close };
}

/**
 * A KMS port whose SDK client is loaded and built on first use: a CLI command on a keyring-only codec never
 * pays for the KMS SDK unless it meets a payload that names a KMS key.
 */
function lazyKms(aws: DrctlConfig['aws']): { port: KmsPort; close: () => void } {
  let built: { client: KMSClient; port: KmsPort } | undefined;
  const get = (): KmsPort => {
    if (built === undefined) {
      /* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand, see above */
      const sdk = require('@aws-sdk/client-kms') as typeof import('@aws-sdk/client-kms');
      const { createKmsAdapter } = require('./kms-adapter') as typeof import('./kms-adapter');
      /* eslint-enable @typescript-eslint/no-require-imports */
      const client = new sdk.KMSClient({
        region: aws.region,
        ...(aws.endpoint === undefined ? {} : { endpoint: aws.endpoint }),
      });
      built = { client, port: createKmsAdapter(client) };
    }
    return built.port;
  };
  return {
    port: {
      generateDataKey: (keyId, context) => get().generateDataKey(keyId, context),
      decrypt: (keyArn, wrapped, context) => get().decrypt(keyArn, wrapped, context),
    },
    close: () => built?.client.destroy(),
  };
}

/**
 * What a Client or Worker takes from the configuration: `{ dataConverter }` when the codec is on, else nothing.
 * One call for both, so a worker and a CLI with the same configuration always read each other's payloads.
 */
export function dataConverterOptions(config: Pick<DrctlConfig, 'codec' | 'aws'>): {
  options: { dataConverter?: DataConverter };
  close: () => void;
} {
  const built = codecFromConfig(config);
  if (built === undefined) return { options: {}, close: () => undefined };
  return { options: { dataConverter: encryptingDataConverter(built.codec) }, close: built.close };
}
