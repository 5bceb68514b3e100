/** The narrow slice of S3 that backup verification uses. The real adapter wraps the AWS SDK; tests use a fake. */

export interface BucketRef {
  bucket: string;
  /** The bucket's region; the adapter's default region when absent. */
  region?: string;
}

export type ChecksumAlgorithm = 'SHA256' | 'SHA1' | 'CRC32' | 'CRC32C' | 'CRC64NVME';

export interface ObjectLockConfig {
  enabled: boolean;
  /** The bucket's default retention mode, when it has one. */
  defaultMode?: string;
}

export interface ObjectSummary {
  key: string;
  lastModified: Date;
  size: number;
}

export interface ObjectHead {
  lockMode?: string;
  retainUntil?: Date;
  /** Checksums S3 stored with the object, base64 as S3 returns them. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
  /** `COMPOSITE` for multipart uploads (the checksum is of the parts' checksums, with a `-N` suffix). */
  checksumType?: string;
  /** The object's user metadata (`x-amz-meta-*`), keys in lower case without the prefix, as S3 returns them. */
  metadata: Record<string, string>;
}

export interface UploadsSince {
  recent: ObjectSummary[];
  newest: ObjectSummary | undefined;
}

export interface S3Port {
  /** `Enabled`, `Suspended`, or `Off` for a bucket that never had versioning. */
  getVersioningStatus(ref: BucketRef): Promise<string>;
  getObjectLockConfig(ref: BucketRef): Promise<ObjectLockConfig>;
  /**
   * The most recently modified current object under `prefix`, or undefined when there is none. S3 lists
   * LastModified to the second: of objects written in the same second, the one with the greatest key.
   */
  newestObject(ref: BucketRef, prefix: string): Promise<ObjectSummary | undefined>;
  /**
   * From one listing of `prefix`: its current objects modified at or after `since`, newest first (`newestObject`'s
   * order), and its newest object whenever it was modified (undefined for an empty prefix).
   */
  uploadsSince(ref: BucketRef, prefix: string, since: Date): Promise<UploadsSince>;
  /** HeadObject with checksum mode enabled. */
  headObject(ref: BucketRef, key: string): Promise<ObjectHead>;
  /**
   * Opens the object and resolves to its bytes as a stream of chunks, so large backups are hashed without
   * holding them in memory. A Promise (not an async generator) so `timed()` can wrap the port.
   */
  readObject(ref: BucketRef, key: string): Promise<AsyncIterable<Uint8Array>>;
}

/**
 * The order `newestObject` and `uploadsSince` use: later LastModified first, then the greater key (backup
 * jobs name their objects after the time they stand for, and S3 lists LastModified only to the second).
 */
export function newerFirst(a: ObjectSummary, b: ObjectSummary): number {
  const byTime = b.lastModified.getTime() - a.lastModified.getTime();
  if (byTime !== 0) return byTime;
  return a.key < b.key ? 1 : a.key > b.key ? -1 : 0;
}
