import {
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { toAwsFailure } from '../dns/aws-failure';
import {
  newerFirst,
  type BucketRef,
  type ChecksumAlgorithm,
  type ObjectHead,
  type ObjectLockConfig,
  type ObjectSummary,
  type UploadsSince,
  type S3Port,
} from './s3-port';

const NOT_FOUND = new Set(['NoSuchBucket', 'NoSuchKey', 'NotFound']);
const NO_LOCK_CONFIG = new Set(['ObjectLockConfigurationNotFoundError', 'ObjectLockConfigurationNotFound']);

/** S3 through AWS SDK v3 clients, one per region, made by `clientForRegion` (pointed at AWS or moto). */
export function createS3Adapter(clientForRegion: (region?: string) => S3Client): S3Port {
  async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toAwsFailure('S3', operation, error, NOT_FOUND);
    }
  }

  /** Every current object under `prefix` (folder markers left out), page by page. */
  async function* listed(ref: BucketRef, prefix: string): AsyncIterable<ObjectSummary> {
    let token: string | undefined;
    do {
      const out = await call(`ListObjectsV2 s3://${ref.bucket}/${prefix}`, () =>
        clientForRegion(ref.region).send(
          new ListObjectsV2Command({ Bucket: ref.bucket, Prefix: prefix, ContinuationToken: token }),
        ),
      );
      for (const object of out.Contents ?? []) {
        if (!object.Key || !object.LastModified || object.Key.endsWith('/')) continue;
        yield { key: object.Key, lastModified: object.LastModified, size: object.Size ?? 0 };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  return {
    async getVersioningStatus(ref: BucketRef): Promise<string> {
      const out = await call(`GetBucketVersioning ${ref.bucket}`, () =>
        clientForRegion(ref.region).send(new GetBucketVersioningCommand({ Bucket: ref.bucket })),
      );
      return out.Status ?? 'Off';
    },

    async getObjectLockConfig(ref: BucketRef): Promise<ObjectLockConfig> {
      try {
        const out = await clientForRegion(ref.region).send(
          new GetObjectLockConfigurationCommand({ Bucket: ref.bucket }),
        );
        const config = out.ObjectLockConfiguration;
        const mode = config?.Rule?.DefaultRetention?.Mode;
        return { enabled: config?.ObjectLockEnabled === 'Enabled', ...(mode ? { defaultMode: mode } : {}) };
      } catch (error) {
        if (NO_LOCK_CONFIG.has((error as { name?: string }).name ?? '')) return { enabled: false };
        throw toAwsFailure('S3', `GetObjectLockConfiguration ${ref.bucket}`, error, NOT_FOUND);
      }
    },

    async newestObject(ref: BucketRef, prefix: string): Promise<ObjectSummary | undefined> {
      let newest: ObjectSummary | undefined;
      for await (const object of listed(ref, prefix)) {
        if (!newest || newerFirst(object, newest) < 0) newest = object;
      }
      return newest;
    },

    async uploadsSince(ref: BucketRef, prefix: string, since: Date): Promise<UploadsSince> {
      const recent: ObjectSummary[] = [];
      let newest: ObjectSummary | undefined;
      for await (const object of listed(ref, prefix)) {
        if (object.lastModified >= since) recent.push(object);
        if (!newest || newerFirst(object, newest) < 0) newest = object;
      }
      return { recent: recent.sort(newerFirst), newest };
    },

    async headObject(ref: BucketRef, key: string): Promise<ObjectHead> {
      const out = await call(`HeadObject s3://${ref.bucket}/${key}`, () =>
        clientForRegion(ref.region).send(
          new HeadObjectCommand({ Bucket: ref.bucket, Key: key, ChecksumMode: 'ENABLED' }),
        ),
      );
      const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
      if (out.ChecksumSHA256) checksums.SHA256 = out.ChecksumSHA256;
      if (out.ChecksumSHA1) checksums.SHA1 = out.ChecksumSHA1;
      if (out.ChecksumCRC32C) checksums.CRC32C = out.ChecksumCRC32C;
      if (out.ChecksumCRC32) checksums.CRC32 = out.ChecksumCRC32;
      if (out.ChecksumCRC64NVME) checksums.CRC64NVME = out.ChecksumCRC64NVME;
      return {
        checksums,
        ...(out.ObjectLockMode ? { lockMode: out.ObjectLockMode } : {}),
        ...(out.ObjectLockRetainUntilDate ? { retainUntil: new Date(out.ObjectLockRetainUntilDate) } : {}),
        ...(out.ChecksumType ? { checksumType: out.ChecksumType } : {}),
        metadata: { ...out.Metadata },
      };
    },

    async readObject(ref: BucketRef, key: string): Promise<AsyncIterable<Uint8Array>> {
      const out = await call(`GetObject s3://${ref.bucket}/${key}`, () =>
        clientForRegion(ref.region).send(new GetObjectCommand({ Bucket: ref.bucket, Key: key })),
      );
      // In Node the SDK's Body is a Readable stream, which is async-iterable.
      return (out.Body as AsyncIterable<Uint8Array> | undefined) ?? emptyBody();
    },
  };
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}
