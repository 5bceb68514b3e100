import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { defaultPayloadConverter } from '@temporalio/common';
import { MOTO_CREDENTIALS } from '../../sandbox/aws-clients';
import type { StackInfo } from '../../sandbox/stack-info';
import { CodecError } from '../../security/codec/codec-error';
import { EncryptionCodec, METADATA_KEY_ID } from '../../security/codec/encryption-codec';
import { createKmsAdapter } from '../../security/codec/kms-adapter';
import { createKmsKeySource } from '../../security/codec/kms-key-source';
import { getStack } from './stack';

/** Envelope encryption against moto's KMS: GenerateDataKey under the current key, Decrypt under whichever key wrapped. */
let stack: StackInfo;
let kms: KMSClient;

beforeAll(() => {
  stack = getStack();
  kms = new KMSClient({
    endpoint: stack.moto.endpoint,
    region: stack.aws.region,
    credentials: MOTO_CREDENTIALS,
  });
});

afterAll(() => kms.destroy());

async function newKey(): Promise<string> {
  const created = await kms.send(new CreateKeyCommand({ Description: 'drctl codec rotation test' }));
  return created.KeyMetadata!.Arn!;
}

const toPayload = (value: unknown) => defaultPayloadConverter.toPayload(value);
const keyIdOf = (payload: { metadata?: Record<string, Uint8Array> | null } | undefined) =>
  Buffer.from(payload!.metadata![METADATA_KEY_ID]!).toString();

test('GIVEN history written under KMS key A WHEN the codec rotates to key B THEN new payloads name B and old and new both decode', async () => {
  const [keyA, keyB] = [await newKey(), await newKey()];
  const port = createKmsAdapter(kms);
  const underA = new EncryptionCodec({ encryptWith: createKmsKeySource(port, keyA) });
  const [old] = await underA.encode([toPayload({ reason: 'written under A' })]);

  const underB = new EncryptionCodec({ encryptWith: createKmsKeySource(port, keyB) });
  const [next] = await underB.encode([toPayload({ reason: 'written under B' })]);

  expect(keyIdOf(old)).toBe(`kms:${keyA}`);
  expect(keyIdOf(next)).toBe(`kms:${keyB}`);
  const decoded = await underB.decode([old!, next!]);
  expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([
    { reason: 'written under A' },
    { reason: 'written under B' },
  ]);
});

test('GIVEN the sandbox alias WHEN a data key is made THEN the payload names the key ARN, not the alias', async () => {
  const codec = new EncryptionCodec({
    encryptWith: createKmsKeySource(createKmsAdapter(kms), stack.security.kms.alias),
  });

  const [encoded] = await codec.encode([toPayload('x')]);

  expect(keyIdOf(encoded)).toBe(`kms:${stack.security.kms.keyArn}`);
});

test('GIVEN a key id that does not exist WHEN encoding THEN the error names the key and the setting to fix', async () => {
  const codec = new EncryptionCodec({
    encryptWith: createKmsKeySource(createKmsAdapter(kms), 'alias/drctl-no-such-key'),
  });

  const error = await codec.encode([toPayload('x')]).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(CodecError);
  expect((error as CodecError).message).toMatch(
    /cannot make a data key under KMS key alias\/drctl-no-such-key: NotFoundException .*DRCTL_CODEC_KMS_KEY_ID/,
  );
});
