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

/** What S3 keeps under one key: its object versions and its delete markers, each list newest first. */
export interface KeyHistory {
  versions: Array<{ versionId: string; lastModified: Date }>;
  deleteMarkers: Array<{ versionId: string; lastModified: Date; isLatest: boolean }>;
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
  /** Every version and delete marker of exactly this key (ListObjectVersions), a delete marker hides none of them. */
  listVersions(key: string): Promise<KeyHistory>;
  /**
   * One version of a key by its id, with its lock (GetObject with VersionId: IAM's s3:GetObjectVersion); undefined
   * when the key has no such version or it is a delete marker.
   */
  getVersion(key: string, versionId: string): Promise<StoredObject | undefined>;
  /**
   * Locks one version (the current one without `versionId`) in COMPLIANCE mode until `retainUntil`
   * (PutObjectRetention). S3 refuses a date earlier than a COMPLIANCE lock already holds: extend, never shorten.
   */
  extendRetention(key: string, retainUntil: Date, versionId?: string): Promise<void>;
}
