import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { CodecError } from '../../security/codec/codec-error';
import { EncryptionCodec } from '../../security/codec/encryption-codec';
import type { KeySource } from '../../security/codec/key-source';
import { createKeyringKeySource } from '../../security/codec/keyring-key-source';
import { createKmsAdapter } from '../../security/codec/kms-adapter';
import { createKmsKeySource } from '../../security/codec/kms-key-source';
import type { KmsPort } from '../../security/codec/kms-port';

/**
 * Which key ids a worker takes for its deployment's own (a start read under any other key is no drctl start), and
 * how KMS's refusals of a data key read: a key that cannot be used now, or a payload it never wrapped.
 */
function kmsSourceMaking(keyId: string): KeySource {
  return {
    kind: 'kms',
    newDataKey: async () => {
      const plaintext = randomBytes(32);
      return { keyId, plaintext, wrapped: Buffer.from(plaintext) };
    },
    unwrap: async () => {
      throw new Error('not asked in these tests');
    },
  };
}

test('GIVEN a codec encrypting under a KMS key WHEN key ids are weighed THEN its key counts, in any region only for a multi-Region key; others do not', async () => {
  const home = 'kms:arn:aws:kms:us-west-2:111122223333:key/mrk-5cd3c18c67af471c87996bb78424fc05';
  const multiRegion = new EncryptionCodec({ encryptWith: kmsSourceMaking(home) });
  await expect(multiRegion.isOwnKey(home)).resolves.toBe(true);
  await expect(multiRegion.isOwnKey(home.replace('us-west-2', 'us-east-1'))).resolves.toBe(true);
  await expect(multiRegion.isOwnKey(home.replace('111122223333', '999988887777'))).resolves.toBe(false);

  const single = 'kms:arn:aws:kms:us-west-2:111122223333:key/1ba8773d-65fb-4fe0-a1db-a8248bea4c9e';
  const regional = new EncryptionCodec({ encryptWith: kmsSourceMaking(single) });
  await expect(regional.isOwnKey(single)).resolves.toBe(true);
  await expect(regional.isOwnKey(single.replace('us-west-2', 'xx-nowhere-9'))).resolves.toBe(false);
  await expect(regional.isOwnKey('')).resolves.toBe(false);
});

test('GIVEN a keyring codec WHEN key ids are weighed THEN every key the keyring holds counts, a key it does not hold does not (no error)', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'drctl-own-key-')), 'keyring.json');
  const key = () => randomBytes(32).toString('base64');
  writeFileSync(path, JSON.stringify({ current: 'k2', keys: { k1: key(), k2: key() } }), { mode: 0o600 });
  chmodSync(path, 0o600);
  const codec = new EncryptionCodec({ encryptWith: createKeyringKeySource(path) });
  await expect(codec.isOwnKey('keyring:k1')).resolves.toBe(true);
  await expect(codec.isOwnKey('keyring:k2')).resolves.toBe(true);
  await expect(codec.isOwnKey('keyring:k9')).resolves.toBe(false);
  await expect(codec.isOwnKey('keyring:../../etc/passwd')).resolves.toBe(false);
});

const clientFailingWith = (name: string) =>
  ({
    send: async () => {
      throw Object.assign(new Error(`${name} from KMS`), { name });
    },
  }) as unknown as KMSClient;

test.each([
  ['InvalidCiphertextException', 'PayloadTampered'],
  ['IncorrectKeyException', 'PayloadTampered'],
  ['DisabledException', 'KeyUnavailable'],
  ['AccessDeniedException', 'KeyUnavailable'],
])(
  'GIVEN KMS Decrypt answering %s WHEN a data key is unwrapped THEN the codec error is %s (before: an altered data key read as a key unavailable)',
  async (kmsError, code) => {
    const adapter = createKmsAdapter(clientFailingWith(kmsError));
    const refusal = adapter.decrypt('arn:aws:kms:us-east-1:111122223333:key/k', Buffer.alloc(200), {});
    await expect(refusal).rejects.toBeInstanceOf(CodecError);
    await expect(refusal).rejects.toMatchObject({ code, message: expect.stringContaining(kmsError) });
  },
);

test('GIVEN a payload whose stored data key is longer than any KMS ciphertext WHEN it is unwrapped THEN it is refused as altered without asking KMS (before: KMS answered ValidationException, read as a failure to retry)', async () => {
  const asked: string[] = [];
  const kms: KmsPort = {
    generateDataKey: async () => {
      throw new Error('not asked');
    },
    decrypt: async (keyArn) => {
      asked.push(keyArn);
      throw Object.assign(new Error('ciphertextBlob too long'), { name: 'ValidationException' });
    },
  };
  const source = createKmsKeySource(kms, undefined);
  await expect(
    source.unwrap('kms:arn:aws:kms:us-east-1:111122223333:key/k', Buffer.alloc(6145)),
  ).rejects.toMatchObject({ code: 'PayloadTampered' });
  expect(asked).toEqual([]);
});

test("GIVEN a KMS codec whose configuration lists the deployment's earlier keys WHEN key ids are weighed THEN a listed key counts (a multi-Region one in any region) without asking KMS, an unlisted one does not (before: only keys this process made data keys under counted)", async () => {
  const asked: string[] = [];
  const kms: KmsPort = {
    generateDataKey: async (keyId) => {
      asked.push(keyId);
      return {
        keyArn: 'arn:aws:kms:us-east-1:111122223333:key/0f6a4f25-2b2c-4f56-8e39-5f0b1e5a9c01',
        plaintext: randomBytes(32),
        wrapped: randomBytes(184),
      };
    },
    decrypt: async () => {
      throw new Error('not asked');
    },
  };
  const earlier = 'arn:aws:kms:us-east-1:111122223333:key/3c1e2f4a-9b8d-4e6f-a1b2-c3d4e5f60718';
  const earlierMultiRegion = 'arn:aws:kms:us-west-2:111122223333:key/mrk-5cd3c18c67af471c87996bb78424fc05';
  const codec = new EncryptionCodec({
    encryptWith: createKmsKeySource(kms, 'alias/drctl-codec', [earlier, earlierMultiRegion]),
  });
  await expect(codec.isOwnKey(`kms:${earlier}`)).resolves.toBe(true);
  await expect(codec.isOwnKey(`kms:${earlierMultiRegion.replace('us-west-2', 'us-east-1')}`)).resolves.toBe(
    true,
  );
  expect(asked).toEqual([]);
  await expect(codec.isOwnKey(`kms:${earlier.replace('us-east-1', 'us-west-2')}`)).resolves.toBe(false);
  await expect(codec.isOwnKey(`kms:${earlier.replace('111122223333', '999988887777')}`)).resolves.toBe(false);
});

test("GIVEN a codec whose own and listed keys are multi-Region WHEN a payload names one of them in the region `*` (or names an alias) THEN it is no key of the deployment's, without a KMS call (before: `*` was the codec's own spelling of any region, so the forged id matched and decoding it then called KMS)", async () => {
  const asked: string[] = [];
  const own = 'arn:aws:kms:us-east-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef';
  const listed = 'arn:aws:kms:us-west-2:111122223333:key/mrk-5cd3c18c67af471c87996bb78424fc05';
  const kms: KmsPort = {
    generateDataKey: async (keyId) => {
      asked.push(keyId);
      return { keyArn: own, plaintext: randomBytes(32), wrapped: randomBytes(184) };
    },
    decrypt: async () => {
      throw new Error('not asked');
    },
  };
  const codec = new EncryptionCodec({ encryptWith: createKmsKeySource(kms, own, [listed]) });
  await expect(codec.isOwnKey(`kms:${own}`)).resolves.toBe(true);
  expect(asked).toHaveLength(1);
  await expect(codec.isOwnKey(`kms:${listed.replace('us-west-2', '*')}`)).resolves.toBe(false);
  await expect(codec.isOwnKey(`kms:${own.replace('us-east-1', '*')}`)).resolves.toBe(false);
  await expect(codec.isOwnKey('kms:arn:aws:kms:us-east-1:111122223333:alias/drctl-codec')).resolves.toBe(
    false,
  );
  expect(asked).toHaveLength(1);
});
