import { PermanentFailure, permanentFailure } from '../../activities/failures';
import { createChecksum } from '../../activities/backups/checksum';
import {
  newerFirst,
  type BucketRef,
  type ObjectHead,
  type ObjectLockConfig,
  type ObjectSummary,
  type S3Port,
  type UploadsSince,
} from '../../activities/backups/s3-port';

export interface FakeObject {
  body: Uint8Array;
  lastModified: Date;
  head: ObjectHead;
}

export interface FakeBucket {
  versioning: string;
  lock: ObjectLockConfig;
  objects: Map<string, FakeObject>;
}

/** In-memory S3 behind the real port; buckets are public so a test can age, unlock or corrupt a backup. */
export class FakeS3 implements S3Port {
  readonly buckets = new Map<string, FakeBucket>();
  readonly reads: string[] = [];
  /** The prefixes listed, one entry per walk through a listing (ListObjectsV2 and its pages). */
  readonly listings: string[] = [];

  addBucket(name: string, bucket: Partial<Omit<FakeBucket, 'objects'>> = {}): FakeBucket {
    const created: FakeBucket = {
      versioning: bucket.versioning ?? 'Enabled',
      lock: bucket.lock ?? { enabled: true, defaultMode: 'COMPLIANCE' },
      objects: new Map(),
    };
    this.buckets.set(name, created);
    return created;
  }

  /** Stores an object with a correct SHA256 checksum and the given lock, as the backup job would. */
  putBackup(
    bucket: string,
    key: string,
    options: {
      body?: string;
      lastModified: Date;
      lockMode?: string;
      retainUntil?: Date;
      metadata?: Record<string, string>;
    },
  ): FakeObject {
    const body = new TextEncoder().encode(options.body ?? `backup ${key}`);
    const sha = createChecksum('SHA256');
    sha.update(body);
    const object: FakeObject = {
      body,
      lastModified: options.lastModified,
      head: {
        checksums: { SHA256: sha.digestBase64() },
        // S3 keeps user metadata under lower-cased names (HTTP headers), as HeadObject returns them.
        metadata: Object.fromEntries(
          Object.entries(options.metadata ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
        ),
        ...(options.lockMode ? { lockMode: options.lockMode } : {}),
        ...(options.retainUntil ? { retainUntil: options.retainUntil } : {}),
      },
    };
    this.bucket(bucket).objects.set(key, object);
    return object;
  }

  async getVersioningStatus(ref: BucketRef): Promise<string> {
    return this.bucket(ref.bucket).versioning;
  }

  async getObjectLockConfig(ref: BucketRef): Promise<ObjectLockConfig> {
    return { ...this.bucket(ref.bucket).lock };
  }

  async newestObject(ref: BucketRef, prefix: string): Promise<ObjectSummary | undefined> {
    return this.listed(ref, prefix).sort(newerFirst)[0];
  }

  async uploadsSince(ref: BucketRef, prefix: string, since: Date): Promise<UploadsSince> {
    const listed = this.listed(ref, prefix).sort(newerFirst);
    return { recent: listed.filter((object) => object.lastModified >= since), newest: listed[0] };
  }

  async headObject(ref: BucketRef, key: string): Promise<ObjectHead> {
    const object = this.object(ref.bucket, key);
    return { ...object.head, checksums: { ...object.head.checksums }, metadata: { ...object.head.metadata } };
  }

  async readObject(ref: BucketRef, key: string): Promise<AsyncIterable<Uint8Array>> {
    this.reads.push(key);
    const body = this.object(ref.bucket, key).body;
    // Two chunks, so incremental hashing is exercised.
    const middle = Math.floor(body.length / 2);
    return (async function* () {
      yield body.slice(0, middle);
      yield body.slice(middle);
    })();
  }

  /** Objects under `prefix`, with LastModified to the second as S3 lists it. */
  private listed(ref: BucketRef, prefix: string): ObjectSummary[] {
    this.listings.push(prefix);
    return [...this.bucket(ref.bucket).objects]
      .filter(([key]) => key.startsWith(prefix) && !key.endsWith('/'))
      .map(([key, object]) => ({
        key,
        lastModified: new Date(Math.floor(object.lastModified.getTime() / 1000) * 1000),
        size: object.body.length,
      }));
  }

  private bucket(name: string): FakeBucket {
    const bucket = this.buckets.get(name);
    if (!bucket)
      throw permanentFailure(
        PermanentFailure.NotFound,
        `S3 bucket ${name} does not exist; check the runbook`,
      );
    return bucket;
  }

  private object(bucket: string, key: string): FakeObject {
    const object = this.bucket(bucket).objects.get(key);
    if (!object) throw permanentFailure(PermanentFailure.NotFound, `s3://${bucket}/${key} does not exist`);
    return object;
  }
}
