import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { defaultPayloadConverter } from '@temporalio/common';
import { MOTO_CREDENTIALS } from '../../sandbox/aws-clients';
import type { StackInfo } from '../../sandbox/stack-info';
import { CodecError } from '../../security/codec/codec-error';
import { codecFromConfig } from '../../security/codec/data-converter';
import type { DrctlConfig } from '../../worker/config';
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

test("GIVEN history written by a worker in us-west-2 under its regional key WHEN read from us-east-1 THEN KMS is called in the key's own region and it decodes", async () => {
  // KMS is regional: before, every payload's key was called in this process's region (NotFoundException).
  const west = new KMSClient({
    endpoint: stack.moto.endpoint,
    region: 'us-west-2',
    credentials: MOTO_CREDENTIALS,
  });
  const westKey = (await west.send(new CreateKeyCommand({ Description: 'drctl codec, us-west-2' })))
    .KeyMetadata!.Arn!;
  west.destroy();
  process.env.AWS_ACCESS_KEY_ID ??= MOTO_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= MOTO_CREDENTIALS.secretAccessKey;
  const codecIn = (region: string, kmsKeyId: string) =>
    codecFromConfig({
      codec: {
        enabled: true,
        kmsKeyId,
        knownKmsKeyArns: [],
        dataKeyMaxAgeMs: 300_000,
        dataKeyMaxUses: 10_000,
      },
      aws: { region, endpoint: stack.moto.endpoint } as DrctlConfig['aws'],
    })!;
  const writer = codecIn('us-west-2', westKey);
  const reader = codecIn('us-east-1', await newKey());
  try {
    const [written] = await writer.codec.encode([toPayload({ reason: 'written in us-west-2' })]);
    expect(keyIdOf(written)).toBe(`kms:${westKey}`);
    const [read] = await reader.codec.decode([written!]);
    expect(defaultPayloadConverter.fromPayload(read!)).toEqual({ reason: 'written in us-west-2' });
  } finally {
    writer.close();
    reader.close();
  }
});
