import { ApplicationFailure } from '@temporalio/common';
import type { CheckResult } from '../../activities/contracts';
import type { ActivityPorts } from '../../activities/ports';
import { PermanentFailure, permanentFailure } from '../../activities/failures';
import { measuredChecks, runStep } from '../../activities/step-outcome';
import { heartbeat as activityHeartbeat } from '../../activities/poll-until';
import { durationToMs, formatMs } from '../../runbooks/duration';
import { CHECKSUM_PREFERENCE, canRecompute, checksumOf } from '../../activities/backups/checksum';
import type { BucketRef, ObjectHead, ObjectSummary, S3Port } from '../../activities/backups/s3-port';
import type { BackupsInput, BackupsVerifyActivities } from './definition';

export interface BackupActivityDeps {
  s3: S3Port;
  /** The clock ages and retention are measured against; injected so tests can move it. */
  now: () => Date;
  /** Called after each chunk hashed, with the progress. Defaults to the activity's heartbeat. */
  heartbeat?: (progress: HashProgress) => void;
}

/** How far the recomputation of a backup's checksum has got: heartbeated per chunk. */
export interface HashProgress {
  key: string;
  bytesHashed: number;
  size: number;
}

/** Everything the checks found, for the step's facts. */
interface Findings {
  key?: string;
  /** The time the newest backup stands for: its takenAt metadata, else its upload. */
  takenAt?: Date;
  uploadedAt?: Date;
  ageMs?: number;
  retainUntil?: Date;
  checksum?: string;
}

/**
 * Which checks run. The step recomputes the checksum (`hash`), the only read of the whole object in a run; plan and
 * pre-flight check metadata and retention only. A hash from the plan or pre-flight is not reused: the plan is
 * another workflow, and between pre-flight and step a backup job may write a newer object, which the step must
 * hash itself. Hashing there too read a real backup three times per run.
 */
interface CheckScope {
  hash: boolean;
}

export function activitiesFromPorts(ports: ActivityPorts): BackupsVerifyActivities {
  return createBackupActivities({ s3: ports.s3, now: ports.now ?? (() => new Date()) });
}

export function createBackupActivities({
  s3,
  now,
  heartbeat = activityHeartbeat,
}: BackupActivityDeps): BackupsVerifyActivities {
  async function runChecks(
    input: BackupsInput,
    scope: CheckScope,
  ): Promise<{ results: CheckResult[]; findings: Findings }> {
    const ref: BucketRef = { bucket: input.bucket, ...(input.region ? { region: input.region } : {}) };
    const where = `s3://${input.bucket}/${input.prefix}`;
    const label = (what: string) => `backups ${where}: ${what}`;
    const results: CheckResult[] = [];
    const findings: Findings = {};
    const add = (what: string, ok: boolean, message: string) =>
      results.push({ check: label(what), ok, message });
    const maxAgeMs = parseDuration('maxAge', input.maxAge);
    const minRetentionMs = parseDuration('minRetention', input.minRetention);

    // The bucket's settings and its newest backup are independent reads: asked at once, one round trip, not three.
    let newest: Backup | undefined;
    let uploadedRecently = true;
    const bucketChecks = await Promise.all([
      outcomeOf('versioning enabled', async () => {
        const status = await s3.getVersioningStatus(ref);
        return status === 'Enabled'
          ? [true, 'versioning is Enabled']
          : [
              false,
              `versioning is ${status}; enable versioning on ${input.bucket} so a backup cannot be overwritten`,
            ];
      }),
      outcomeOf('object lock enabled', async () => {
        const lock = await s3.getObjectLockConfig(ref);
        if (!lock.enabled) {
          return [
            false,
            `Object Lock is not enabled on ${input.bucket}; backups can be deleted — use a bucket created with Object Lock`,
          ];
        }
        return [
          true,
          `Object Lock enabled, default mode ${lock.defaultMode ?? '(none: per-object retention only)'}`,
        ];
      }),
      outcomeOf('newest backup exists', async () => {
        const found = await newestBackup(s3, ref, input, now().getTime() - maxAgeMs);
        if (found.backup === undefined)
          return [
            false,
            found.untimed.length === 0
              ? `no object under ${where}; check the prefix in the runbook and that backups are running`
              : !found.uploadedRecently
                ? `nothing was uploaded under ${where} within maxAge ${input.maxAge}, and the newest upload, ${listed(found.untimed)}, carries no valid ${metadataHeader(input)}; check the backup job`
                : `none of the ${found.untimed.length} newest object(s) under ${where}${found.unread === 0 ? '' : ` (of ${found.untimed.length + found.unread} uploaded within maxAge)`} carries a valid ${metadataHeader(input)} (an ISO 8601 time with its offset, not after the upload): ${listed(found.untimed)}; the backup job must write it, or remove takenAt from the step to age backups from their upload`,
          ];
        newest = found.backup;
        uploadedRecently = found.uploadedRecently;
        findings.key = newest.object.key;
        findings.takenAt = newest.takenAt;
        findings.uploadedAt = newest.object.lastModified;
        const { object } = newest;
        const notCounted =
          found.untimed.length === 0
            ? ''
            : `; ${found.untimed.length} object(s) uploaded within maxAge without a valid ${metadataHeader(input)} not counted as backups: ${listed(found.untimed)}`;
        const unread =
          found.unread === 0
            ? ''
            : `; ${found.unread} older upload(s) within maxAge not read (the ${MAX_TIMED_CANDIDATES} newest are)`;
        return [
          true,
          input.takenAtMetadata === undefined
            ? `${object.key} (${object.size} bytes, uploaded ${object.lastModified.toISOString()})`
            : `${object.key} (${object.size} bytes, taken ${newest.takenAt.toISOString()} by its ${metadataHeader(input)}, uploaded ${object.lastModified.toISOString()})${notCounted}${unread}`,
        ];
      }),
    ]);
    for (const { what, ok, message } of bucketChecks) add(what, ok, message);

    const object = newest?.object;
    const notChecked = 'not checked: no backup found';
    if (!object) {
      for (const what of [
        'newest backup fresh',
        'lock mode',
        'retention',
        'checksum present',
        ...hashCheck(scope),
      ]) {
        add(what, false, notChecked);
      }
      return { results, findings };
    }

    const ageMs = now().getTime() - (newest?.takenAt ?? object.lastModified).getTime();
    findings.ageMs = ageMs;
    const agedBy =
      input.takenAtMetadata === undefined ? 'by its upload time' : `by its ${metadataHeader(input)}`;
    // By takenAt only the uploads within maxAge are read: a backup uploaded before them was taken before too,
    // and is stale as well, but may be less so than a copy of an old one uploaded since.
    const newestOfWhich =
      input.takenAtMetadata === undefined
        ? ''
        : !uploadedRecently
          ? ' (nothing was uploaded within maxAge: this is the newest upload)'
          : ' (the latest time among the uploads within maxAge; none was taken within it)';
    add(
      'newest backup fresh',
      ageMs <= maxAgeMs,
      ageMs <= maxAgeMs
        ? `${object.key} is ${formatMs(Math.max(0, ageMs))} old ${agedBy} (limit ${input.maxAge})`
        : `${object.key} is ${formatMs(ageMs)} old ${agedBy}, older than maxAge ${input.maxAge}${newestOfWhich}; check the backup job, or raise maxAge only if the RPO allows`,
    );

    let head: ObjectHead | undefined = newest?.head;
    await guarded(add, 'lock mode', async () => {
      head ??= await s3.headObject(ref, object.key);
      if (head.lockMode !== input.lockMode) {
        return [
          false,
          `${object.key} has lock mode ${head.lockMode ?? 'none'}, want ${input.lockMode}; the backup job must write it with Object Lock ${input.lockMode}`,
        ];
      }
      return [true, `${object.key} is locked in ${head.lockMode} mode`];
    });
    if (!head) {
      for (const what of ['retention', 'checksum present', ...hashCheck(scope)])
        add(what, false, 'not checked: HeadObject failed');
      return { results, findings };
    }
    const objectHead = head;

    const wantUntil = new Date(now().getTime() + minRetentionMs);
    if (objectHead.retainUntil) findings.retainUntil = objectHead.retainUntil;
    add(
      'retention',
      objectHead.retainUntil !== undefined && objectHead.retainUntil >= wantUntil,
      objectHead.retainUntil === undefined
        ? `${object.key} has no retain-until date; it must stay locked at least ${input.minRetention}`
        : objectHead.retainUntil >= wantUntil
          ? `retained until ${objectHead.retainUntil.toISOString()} (≥ now + ${input.minRetention})`
          : `retained only until ${objectHead.retainUntil.toISOString()}, less than now + ${input.minRetention} (${wantUntil.toISOString()}); lengthen the bucket's retention or the backup job's`,
    );

    const algorithm = CHECKSUM_PREFERENCE.find(
      (a) => objectHead.checksums[a] !== undefined && canRecompute(a),
    );
    const anyAlgorithm = CHECKSUM_PREFERENCE.find((a) => objectHead.checksums[a] !== undefined);
    const stored = algorithm ? objectHead.checksums[algorithm] : undefined;
    if (!algorithm || stored === undefined) {
      add(
        'checksum present',
        false,
        anyAlgorithm
          ? `${object.key} only carries a ${anyAlgorithm} checksum, which drctl cannot recompute; upload backups with SHA256`
          : `${object.key} has no stored checksum; upload backups with a checksum (e.g. --checksum-algorithm SHA256)`,
      );
      for (const what of hashCheck(scope)) add(what, false, 'not checked: no checksum to compare');
      return { results, findings };
    }
    findings.checksum = `${algorithm}:${stored}`;
    add(
      'checksum present',
      true,
      scope.hash
        ? `${algorithm} ${stored}`
        : `${algorithm} ${stored} (recomputed once per run, by the backups.verify step)`,
    );
    if (!scope.hash) return { results, findings };

    await guarded(add, 'checksum matches', async () => {
      if (objectHead.checksumType === 'COMPOSITE' || /-\d+$/.test(stored)) {
        return [
          false,
          `${object.key} has a composite (multipart) ${algorithm} checksum ${stored}; verify its parts or upload with a full-object checksum`,
        ];
      }
      let bytesHashed = 0;
      const actual = await checksumOf(algorithm, await s3.readObject(ref, object.key), (chunk) => {
        bytesHashed += chunk.length;
        heartbeat({ key: object.key, bytesHashed, size: object.size });
      });
      return actual === stored
        ? [true, `recomputed ${algorithm} ${actual} matches`]
        : [
            false,
            `recomputed ${algorithm} ${actual} but S3 stored ${stored}: ${object.key} is corrupt; restore from an older backup and check the backup job`,
          ];
    });

    return { results, findings };
  }

  return {
    checkBackups: (input) => measuredChecks(async () => (await runChecks(input, { hash: false })).results),

    verifyBackups(input) {
      return runStep(async () => {
        const { results, findings } = await runChecks(input, { hash: true });
        const failed = results.filter((r) => !r.ok);
        if (failed.length > 0) {
          throw permanentFailure(
            PermanentFailure.BackupCheckFailed,
            `${failed.length} backup check(s) failed for s3://${input.bucket}/${input.prefix}: ${failed
              .map((r) => `${r.check.replace(/^backups [^:]+: /, '')} — ${r.message}`)
              .join('; ')}`,
            results,
          );
        }
        return {
          changed: false,
          summary: `Newest backup ${findings.key} is ${formatMs(Math.max(0, findings.ageMs ?? 0))} old, ${input.lockMode}-locked until ${findings.retainUntil?.toISOString()}, ${findings.checksum?.split(':')[0]} verified`,
          facts: {
            key: findings.key ?? null,
            // By upload time the backup's own time is not known: its upload is all there is.
            takenAt: input.takenAtMetadata === undefined ? null : (findings.takenAt?.toISOString() ?? null),
            uploadedAt: findings.uploadedAt?.toISOString() ?? null,
            ageFrom: input.takenAtMetadata === undefined ? 'upload' : metadataHeader(input),
            age: formatMs(Math.max(0, findings.ageMs ?? 0)),
            retainUntil: findings.retainUntil?.toISOString() ?? null,
            checksum: findings.checksum ?? null,
          },
        };
      });
    },
  };
}

/** The newest backup, the time it stands for, and its head when reading that time needed it. */
interface Backup {
  object: ObjectSummary;
  takenAt: Date;
  head?: ObjectHead;
}

interface NewestBackup {
  backup?: Backup;
  /** Objects read whose time was missing or not valid: not counted as backups. */
  untimed: string[];
  /** Uploads within maxAge past the cap, not read. */
  unread: number;
  /** Whether anything was uploaded within maxAge; when not, only the newest upload was read. */
  uploadedRecently: boolean;
}

/**
 * How many uploads' heads are read for their takenAt metadata at most: a prefix of nightly or hourly base backups
 * holds a few dozen within any maxAge.
 */
export const MAX_TIMED_CANDIDATES = 100;
/**
 * How far a clock may be off S3's: AWS refuses a request signed more than 15 minutes off its own clock, so the
 * worker's and the backup job's clocks are within that of it.
 */
const CLOCK_SKEW_MS = 15 * 60_000;
const HEADS_AT_ONCE = 10;

/**
 * The newest backup under the step's prefix. By upload time: the newest object. By takenAt metadata: a backup is
 * uploaded after it is taken, so one taken since `freshSince` was uploaded since too; the heads of those uploads
 * (or of the newest upload, when there is none) say when each was taken, and the latest wins. Objects without a
 * valid time are `untimed`, not counted as backups.
 */
async function newestBackup(
  s3: S3Port,
  ref: BucketRef,
  input: BackupsInput,
  freshSince: number,
): Promise<NewestBackup> {
  const metadataKey = input.takenAtMetadata;
  if (metadataKey === undefined) {
    const object = await s3.newestObject(ref, input.prefix);
    return {
      ...(object ? { backup: { object, takenAt: object.lastModified } } : {}),
      untimed: [],
      unread: 0,
      uploadedRecently: true,
    };
  }
  const uploads = await s3.uploadsSince(ref, input.prefix, new Date(freshSince - CLOCK_SKEW_MS));
  const uploadedRecently = uploads.recent.length > 0;
  const candidates = uploadedRecently ? uploads.recent : uploads.newest ? [uploads.newest] : [];
  const untimed: string[] = [];
  let backup: Backup | undefined;
  const read = candidates.slice(0, MAX_TIMED_CANDIDATES);
  for (let i = 0; i < read.length; i += HEADS_AT_ONCE) {
    const batch = read.slice(i, i + HEADS_AT_ONCE);
    const heads = await Promise.all(batch.map((object) => headUnlessGone(s3, ref, object.key)));
    batch.forEach((object, j) => {
      const head = heads[j];
      if (head === undefined) return; // deleted since the listing: not a backup any more
      const takenAt = isoTime(head.metadata[metadataKey]);
      // A backup is uploaded after it is taken: a time after its upload is a wrong clock or a wrong value.
      if (takenAt === undefined || takenAt.getTime() > object.lastModified.getTime() + CLOCK_SKEW_MS)
        untimed.push(object.key);
      else if (backup === undefined || takenAt > backup.takenAt) backup = { object, takenAt, head };
    });
  }
  return {
    ...(backup ? { backup } : {}),
    untimed,
    unread: candidates.length - read.length,
    uploadedRecently,
  };
}

/** An ISO 8601 date-time with its offset (`Z` or `±hh:mm`; without one it would read in the worker's zone). */
function isoTime(value: string | undefined): Date | undefined {
  if (
    value === undefined ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
  )
    return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

function metadataHeader(input: BackupsInput): string {
  return `x-amz-meta-${input.takenAtMetadata ?? ''}`;
}

/** The object's head, or undefined when it is gone (deleted or overwritten since it was listed). */
async function headUnlessGone(s3: S3Port, ref: BucketRef, key: string): Promise<ObjectHead | undefined> {
  try {
    return await s3.headObject(ref, key);
  } catch (error) {
    if (error instanceof ApplicationFailure && error.type === PermanentFailure.NotFound) return undefined;
    throw error;
  }
}

/** The first few keys, and how many more. */
function listed(keys: string[]): string {
  const shown = keys.slice(0, 3).join(', ');
  return keys.length > 3 ? `${shown} and ${keys.length - 3} more` : shown;
}

function hashCheck(scope: CheckScope): string[] {
  return scope.hash ? ['checksum matches'] : [];
}

/** Runs one check; a permanent provider fault fails that check with its message, a transient one propagates. */
async function guarded(
  add: (what: string, ok: boolean, message: string) => void,
  what: string,
  check: () => Promise<[boolean, string]>,
): Promise<void> {
  const outcome = await outcomeOf(what, check);
  add(outcome.what, outcome.ok, outcome.message);
}

/** One check's verdict; a permanent provider fault is a failed check with its message, a transient one throws. */
async function outcomeOf(
  what: string,
  check: () => Promise<[boolean, string]>,
): Promise<{ what: string; ok: boolean; message: string }> {
  try {
    const [ok, message] = await check();
    return { what, ok, message };
  } catch (error) {
    if (error instanceof ApplicationFailure && error.nonRetryable)
      return { what, ok: false, message: error.message };
    throw error;
  }
}

function parseDuration(field: string, text: string): number {
  try {
    return durationToMs(text);
  } catch (error) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `backups.verify ${field}: ${(error as Error).message}`,
    );
  }
}
