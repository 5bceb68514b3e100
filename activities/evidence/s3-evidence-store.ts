import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type {
  EvidenceStore,
  KeyHistory,
  KeyVersions,
  PutOptions,
  StoredObject,
} from '../../evidence/store-port';
import { toAwsFailure } from '../dns/aws-failure';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';

const NOT_FOUND = new Set<string>();
/** Errors of the bucket's state, where every run's evidence would be refused the same way. */
const BUCKET_STATE_ERRORS: ReadonlySet<string> = new Set(['InvalidRequest', 'InvalidBucketState']);
/** 4xx answers S3 documents as "send the request again". */
const RETRYABLE_REJECTIONS: ReadonlySet<string> = new Set([
  'RequestTimeout',
  'OperationAborted',
  'ConditionalRequestConflict',
  'BadDigest',
]);
/** What a rejection the store does not name means: this run's bundle, not a runbook (the ledger drops it). */
const REJECTED_BUNDLE =
  "this run's bundle cannot be written as it is; if every run's is refused so, check DRCTL_EVIDENCE_BUCKET and the bucket";

/**
 * The evidence bucket through the AWS SDK v3 (AWS, or moto in the sandbox). Every PUT carries its SHA-256
 * checksum, so S3 refuses bytes that changed on the way, and its COMPLIANCE lock; manifests are written with
 * If-None-Match, so S3 itself refuses a second manifest for a sequence already taken.
 */
export function createS3EvidenceStore(
  s3: S3Client,
  bucket: string,
  /** Every object is written SSE-KMS under this key when set; else under the bucket's default encryption. */
  settings: { kmsKeyId?: string } = {},
): EvidenceStore {
  const encryption =
    settings.kmsKeyId === undefined
      ? {}
      : { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: settings.kmsKeyId };
  async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw failure(operation, error);
    }
  }

  /** A missing bucket, an unusable key, a bucket without Object Lock: configuration faults (the ledger keeps the run queued). */
  function failure(operation: string, error: unknown) {
    if ((error as { name?: string }).name === 'NoSuchBucket') {
      return permanentFailure(
        PermanentFailure.ConfigurationMissing,
        `evidence bucket ${bucket} does not exist (${operation}): create it with Object Lock enabled (COMPLIANCE, 6 years) or fix DRCTL_EVIDENCE_BUCKET`,
      );
    }
    const { name, message, $metadata } = error as {
      name?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
    };
    const status = $metadata?.httpStatusCode;
    // S3 names the KMS error it met (KMS.NotFoundException, KMS.DisabledException, …). On a read the key is the
    // one the object was written under, which S3's message names; it may be an earlier evidence key.
    if (name?.startsWith('KMS.') && status !== undefined && status >= 400 && status < 500)
      return permanentFailure(
        PermanentFailure.ConfigurationMissing,
        `S3 could not use a KMS key for ${operation} (${name}: ${message ?? ''}): the evidence key ` +
          `(${settings.kmsKeyId === undefined ? "none is set: the bucket's default key" : `DRCTL_EVIDENCE_KMS_KEY_ID ${settings.kmsKeyId}`}), ` +
          `or on a read the key the object was written under, must exist and be enabled in the bucket's Region, and the worker needs ` +
          `kms:GenerateDataKey and kms:Decrypt on it (drctl iam-policy --evidence-kms-key … --evidence-region …)`,
      );
    // The bucket's own state (no Object Lock, a bucket S3 will not write to): the ledger keeps the run queued.
    if (name !== undefined && BUCKET_STATE_ERRORS.has(name))
      return permanentFailure(
        PermanentFailure.ConfigurationMissing,
        `S3 refused ${operation} (${name}: ${message ?? ''}): evidence bucket ${bucket} must be versioned with Object Lock ` +
          `enabled (COMPLIANCE); check DRCTL_EVIDENCE_BUCKET and the bucket's settings`,
      );
    // A request S3 asks to send again: retried like a throttle, not taken as a fault of the run or the settings.
    if (name !== undefined && RETRYABLE_REJECTIONS.has(name))
      return transientFailure(name, `S3 asked to retry ${operation} (${name}); will retry`);
    // Any other rejection (a key too long, an object too large) is the run's: the ledger cannot bundle it.
    return toAwsFailure('S3', `${operation} (evidence bucket)`, error, NOT_FOUND, REJECTED_BUNDLE);
  }

  /** One ListObjectVersions request: its keys in order with the versions and markers it listed, and where to go on. */
  async function listPage(
    prefix: string,
    keyMarker: string | undefined,
    maxKeys: number,
    versionIdMarker?: string,
  ): Promise<{ keys: KeyVersions[]; truncated: boolean; next?: { key: string; versionId?: string } }> {
    const out = await call(`ListObjectVersions s3://${bucket}/${prefix}`, () =>
      s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: prefix,
          MaxKeys: maxKeys,
          ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
          ...(versionIdMarker === undefined ? {} : { VersionIdMarker: versionIdMarker }),
        }),
      ),
    );
    const byKey = new Map<string, KeyVersions>();
    const entry = (key: string) => {
      let found = byKey.get(key);
      if (!found) byKey.set(key, (found = { key, versions: 0, deleted: false, lastModified: new Date(0) }));
      return found;
    };
    const newest = (found: KeyVersions, at: Date | undefined) => {
      if (at !== undefined && at > found.lastModified) found.lastModified = new Date(at);
    };
    for (const version of out.Versions ?? []) {
      if (!version.Key) continue;
      const found = entry(version.Key);
      found.versions++;
      newest(found, version.LastModified);
    }
    for (const marker of out.DeleteMarkers ?? []) {
      if (!marker.Key) continue;
      const found = entry(marker.Key);
      found.deleted ||= marker.IsLatest === true;
      newest(found, marker.LastModified);
    }
    const keys = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const next =
      out.IsTruncated && out.NextKeyMarker
        ? {
            key: out.NextKeyMarker,
            ...(out.NextVersionIdMarker ? { versionId: out.NextVersionIdMarker } : {}),
          }
        : undefined;
    const truncated = out.IsTruncated === true;
    return next === undefined ? { keys, truncated } : { keys, truncated, next };
  }

  /** The current version of a key, or the version named; undefined when absent, hidden, or a delete marker. */
  async function read(key: string, versionId?: string): Promise<StoredObject | undefined> {
    let out;
    try {
      out = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(versionId === undefined ? {} : { VersionId: versionId }),
        }),
      );
    } catch (error) {
      const name = (error as { name?: string }).name;
      // A key whose newest entry is a delete marker answers 404 NoSuchKey, like a key never written; a version id
      // that is not there answers NoSuchVersion, and one that names a delete marker 405 MethodNotAllowed.
      if (
        name === 'NoSuchKey' ||
        name === 'NotFound' ||
        name === 'NoSuchVersion' ||
        name === 'MethodNotAllowed'
      )
        return undefined;
      const which = versionId === undefined ? '' : ` version ${versionId}`;
      throw failure(`GetObject s3://${bucket}/${key}${which}`, error);
    }
    const body = Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
    return {
      body,
      ...(out.VersionId ? { versionId: out.VersionId } : {}),
      ...(out.ObjectLockMode ? { lockMode: out.ObjectLockMode } : {}),
      ...(out.ObjectLockRetainUntilDate ? { retainUntil: new Date(out.ObjectLockRetainUntilDate) } : {}),
    };
  }

  return {
    location: `s3://${bucket}`,

    async listKeys(prefix: string): Promise<KeyVersions[]> {
      const keys: KeyVersions[] = [];
      let marker: { key: string; versionId?: string } | undefined;
      do {
        const page = await listPage(prefix, marker?.key, 1000, marker?.versionId);
        // A key split across two pages: its versions continue on the next.
        const continued = page.keys[0]?.key === keys.at(-1)?.key ? page.keys.shift() : undefined;
        const last = keys.at(-1);
        if (continued && last) {
          last.versions += continued.versions;
          last.deleted ||= continued.deleted;
          if (continued.lastModified > last.lastModified) last.lastModified = continued.lastModified;
        }
        keys.push(...page.keys);
        marker = page.next;
      } while (marker);
      return keys;
    },

    async listKeysPage(prefix, afterKey, maxEntries) {
      const page = await listPage(prefix, afterKey, maxEntries);
      // Only keys after the marker, as ListObjectVersions documents key-marker: an emulator (moto 5) that also
      // answers older entries of the marker's own key must not make a hidden manifest look current.
      const keys = afterKey === undefined ? page.keys : page.keys.filter((entry) => entry.key > afterKey);
      return { keys, truncated: page.truncated };
    },

    get: (key: string) => read(key),

    getVersion: (key: string, versionId: string) => read(key, versionId),

    async put(key: string, body: Buffer, options: PutOptions): Promise<'written' | 'exists'> {
      try {
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: options.contentType,
            ChecksumAlgorithm: 'SHA256',
            ChecksumSHA256: Buffer.from(options.sha256Hex, 'hex').toString('base64'),
            ObjectLockMode: options.lockMode,
            ObjectLockRetainUntilDate: options.retainUntil,
            ...encryption,
            ...(options.onlyIfAbsent ? { IfNoneMatch: '*' } : {}),
          }),
        );
        return 'written';
      } catch (error) {
        const shape = error as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (
          options.onlyIfAbsent &&
          (shape.name === 'PreconditionFailed' || shape.$metadata?.httpStatusCode === 412)
        )
          return 'exists';
        throw failure(`PutObject s3://${bucket}/${key}`, error);
      }
    },

    async listVersions(key: string): Promise<KeyHistory> {
      const history: KeyHistory = { versions: [], deleteMarkers: [] };
      const seen = new Set<string>();
      let marker: { key: string; versionId?: string } | undefined;
      for (;;) {
        const out = await call(`ListObjectVersions s3://${bucket}/${key}`, () =>
          s3.send(
            new ListObjectVersionsCommand({
              Bucket: bucket,
              Prefix: key,
              ...(marker === undefined ? {} : { KeyMarker: marker.key }),
              ...(marker?.versionId === undefined ? {} : { VersionIdMarker: marker.versionId }),
            }),
          ),
        );
        // S3 lists a key's entries newest first; an emulator repeating an entry across pages must not count it twice.
        const isNew = (entry: { Key?: string; VersionId?: string }): string | undefined => {
          if (entry.Key !== key || entry.VersionId === undefined || seen.has(entry.VersionId))
            return undefined;
          seen.add(entry.VersionId);
          return entry.VersionId;
        };
        for (const version of out.Versions ?? []) {
          const versionId = isNew(version);
          if (versionId !== undefined)
            history.versions.push({ versionId, lastModified: new Date(version.LastModified ?? 0) });
        }
        for (const deleteMarker of out.DeleteMarkers ?? []) {
          const versionId = isNew(deleteMarker);
          if (versionId !== undefined)
            history.deleteMarkers.push({
              versionId,
              lastModified: new Date(deleteMarker.LastModified ?? 0),
              isLatest: deleteMarker.IsLatest === true,
            });
        }
        // Keys longer than this one share its prefix and sort after it: once listed, its own entries are all read.
        const passed = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].some(
          (entry) => entry.Key !== undefined && entry.Key > key,
        );
        if (passed || !out.IsTruncated || !out.NextKeyMarker) return history;
        marker = {
          key: out.NextKeyMarker,
          ...(out.NextVersionIdMarker ? { versionId: out.NextVersionIdMarker } : {}),
        };
      }
    },

    async extendRetention(key: string, retainUntil: Date, versionId?: string): Promise<void> {
      const which = versionId === undefined ? '' : ` version ${versionId}`;
      await call(`PutObjectRetention s3://${bucket}/${key}${which}`, () =>
        s3.send(
          new PutObjectRetentionCommand({
            Bucket: bucket,
            Key: key,
            ...(versionId === undefined ? {} : { VersionId: versionId }),
            Retention: { Mode: 'COMPLIANCE', RetainUntilDate: retainUntil },
          }),
        ),
      );
    },
  };
}
