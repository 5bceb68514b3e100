import type { S3Client } from '@aws-sdk/client-s3';
import { createBackupActivities, type HashProgress } from '../../kinds/backups-verify/activities';
import { createS3Adapter } from '../../activities/backups/s3-adapter';
import { checksumOf } from '../../activities/backups/checksum';
import type { BackupsInput } from '../../kinds/backups-verify/definition';
import { timed } from '../../activities/provider-timer';
import { FakeS3 } from '../fakes/fake-s3';
import { failureOf } from './failure-of';
import { slowPort } from './slow-port';

const NOW = new Date('2026-11-27T08:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const input: BackupsInput = {
  bucket: 'drctl-ehr-backups',
  prefix: 'ehr-db/',
  maxAge: '1h',
  lockMode: 'COMPLIANCE',
  minRetention: '7d',
};

function setup() {
  const s3 = new FakeS3();
  s3.addBucket('drctl-ehr-backups');
  s3.putBackup('drctl-ehr-backups', 'ehr-db/old.dump', {
    lastModified: new Date(NOW.getTime() - 2 * DAY),
    lockMode: 'COMPLIANCE',
    retainUntil: new Date(NOW.getTime() + 28 * DAY),
  });
  const newest = s3.putBackup('drctl-ehr-backups', 'ehr-db/new.dump', {
    lastModified: new Date(NOW.getTime() - 10 * 60_000),
    lockMode: 'COMPLIANCE',
    retainUntil: new Date(NOW.getTime() + 30 * DAY),
  });
  return { s3, newest, activities: createBackupActivities({ s3, now: () => NOW }) };
}

describe('verifyBackups', () => {
  it('GIVEN a fresh, locked, intact newest backup WHEN verifying THEN it passes with the facts', async () => {
    const { s3, newest, activities } = setup();

    const outcome = await activities.verifyBackups(input);

    expect(outcome.changed).toBe(false);
    expect(outcome.facts).toEqual({
      key: 'ehr-db/new.dump',
      takenAt: null,
      uploadedAt: new Date(NOW.getTime() - 10 * 60_000).toISOString(),
      ageFrom: 'upload',
      age: '10m',
      retainUntil: new Date(NOW.getTime() + 30 * DAY).toISOString(),
      checksum: `SHA256:${newest.head.checksums.SHA256}`,
    });
    expect(s3.reads).toEqual(['ehr-db/new.dump']);
  });

  it('GIVEN the port wrapped in timed() as the worker does WHEN verifying THEN it still streams and verifies', async () => {
    const { s3 } = setup();
    const activities = createBackupActivities({ s3: timed(s3), now: () => NOW });

    await expect(activities.verifyBackups(input)).resolves.toMatchObject({
      facts: { key: 'ehr-db/new.dump' },
    });
  });

  it('GIVEN the newest backup is older than maxAge WHEN verifying THEN BackupCheckFailed names the age', async () => {
    const { activities } = setup();

    const error = await failureOf(activities.verifyBackups({ ...input, maxAge: '5m' }));

    expect(error).toMatchObject({ type: 'BackupCheckFailed', nonRetryable: true });
    expect(error.message).toMatch(
      /newest backup fresh — ehr-db\/new\.dump is 10m old by its upload time, older than maxAge 5m/,
    );
  });

  it('GIVEN the newest backup is not locked WHEN verifying THEN the lock mode and retention checks fail', async () => {
    const { newest, activities } = setup();
    delete newest.head.lockMode;
    delete newest.head.retainUntil;

    const error = await failureOf(activities.verifyBackups(input));

    expect(error.message).toMatch(/lock mode none, want COMPLIANCE/);
    expect(error.message).toMatch(/no retain-until date/);
    expect(error.message).toMatch(/^2 backup check\(s\) failed/);
  });

  it('GIVEN retention shorter than minRetention WHEN verifying THEN it fails naming both dates', async () => {
    const { newest, activities } = setup();
    newest.head.retainUntil = new Date(NOW.getTime() + 2 * DAY);

    const error = await failureOf(activities.verifyBackups(input));

    expect(error.message).toMatch(/retained only until 2026-11-29T08:00:00.000Z, less than now \+ 7d/);
  });

  it('GIVEN stored bytes that do not match the checksum WHEN verifying THEN it fails as corrupt', async () => {
    const { newest, activities } = setup();
    newest.body = new TextEncoder().encode('bit rot');

    const error = await failureOf(activities.verifyBackups(input));

    expect(error.message).toMatch(/recomputed SHA256 .* but S3 stored .*corrupt/);
  });

  it('GIVEN a bucket without versioning or Object Lock WHEN checking THEN both checks fail, the rest are listed', async () => {
    const { s3, activities } = setup();
    const bucket = s3.buckets.get('drctl-ehr-backups');
    if (!bucket) throw new Error('no bucket');
    bucket.versioning = 'Suspended';
    bucket.lock = { enabled: false };

    const results = await activities.checkBackups(input);

    expect(
      results.map((r) => [r.check.replace('backups s3://drctl-ehr-backups/ehr-db/: ', ''), r.ok]),
    ).toEqual([
      ['versioning enabled', false],
      ['object lock enabled', false],
      ['newest backup exists', true],
      ['newest backup fresh', true],
      ['lock mode', true],
      ['retention', true],
      ['checksum present', true],
    ]);
  });

  it('GIVEN no backup under the prefix or no bucket WHEN checking THEN the checks fail with what to do', async () => {
    const { activities } = setup();

    const empty = await activities.checkBackups({ ...input, prefix: 'portal-db/' });
    const missing = await activities.checkBackups({ ...input, bucket: 'no-such-bucket' });

    expect(empty.find((r) => r.check.endsWith('newest backup exists'))?.message).toMatch(
      /no object under s3:\/\/drctl-ehr-backups\/portal-db\//,
    );
    expect(missing[0]).toMatchObject({ ok: false, message: expect.stringMatching(/no-such-bucket/) });
  });
});

describe("a backup's age: from the time it stands for, not a later upload", () => {
  const timedInput: BackupsInput = { ...input, maxAge: '26h', takenAtMetadata: 'taken-at' };
  const locked = { lockMode: 'COMPLIANCE', retainUntil: new Date(NOW.getTime() + 30 * DAY) };
  const takenAt = (ms: number) => ({ 'taken-at': new Date(NOW.getTime() - ms).toISOString() });

  it('GIVEN backups uploaded in the same second WHEN checking by upload time THEN the newest is the greatest key, as S3 lists to the second', async () => {
    const s3 = new FakeS3();
    s3.addBucket('drctl-ehr-backups');
    // The sandbox seeds these three at once: the listing cannot tell them apart by LastModified.
    for (const key of [
      'ehr-db/2026-11-25T08-00-00Z.tar',
      'ehr-db/2026-11-27T07-59-00Z.tar',
      'ehr-db/2026-11-26T08-00-00Z.tar',
    ])
      s3.putBackup('drctl-ehr-backups', key, { lastModified: new Date(NOW.getTime() - 60_000), ...locked });

    const checks = await createBackupActivities({ s3, now: () => NOW }).checkBackups(input);

    expect(checks.find((c) => c.check.endsWith('newest backup exists'))?.message).toMatch(
      /^ehr-db\/2026-11-27T07-59-00Z\.tar /,
    );
  });

  it('GIVEN a two-day-old backup uploaded again a minute ago WHEN verifying by its takenAt metadata THEN it is stale, by its time', async () => {
    const s3 = new FakeS3();
    s3.addBucket('drctl-ehr-backups');
    s3.putBackup('drctl-ehr-backups', 'ehr-db/copied.tar', {
      lastModified: new Date(NOW.getTime() - 60_000),
      metadata: takenAt(2 * DAY),
      ...locked,
    });
    const activities = createBackupActivities({ s3, now: () => NOW });

    const error = await failureOf(activities.verifyBackups(timedInput));

    expect(error.message).toMatch(
      /newest backup fresh — ehr-db\/copied\.tar is 2d old by its x-amz-meta-taken-at, older than maxAge 26h \(the latest time among the uploads within maxAge; none was taken within it\)/,
    );
    // By upload time, as before this option, it passed as a minute old.
    await expect(
      activities.verifyBackups({ ...timedInput, takenAtMetadata: undefined }),
    ).resolves.toMatchObject({
      facts: { age: '1m', ageFrom: 'upload' },
    });
  });

  it('GIVEN an old backup re-uploaded after a newer one WHEN verifying by takenAt THEN the newer one by its time is verified', async () => {
    const s3 = new FakeS3();
    s3.addBucket('drctl-ehr-backups');
    s3.putBackup('drctl-ehr-backups', 'ehr-db/nightly.tar', {
      lastModified: new Date(NOW.getTime() - 3 * HOUR),
      metadata: takenAt(3 * HOUR + 60_000),
      ...locked,
    });
    s3.putBackup('drctl-ehr-backups', 'ehr-db/restored-copy.tar', {
      lastModified: new Date(NOW.getTime() - HOUR),
      metadata: takenAt(5 * DAY),
      ...locked,
    });
    s3.putBackup('drctl-ehr-backups', 'ehr-db/manifest.json', {
      lastModified: new Date(NOW.getTime() - 60_000),
      ...locked,
    });

    const outcome = await createBackupActivities({ s3, now: () => NOW }).verifyBackups(timedInput);

    expect(outcome.facts).toMatchObject({
      key: 'ehr-db/nightly.tar',
      takenAt: new Date(NOW.getTime() - 3 * HOUR - 60_000).toISOString(),
      ageFrom: 'x-amz-meta-taken-at',
      age: '3h1m',
    });
    expect(s3.reads).toEqual(['ehr-db/nightly.tar']);
  });

  it('GIVEN uploads without the metadata WHEN checking by takenAt THEN the check fails naming them and what to do', async () => {
    const s3 = new FakeS3();
    s3.addBucket('drctl-ehr-backups');
    s3.putBackup('drctl-ehr-backups', 'ehr-db/a.tar', {
      lastModified: new Date(NOW.getTime() - HOUR),
      ...locked,
    });
    s3.putBackup('drctl-ehr-backups', 'ehr-db/b.tar', {
      lastModified: new Date(NOW.getTime() - 2 * HOUR),
      metadata: { 'taken-at': 'last night' },
      ...locked,
    });

    const checks = await createBackupActivities({ s3, now: () => NOW }).checkBackups(timedInput);

    expect(checks.find((c) => c.check.endsWith('newest backup exists'))).toMatchObject({
      ok: false,
      message: expect.stringMatching(
        /none of the 2 newest object\(s\) under s3:\/\/drctl-ehr-backups\/ehr-db\/ carries a valid x-amz-meta-taken-at \(an ISO 8601 time with its offset, not after the upload\): ehr-db\/a\.tar, ehr-db\/b\.tar; the backup job must write it/,
      ),
    });
    expect(checks.find((c) => c.check.endsWith('newest backup fresh'))).toMatchObject({ ok: false });
  });

  it('GIVEN a newer upload whose time is after its upload, or has no offset, WHEN verifying by takenAt THEN neither counts: the older backup is verified', async () => {
    const s3 = new FakeS3();
    s3.addBucket('drctl-ehr-backups');
    s3.putBackup('drctl-ehr-backups', 'ehr-db/nightly.tar', {
      lastModified: new Date(NOW.getTime() - 20 * HOUR),
      metadata: takenAt(20 * HOUR + 60_000),
      ...locked,
    });
    // A clock a day ahead, or a typo: before, this passed as the newest backup, "0ms old", for as long as it stood.
    s3.putBackup('drctl-ehr-backups', 'ehr-db/future.tar', {
      lastModified: new Date(NOW.getTime() - 2 * HOUR),
      metadata: takenAt(-DAY),
      ...locked,
    });
    s3.putBackup('drctl-ehr-backups', 'ehr-db/zoneless.tar', {
      lastModified: new Date(NOW.getTime() - HOUR),
      metadata: { 'taken-at': '2026-11-27T06:30:00' },
      ...locked,
    });

    const checks = await createBackupActivities({ s3, now: () => NOW }).checkBackups(timedInput);

    expect(checks.find((c) => c.check.endsWith('newest backup exists'))?.message).toMatch(
      /^ehr-db\/nightly\.tar .*; 2 object\(s\) uploaded within maxAge without a valid x-amz-meta-taken-at not counted as backups: ehr-db\/zoneless\.tar, ehr-db\/future\.tar$/,
    );
    expect(checks.find((c) => c.check.endsWith('newest backup fresh'))?.message).toMatch(/is 20h1m old/);
  });

  it('GIVEN an upload deleted between the listing and its head WHEN checking by takenAt THEN it is skipped, not a failed check', async () => {
    const s3 = new FakeS3();
    s3.addBucket('drctl-ehr-backups');
    s3.putBackup('drctl-ehr-backups', 'ehr-db/nightly.tar', {
      lastModified: new Date(NOW.getTime() - 2 * HOUR),
      metadata: { 'Taken-At': new Date(NOW.getTime() - 2 * HOUR - 60_000).toISOString() },
      ...locked,
    });
    s3.putBackup('drctl-ehr-backups', 'ehr-db/pruned.tar', {
      lastModified: new Date(NOW.getTime() - HOUR),
      ...locked,
    });
    const headObject = s3.headObject.bind(s3);
    s3.headObject = async (ref, key) => {
      if (key === 'ehr-db/pruned.tar') s3.buckets.get('drctl-ehr-backups')?.objects.delete(key);
      return headObject(ref, key);
    };

    const checks = await createBackupActivities({ s3, now: () => NOW }).checkBackups(timedInput);

    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.find((c) => c.check.endsWith('newest backup exists'))?.message).toMatch(
      /^ehr-db\/nightly\.tar /,
    );
  });

  it('GIVEN no upload within maxAge WHEN checking by takenAt THEN the newest upload, from the same listing, is read and found stale by its time', async () => {
    const s3 = new FakeS3();
    s3.addBucket('drctl-ehr-backups');
    s3.putBackup('drctl-ehr-backups', 'ehr-db/last.tar', {
      lastModified: new Date(NOW.getTime() - 3 * DAY),
      metadata: takenAt(4 * DAY),
      ...locked,
    });

    const checks = await createBackupActivities({ s3, now: () => NOW }).checkBackups(timedInput);

    expect(checks.find((c) => c.check.endsWith('newest backup fresh'))?.message).toMatch(
      /ehr-db\/last\.tar is 4d old by its x-amz-meta-taken-at, older than maxAge 26h \(nothing was uploaded within maxAge: this is the newest upload\)/,
    );
    expect(s3.listings).toEqual(['ehr-db/']); // one ListObjectsV2 walk gives the recent uploads and the newest
    // The newest upload without a time: what is wrong is that nothing was uploaded since.
    s3.putBackup('drctl-ehr-backups', 'ehr-db/untimed.tar', {
      lastModified: new Date(NOW.getTime() - 2 * DAY),
      ...locked,
    });
    const again = await createBackupActivities({ s3, now: () => NOW }).checkBackups(timedInput);
    expect(again.find((c) => c.check.endsWith('newest backup exists'))?.message).toBe(
      'nothing was uploaded under s3://drctl-ehr-backups/ehr-db/ within maxAge 26h, and the newest upload, ehr-db/untimed.tar, carries no valid x-amz-meta-taken-at; check the backup job',
    );
  });
});

describe('checkBackups reads the bucket once per round trip', () => {
  it("GIVEN S3 answering each call after 20 ms WHEN checking THEN the bucket's versioning, its lock and its newest backup are asked at once, and the checks keep their order", async () => {
    const { s3 } = setup();
    const slow = slowPort(s3);
    const activities = createBackupActivities({ s3: slow.port, now: () => NOW });

    const checks = await activities.checkBackups(input);

    expect(slow.inFlight.most).toBe(3);
    expect(checks.map((c) => c.check.replace(/^backups \S+: /, ''))).toEqual([
      'versioning enabled',
      'object lock enabled',
      'newest backup exists',
      'newest backup fresh',
      'lock mode',
      'retention',
      'checksum present',
    ]);
    expect(checks.every((c) => c.ok)).toBe(true);
  });
});

describe('one hash per run, heartbeated per chunk (issue 8.15)', () => {
  it('GIVEN plan and pre-flight checks WHEN checking THEN the backup is not read: only metadata and retention', async () => {
    const { s3, activities } = setup();

    const results = await activities.checkBackups(input);

    expect(s3.reads).toEqual([]);
    expect(results.find((r) => r.check.endsWith('checksum present'))?.message).toMatch(
      /recomputed once per run, by the backups\.verify step/,
    );
  });

  it('GIVEN a plan, a pre-flight and the step WHEN a run verifies THEN the object is read and hashed once', async () => {
    const { s3, activities } = setup();

    await activities.checkBackups(input);
    await activities.checkBackups(input);
    await activities.verifyBackups(input);

    expect(s3.reads).toEqual(['ehr-db/new.dump']);
  });

  it('GIVEN a backup read in chunks WHEN verifying THEN it heartbeats after every chunk with the bytes hashed', async () => {
    const s3 = new FakeS3();
    s3.addBucket('drctl-ehr-backups');
    s3.putBackup('drctl-ehr-backups', 'ehr-db/new.dump', {
      body: 'x'.repeat(1000),
      lastModified: new Date(NOW.getTime() - 60_000),
      lockMode: 'COMPLIANCE',
      retainUntil: new Date(NOW.getTime() + 30 * DAY),
    });
    const beats: HashProgress[] = [];
    const activities = createBackupActivities({ s3, now: () => NOW, heartbeat: (p) => beats.push(p) });

    await activities.verifyBackups(input);

    expect(beats).toEqual([
      { key: 'ehr-db/new.dump', bytesHashed: 500, size: 1000 },
      { key: 'ehr-db/new.dump', bytesHashed: 1000, size: 1000 },
    ]);
  });
});

describe('checksumOf', () => {
  async function* chunks(text: string) {
    yield new TextEncoder().encode(text.slice(0, 3));
    yield new TextEncoder().encode(text.slice(3));
  }
  it('computes the base64 forms S3 stores', async () => {
    // Values as S3 (moto) stored them for the body "hello backup".
    await expect(checksumOf('CRC32', chunks('hello backup'))).resolves.toBe('TcCLKQ==');
    await expect(checksumOf('SHA256', chunks('hello backup'))).resolves.toBe(
      '8t+lQL8xhhcGEGLG/gk2/jkHamSkMuqclNGB3tAdBOw=',
    );
    // CRC32C check value of "123456789" is 0xE3069283.
    await expect(checksumOf('CRC32C', chunks('123456789'))).resolves.toBe(
      Buffer.from('e3069283', 'hex').toString('base64'),
    );
  });
});

describe('createS3Adapter error mapping', () => {
  function clientFailingWith(name: string, status: number): S3Client {
    const error = Object.assign(new Error(`${name} from AWS`), {
      name,
      $metadata: { httpStatusCode: status },
    });
    return { send: async () => Promise.reject(error) } as unknown as S3Client;
  }

  it('a bucket without an Object Lock configuration reads as not enabled', async () => {
    const s3 = createS3Adapter(() => clientFailingWith('ObjectLockConfigurationNotFoundError', 404));
    await expect(s3.getObjectLockConfig({ bucket: 'b' })).resolves.toEqual({ enabled: false });
  });

  it.each([
    ['AccessDenied', 403, 'AccessDenied', true, /check the worker's AWS credentials/],
    ['NoSuchBucket', 404, 'NotFound', true, /drctl-ehr-backups/],
    ['SlowDown', 503, 'SlowDown', false, /throttled/],
  ])('%s (HTTP %i) → %s, nonRetryable %s', async (name, status, type, nonRetryable, message) => {
    const s3 = createS3Adapter(() => clientFailingWith(name, status));

    const error = await failureOf(s3.getVersioningStatus({ bucket: 'drctl-ehr-backups' }));

    expect(error).toMatchObject({ type, nonRetryable });
    expect(error.message).toMatch(message);
  });
});
