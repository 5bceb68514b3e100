import { PermanentFailure, permanentFailure } from '../../activities/failures';
import { createChecksum } from '../../activities/backups/checksum';
import type {
  BucketRef,
  ObjectHead,
  ObjectLockConfig,
  ObjectSummary,
  S3Port,
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
    options: { body?: string; lastModified: Date; lockMode?: string; retainUntil?: Date },
  ): FakeObject {
    const body = new TextEncoder().encode(options.body ?? `backup ${key}`);
    const sha = createChecksum('SHA256');
    sha.update(body);
    const object: FakeObject = {
      body,
      lastModified: options.lastModified,
      head: {
        checksums: { SHA256: sha.digestBase64() },
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
    let newest: ObjectSummary | undefined;
    for (const [key, object] of this.bucket(ref.bucket).objects) {
      if (!key.startsWith(prefix)) continue;
      if (!newest || object.lastModified > newest.lastModified) {
        newest = { key, lastModified: object.lastModified, size: object.body.length };
      }
    }
    return newest;
  }

  async headObject(ref: BucketRef, key: string): Promise<ObjectHead> {
    const object = this.object(ref.bucket, key);
    return { ...object.head, checksums: { ...object.head.checksums } };
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
