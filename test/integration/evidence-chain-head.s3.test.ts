import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createS3EvidenceStore } from '../../activities/evidence/s3-evidence-store';
import { readChainHead, type ChainHeadHint } from '../../evidence/chain-head';
import { ChainLayout } from '../../evidence/layout';
import { MOTO_CREDENTIALS } from '../../sandbox/aws-clients';
import { strictAwsFixture } from './sandbox.strict-aws-clients';
import { getStack } from './stack';

/**
 * The evidence chain's head read through the S3 adapter against moto behind the strict layer (which counts the
 * ListObjectVersions requests): pages of versions and delete markers from a key on (KeyMarker, MaxKeys), the head
 * found past S3's 1,000-entry page, and one request from the last append's hint. A versioned bucket of its own:
 * moto copies every version of a bucket on each listing, and these 2,600 objects would slow every later evidence
 * test's listings of the shared evidence bucket.
 */
const stack = getStack();
const aws = strictAwsFixture(stack);
const seeder = new S3Client({
  region: 'us-east-1',
  endpoint: stack.moto.rawEndpoint,
  forcePathStyle: true,
  credentials: MOTO_CREDENTIALS,
});
const MANIFESTS = 2_600;
const BUCKET = `chain-head-${randomUUID()}`;
const layout = new ChainLayout('head-test/', 'default');

async function put(key: string, body: string): Promise<void> {
  await seeder.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

const putManifest = (sequence: number) => put(layout.manifestKey(sequence), `{"sequence":${sequence}}`);

beforeAll(async () => {
  await seeder.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await seeder.send(
    new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  for (let first = 1; first <= MANIFESTS; first += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, MANIFESTS - first + 1) }, (_, i) => putManifest(first + i)),
    );
  }
});

afterAll(() => {
  seeder.destroy();
  aws.close();
});

async function listRequests<T>(work: () => Promise<T>): Promise<{ result: T; requests: number }> {
  await aws.control.resetStats();
  const result = await work();
  const stats = await aws.control.stats();
  return { result, requests: stats.operations.ListObjectVersions?.calls ?? 0 };
}

test('GIVEN 2,600 manifests THEN the head is found past the first page, then in one request from the hint; a manifest hidden by a delete marker is still the head, read by its version (before: skipped, and the next append took its sequence again)', async () => {
  const store = createS3EvidenceStore(aws.s3('us-east-1'), BUCKET);
  const hint: ChainHeadHint = {};

  const cold = await listRequests(() => readChainHead(store, layout, hint));
  await putManifest(MANIFESTS + 1);
  const hinted = await listRequests(() => readChainHead(store, layout, hint));
  await seeder.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: layout.manifestKey(MANIFESTS + 1) }));
  const afterDelete = await listRequests(() => readChainHead(store, layout, hint));
  const all = await store.listKeys(layout.manifestsPrefix);

  expect(cold.result?.sequence).toBe(MANIFESTS);
  expect(cold.requests).toBeLessThanOrEqual(6);
  expect(hinted.result?.sequence).toBe(MANIFESTS + 1);
  expect(hinted.requests).toBe(1);
  expect(afterDelete.result?.sequence).toBe(MANIFESTS + 1);
  expect(afterDelete.result?.manifest).toBeUndefined(); // seeded as bare JSON, not a signed envelope
  // The whole listing still follows S3's pages: every key once, the hidden one marked.
  expect(all).toHaveLength(MANIFESTS + 1);
  expect(all.filter((entry) => entry.deleted).map((entry) => entry.key)).toEqual([
    layout.manifestKey(MANIFESTS + 1),
  ]);
  expect(all.every((entry) => entry.versions === 1)).toBe(true);
});

test('GIVEN a key whose versions straddle two pages THEN the whole listing counts each of its versions once and dates it by its newest entry', async () => {
  const prefix = 'straddle/';
  for (let first = 0; first < 999; first += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, 999 - first) }, (_, i) =>
        put(`${prefix}a${String(first + i).padStart(4, '0')}`, 'one'),
      ),
    );
  }
  for (const body of ['first', 'second', 'third']) await put(`${prefix}b`, body);
  // S3's LastModified is to the second.
  const deletedFrom = Math.floor(Date.now() / 1000) * 1000;
  await seeder.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${prefix}b` }));
  const store = createS3EvidenceStore(aws.s3('us-east-1'), BUCKET);

  const { result: all, requests } = await listRequests(() => store.listKeys(prefix));

  expect(requests).toBe(2);
  expect(all).toHaveLength(1_000);
  // The delete marker (newest, on the first page) dates the key, not its versions on the second.
  expect(all.at(-1)).toEqual({
    key: `${prefix}b`,
    versions: 3,
    deleted: true,
    lastModified: expect.any(Date),
  });
  expect(all.at(-1)!.lastModified.getTime()).toBeGreaterThanOrEqual(deletedFrom);
  expect(all.at(-1)!.lastModified.getTime()).toBeLessThanOrEqual(Date.now());
  expect(all.slice(0, -1).every((entry) => entry.versions === 1 && !entry.deleted)).toBe(true);
});
