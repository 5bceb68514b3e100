import { createHash, randomUUID } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { MOTO_CREDENTIALS } from '../../sandbox/aws-clients';
import { createS3EvidenceStore } from '../../activities/evidence/s3-evidence-store';
import { getStack } from './stack';
import { awsError, strictAwsFixture } from './sandbox.strict-aws-clients';

/**
 * S3 SSE-KMS through the strict layer with the real SDK: a PUT under a key KMS knows in the bucket's Region is
 * stored encrypted under it; under a key it does not know, S3 refuses it (moto would store it).
 */
const stack = getStack();
const aws = strictAwsFixture(stack);
const region = stack.aws.region;
const bucket = `strict-kms-${randomUUID()}`;

beforeAll(async () => {
  await aws.s3(region).send(new CreateBucketCommand({ Bucket: bucket }));
});

afterEach(async () => {
  await aws.control.reset();
});

afterAll(() => aws.close());

const put = (key: string, keyId: string) =>
  aws.s3(region).send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: 'evidence',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: keyId,
    }),
  );

test('a PUT under a KMS key that does not exist is refused, nothing stored; under the sandbox key it is stored encrypted', async () => {
  const unknownKey = `arn:aws:kms:${region}:123456789012:key/${randomUUID()}`;
  expect(await awsError(put('refused', unknownKey))).toMatchObject({
    code: 'KMS.NotFoundException',
    status: 400,
    message: `Invalid keyId ${unknownKey}`,
  });
  expect(
    await awsError(aws.s3(region).send(new HeadObjectCommand({ Bucket: bucket, Key: 'refused' }))),
  ).toMatchObject({
    status: 404,
  });

  const { keyArn } = stack.security.kms;
  await put('stored', keyArn);
  const head = await aws.s3(region).send(new HeadObjectCommand({ Bucket: bucket, Key: 'stored' }));
  expect({ sse: head.ServerSideEncryption, key: head.SSEKMSKeyId }).toEqual({ sse: 'aws:kms', key: keyArn });

  // The rule off: moto's own behaviour, which stores it.
  await aws.control.rules({ s3KmsKeyExists: false });
  await put('moto-stores-it', unknownKey);
});

test('GIVEN an evidence key S3 cannot use WHEN the evidence store writes THEN its failure names the key and the setting to fix (before: "check the values in the runbook")', async () => {
  const store = createS3EvidenceStore(aws.s3(region), bucket, { kmsKeyId: 'alias/no-such-evidence-key' });
  const refused = await store
    .put('runs/refused.json', Buffer.from('{}'), {
      sha256Hex: createHash('sha256').update('{}').digest('hex'),
      contentType: 'application/json',
      lockMode: 'COMPLIANCE',
      retainUntil: new Date(Date.now() + 86_400_000),
    })
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  expect(refused).toMatchObject({
    type: 'ConfigurationMissing',
    message: expect.stringMatching(
      /^S3 could not use a KMS key for PutObject .*KMS\.NotFoundException.*DRCTL_EVIDENCE_KMS_KEY_ID alias\/no-such-evidence-key.*kms:GenerateDataKey and kms:Decrypt/,
    ),
  });
  expect(
    await awsError(aws.s3(region).send(new HeadObjectCommand({ Bucket: bucket, Key: 'runs/refused.json' }))),
  ).toMatchObject({ status: 404 });
});

test('GIVEN a KMS key in another Region than the bucket WHEN a PUT names its ARN THEN it is refused as S3 does, nothing stored', async () => {
  const elsewhere = region === 'us-west-2' ? 'eu-west-1' : 'us-west-2';
  const kms = new KMSClient({
    region: elsewhere,
    endpoint: stack.moto.rawEndpoint,
    credentials: MOTO_CREDENTIALS,
  });
  const created = await kms.send(new CreateKeyCommand({ Description: 'another Region' }));
  kms.destroy();
  const arn = created.KeyMetadata?.Arn ?? '';
  expect(arn).toContain(`:kms:${elsewhere}:`);
  expect(await awsError(put('other-region', arn))).toMatchObject({
    code: 'KMS.NotFoundException',
    status: 400,
  });
  expect(
    await awsError(aws.s3(region).send(new HeadObjectCommand({ Bucket: bucket, Key: 'other-region' }))),
  ).toMatchObject({ status: 404 });
});
