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
  const kmsSource = createKmsKeySource(kms.port, settings.kmsKeyId, settings.knownKmsKeyArns);
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
 * A KMS port whose SDK clients are loaded and built on first use: a CLI command on a keyring-only codec never
 * pays for the KMS SDK unless it meets a payload that names a KMS key. KMS is regional: a key is called in the
 * region its ARN names (history written by a worker in another region reads as well), and a multi-Region key
 * (`mrk-`) through its replica in this process's region, so history stays readable when the key's home region is
 * the one that is down.
 */
function lazyKms(aws: DrctlConfig['aws']): { port: KmsPort; close: () => void } {
  const built = new Map<string, { client: KMSClient; port: KmsPort }>();
  const inRegion = (region: string): KmsPort => {
    let entry = built.get(region);
    if (entry === undefined) {
      /* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand, see above */
      const sdk = require('@aws-sdk/client-kms') as typeof import('@aws-sdk/client-kms');
      const { createKmsAdapter } = require('./kms-adapter') as typeof import('./kms-adapter');
      /* eslint-enable @typescript-eslint/no-require-imports */
      const client = new sdk.KMSClient({
        region,
        ...(aws.endpoint === undefined ? {} : { endpoint: aws.endpoint }),
      });
      entry = { client, port: createKmsAdapter(client) };
      built.set(region, entry);
    }
    return entry.port;
  };
  /**
   * The first of the calls that answers; the last one's error when none does. A replica that says its key never
   * wrapped the data key (`PayloadTampered`) speaks for every replica (they share the key material): the region
   * the payload names, which anyone may have written, is not asked then.
   */
  const first = async <T>(key: string, call: (port: KmsPort, key: string) => Promise<T>): Promise<T> => {
    let lastError: unknown;
    for (const target of kmsCallsFor(key, aws.region)) {
      try {
        return await call(inRegion(target.region), target.key);
      } catch (error) {
        if (error instanceof CodecError && error.code === 'PayloadTampered') throw error;
        lastError = error;
      }
    }
    throw lastError;
  };
  return {
    port: {
      generateDataKey: (keyId, context) => first(keyId, (port, key) => port.generateDataKey(key, context)),
      decrypt: (keyArn, wrapped, context) =>
        first(keyArn, (port, key) => port.decrypt(key, wrapped, context)),
    },
    close: () => {
      for (const { client } of built.values()) client.destroy();
    },
  };
}

/**
 * Where to call KMS for a key, in order: an ARN in the region it names; a multi-Region key's ARN first as its
 * replica in `home` (the same key id: any replica unwraps what another wrapped), then in its own region; an id or
 * alias in `home`.
 */
export function kmsCallsFor(key: string, home: string): Array<{ region: string; key: string }> {
  const arn = /^arn:(aws[\w-]*):kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/.exec(key);
  if (arn === null) return [{ region: home, key }];
  const [, partition, region, account, keyId] = arn as unknown as [string, string, string, string, string];
  if (keyId.startsWith('mrk-') && region !== home)
    return [
      { region: home, key: `arn:${partition}:kms:${home}:${account}:key/${keyId}` },
      { region, key },
    ];
  return [{ region, key }];
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
