/**
 * The few object-store operations evidence needs, over an S3 bucket with Object Lock. The S3 adapter
 * (activities/evidence/s3-evidence-store.ts) and the in-memory fake (test/fakes) implement it.
 */
export interface StoredObject {
  body: Buffer;
  versionId?: string;
  lockMode?: string;
  retainUntil?: Date;
}

export interface KeyVersions {
  key: string;
  /** Object versions kept under the key (Object Lock keeps every one until its retention ends). */
  versions: number;
  /** True when the newest entry is a delete marker: the key reads as absent though its versions remain. */
  deleted: boolean;
  /** When S3 stored the key's newest entry (LastModified, set by S3, not by the writer). */
  lastModified: Date;
}

export interface KeyPage {
  keys: KeyVersions[];
  truncated: boolean;
}

export interface PutOptions {
  sha256Hex: string;
  contentType: string;
  lockMode: 'COMPLIANCE';
  retainUntil: Date;
  /** Refuse (return 'exists') when the key already has a current object: a conditional write (If-None-Match). */
  onlyIfAbsent?: boolean;
}

export interface EvidenceStore {
  /** Where the store points, for messages (`s3://bucket`). */
  readonly location: string;
  /** Every key under the prefix with its versions, in key order. */
  listKeys(prefix: string): Promise<KeyVersions[]>;
  /**
   * One listing request: the keys under the prefix after `afterKey` (from the first when undefined), in key order,
   * with at most `maxEntries` versions and delete markers in all (S3's MaxKeys); `truncated` when more follow. A
   * key's `deleted` is exact; its `versions` may be short on the last key of a truncated page.
   */
  listKeysPage(prefix: string, afterKey: string | undefined, maxEntries: number): Promise<KeyPage>;
  /** The current version of a key, with its lock; undefined when absent or hidden by a delete marker. */
  get(key: string): Promise<StoredObject | undefined>;
  put(key: string, body: Buffer, options: PutOptions): Promise<'written' | 'exists'>;
}
