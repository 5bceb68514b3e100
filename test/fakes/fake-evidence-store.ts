import { createHash } from 'node:crypto';
import type {
  EvidenceStore,
  KeyHistory,
  KeyPage,
  KeyVersions,
  PutOptions,
  StoredObject,
} from '../../evidence/store-port';

interface Version {
  versionId: string;
  body?: Buffer;
  lockMode?: string;
  retainUntil?: Date;
  deleteMarker: boolean;
  writtenAt: Date;
}

/** A version as GetObject answers it; undefined for none or a delete marker. */
function stored(version: Version | undefined): StoredObject | undefined {
  if (!version || version.deleteMarker || !version.body) return undefined;
  return {
    body: Buffer.from(version.body),
    versionId: version.versionId,
    ...(version.lockMode ? { lockMode: version.lockMode } : {}),
    ...(version.retainUntil ? { retainUntil: version.retainUntil } : {}),
  };
}

/**
 * An S3 bucket with versioning and Object Lock, in memory, behind the evidence store port. Like S3 it keeps
 * every version, refuses a body whose SHA-256 does not match the checksum sent, refuses to delete a version
 * under COMPLIANCE retention or to shorten its lock, and answers a conditional write on an existing key with
 * "exists" (but writes over a delete marker, as S3's If-None-Match does). Tests tamper
 * through `putVersion` / `addDeleteMarker`, as someone writing to the bucket behind drctl's back would.
 */
export class FakeEvidenceStore implements EvidenceStore {
  readonly location = 's3://fake-evidence';
  private readonly keys = new Map<string, Version[]>();
  private nextVersion = 1;

  constructor(private readonly now: () => Date = () => new Date()) {}

  async listKeys(prefix: string): Promise<KeyVersions[]> {
    const listed = this.sortedUnder(prefix);
    this.listRequests += Math.max(
      1,
      Math.ceil(listed.reduce((n, [, versions]) => n + versions.length, 0) / 1000),
    );
    return listed.map(([key, versions]) => ({
      key,
      versions: versions.filter((version) => !version.deleteMarker).length,
      deleted: versions[versions.length - 1]?.deleteMarker === true,
      lastModified: versions.at(-1)!.writtenAt,
    }));
  }

  /** Like S3's ListObjectVersions: `maxEntries` counts versions and delete markers, a key's newest entry first. */
  async listKeysPage(prefix: string, afterKey: string | undefined, maxKeys: number): Promise<KeyPage> {
    this.listRequests++;
    // S3 returns at most 1,000 entries whatever MaxKeys asks.
    const maxEntries = Math.min(maxKeys, 1000);
    const keys: KeyVersions[] = [];
    let entries = 0;
    for (const [key, versions] of this.sortedUnder(prefix)) {
      if (afterKey !== undefined && key <= afterKey) continue;
      if (entries >= maxEntries) return { keys, truncated: true };
      const listed = versions.slice(-(maxEntries - entries)).reverse();
      entries += listed.length;
      keys.push({
        key,
        versions: listed.filter((version) => !version.deleteMarker).length,
        deleted: versions.at(-1)?.deleteMarker === true,
        lastModified: versions.at(-1)!.writtenAt,
      });
      if (listed.length < versions.length) return { keys, truncated: true };
    }
    return { keys, truncated: false };
  }

  /** Listing requests made (`listKeys` counts as one per 1,000 entries, as S3 pages it). */
  listRequests = 0;

  private sortedUnder(prefix: string): Array<[string, Version[]]> {
    return [...this.keys.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** GetObject requests made, the most ever in flight at once, and how long each takes to answer (as S3's latency). */
  getRequests = 0;
  maxGetsInFlight = 0;
  getLatencyMs = 0;
  private getsInFlight = 0;

  async get(key: string): Promise<StoredObject | undefined> {
    this.getRequests++;
    if (this.getLatencyMs > 0) {
      this.maxGetsInFlight = Math.max(this.maxGetsInFlight, ++this.getsInFlight);
      await new Promise((resolve) => setTimeout(resolve, this.getLatencyMs));
      this.getsInFlight--;
    }
    return stored(this.keys.get(key)?.at(-1));
  }

  /** GetObject with a VersionId: counted as a GetObject request. */
  async getVersion(key: string, versionId: string): Promise<StoredObject | undefined> {
    this.getRequests++;
    return stored(this.keys.get(key)?.find((version) => version.versionId === versionId));
  }

  /** One ListObjectVersions request (a key has far fewer than 1,000 entries here). */
  async listVersions(key: string): Promise<KeyHistory> {
    this.listRequests++;
    const newestFirst = [...(this.keys.get(key) ?? [])].reverse();
    return {
      versions: newestFirst
        .filter((version) => !version.deleteMarker)
        .map(({ versionId, writtenAt }) => ({ versionId, lastModified: writtenAt })),
      deleteMarkers: newestFirst
        .filter((version) => version.deleteMarker)
        .map(({ versionId, writtenAt }, index) => ({
          versionId,
          lastModified: writtenAt,
          isLatest: index === 0 && newestFirst[0]!.deleteMarker,
        })),
    };
  }

  /**
   * PutObjectRetention: as S3, refused on a delete marker (MethodNotAllowed) and when it would move an unexpired
   * lock's date earlier (AccessDenied: COMPLIANCE is extended, never shortened).
   */
  async extendRetention(key: string, retainUntil: Date, versionId?: string): Promise<void> {
    const versions = this.keys.get(key) ?? [];
    const version =
      versionId === undefined
        ? versions.at(-1)
        : versions.find((candidate) => candidate.versionId === versionId);
    if (!version)
      throw new Error(
        `${versionId === undefined ? 'NoSuchKey' : 'NoSuchVersion'}: ${key} ${versionId ?? ''}`,
      );
    if (version.deleteMarker)
      throw new Error(
        `MethodNotAllowed: ${key} version ${version.versionId} is a delete marker, it holds no lock`,
      );
    if (version.retainUntil && version.retainUntil > this.now() && retainUntil < version.retainUntil) {
      throw new Error(
        `AccessDenied: ${key} version ${version.versionId} is locked ${version.lockMode ?? ''} until ${version.retainUntil.toISOString()}; its retention cannot be shortened to ${retainUntil.toISOString()}`,
      );
    }
    version.lockMode = 'COMPLIANCE';
    version.retainUntil = new Date(retainUntil);
  }

  async put(key: string, body: Buffer, options: PutOptions): Promise<'written' | 'exists'> {
    if (Buffer.byteLength(key, 'utf8') > 1024) {
      throw new Error(`KeyTooLongError: Your key is too long (${key.slice(0, 40)}…)`);
    }
    const actual = createHash('sha256').update(body).digest('hex');
    if (actual !== options.sha256Hex) {
      throw new Error(`BadDigest: the SHA256 you specified did not match the calculated checksum (${key})`);
    }
    const latest = this.keys.get(key)?.at(-1);
    if (options.onlyIfAbsent && latest && !latest.deleteMarker) return 'exists';
    this.putVersion(key, body, { lockMode: options.lockMode, retainUntil: options.retainUntil });
    return 'written';
  }

  /** A new version written straight to the bucket (tampering, or a second writer). */
  putVersion(key: string, body: Buffer | string, lock: { lockMode?: string; retainUntil?: Date } = {}): void {
    const versions = this.keys.get(key) ?? [];
    versions.push({
      versionId: `v${this.nextVersion++}`,
      body: Buffer.from(body),
      ...(lock.lockMode ? { lockMode: lock.lockMode } : {}),
      ...(lock.retainUntil ? { retainUntil: lock.retainUntil } : {}),
      deleteMarker: false,
      writtenAt: this.now(),
    });
    this.keys.set(key, versions);
  }

  /** DeleteObject without a version id: allowed under Object Lock, it only hides the key. */
  addDeleteMarker(key: string): void {
    const versions = this.keys.get(key) ?? [];
    versions.push({ versionId: `v${this.nextVersion++}`, deleteMarker: true, writtenAt: this.now() });
    this.keys.set(key, versions);
  }

  /** DeleteObject with a version id: refused while a COMPLIANCE lock holds, as S3 refuses it. */
  deleteVersion(key: string, versionId: string): void {
    const versions = this.keys.get(key) ?? [];
    const version = versions.find((candidate) => candidate.versionId === versionId);
    if (!version) throw new Error(`NoSuchVersion: ${key} ${versionId}`);
    if (version.lockMode === 'COMPLIANCE' && version.retainUntil && version.retainUntil > this.now()) {
      throw new Error(
        `AccessDenied: ${key} version ${versionId} is locked in COMPLIANCE mode until ${version.retainUntil.toISOString()}`,
      );
    }
    this.keys.set(
      key,
      versions.filter((candidate) => candidate !== version),
    );
  }

  /** The raw current bytes of a key, for a test to build a tampered copy from. */
  bytes(key: string): Buffer {
    const latest = this.keys.get(key)?.at(-1);
    if (!latest?.body) throw new Error(`no object at ${key}`);
    return Buffer.from(latest.body);
  }

  allKeys(): string[] {
    return [...this.keys.keys()].sort();
  }
}
