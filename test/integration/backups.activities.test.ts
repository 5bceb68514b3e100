import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createBackupActivities } from '../../kinds/backups-verify/activities';
import { createS3Adapter } from '../../activities/backups/s3-adapter';
import type { BackupsInput } from '../../kinds/backups-verify/definition';
import { createSandboxAwsClients } from '../../sandbox/aws-clients';
import { backupKey } from '../../sandbox/s3-backup-seed';
import { getStack } from './stack';

/** Backup verification against the sandbox's moto bucket (seeded: versioned, Object Lock COMPLIANCE, SHA256). */
describe('backup activities against moto', () => {
  const stack = getStack();
  const clients = new Map<string, S3Client>();
  const clientFor = (region?: string) => {
    const r = region ?? stack.aws.s3.region;
    let client = clients.get(r);
    if (!client) {
      client = createSandboxAwsClients(stack.moto.endpoint).s3(r);
      clients.set(r, client);
    }
    return client;
  };
  const activities = createBackupActivities({ s3: createS3Adapter(clientFor), now: () => new Date() });
  const input: BackupsInput = {
    bucket: stack.aws.s3.bucket,
    region: stack.aws.s3.region,
    prefix: stack.aws.s3.prefix,
    maxAge: '2h',
    lockMode: 'COMPLIANCE',
    minRetention: '7d',
  };

  afterAll(() => clients.forEach((c) => c.destroy()));

  it('GIVEN the seeded bucket WHEN checking THEN every check passes', async () => {
    const results = await activities.checkBackups(input);

    expect(results.filter((r) => !r.ok)).toEqual([]);
    // Metadata and retention only: the step recomputes the checksum, once per run.
    expect(results).toHaveLength(7);
    expect(results.some((r) => r.check.endsWith('checksum matches'))).toBe(false);
  });

  it('GIVEN the seeded bucket WHEN verifying THEN the newest backup is downloaded and its SHA256 recomputed', async () => {
    const outcome = await activities.verifyBackups(input);

    expect(outcome.changed).toBe(false);
    expect(String(outcome.facts.key)).toMatch(new RegExp(`^${stack.aws.s3.prefix}`));
    expect(String(outcome.facts.checksum)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}=$/);
    expect(new Date(String(outcome.facts.retainUntil)).getTime()).toBeGreaterThan(
      Date.now() + 7 * 86_400_000,
    );
  });

  it('GIVEN a maxAge of 1ms WHEN verifying THEN BackupCheckFailed names the stale backup', async () => {
    const error = await activities.verifyBackups({ ...input, maxAge: '1ms' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'BackupCheckFailed', nonRetryable: true });
    expect((error as Error).message).toMatch(
      /newest backup fresh — .* old by its upload time, older than maxAge 1ms/,
    );
  });

  it('GIVEN stricter lock demands than the bucket gives WHEN checking THEN lock mode and retention fail', async () => {
    const results = await activities.checkBackups({ ...input, lockMode: 'GOVERNANCE', minRetention: '365d' });

    const failed = results.filter((r) => !r.ok).map((r) => r.check.split(': ')[1]);
    expect(failed).toEqual(['lock mode', 'retention']);
  });

  it('GIVEN a bucket that does not exist WHEN checking THEN the checks fail naming it', async () => {
    const results = await activities.checkBackups({ ...input, bucket: 'drctl-no-such-bucket' });

    expect(results[0]).toMatchObject({ ok: false, message: expect.stringMatching(/drctl-no-such-bucket/) });
    expect(results.every((r) => !r.ok)).toBe(true);
  });

  describe("a backup's age by its takenAt metadata (moto's HeadObject returns the x-amz-meta- headers)", () => {
    const byTakenAt: BackupsInput = { ...input, maxAge: '26h', takenAtMetadata: 'taken-at' };

    it('GIVEN the seeded bucket (two older backups and a fresh one, uploaded together) WHEN verifying THEN the fresh one, named after its time, is the newest', async () => {
      const outcome = await activities.verifyBackups(byTakenAt);

      const takenAt = new Date(String(outcome.facts.takenAt));
      expect(outcome.facts.ageFrom).toBe('x-amz-meta-taken-at');
      expect(outcome.facts.key).toBe(backupKey(takenAt));
      expect(Date.now() - takenAt.getTime()).toBeLessThan(2 * 3_600_000);
      // By upload time the seeded three tie (uploaded in one second, listed to the second): the greatest key wins,
      // the fresh one too. Before, the first listed won: the backup taken two days earlier, "a minute old".
      await expect(activities.verifyBackups({ ...input, maxAge: '26h' })).resolves.toMatchObject({
        facts: { key: outcome.facts.key, ageFrom: 'upload' },
      });
    });

    it('GIVEN a two-day-old backup copied in a minute ago WHEN verifying THEN by takenAt it is stale; by upload time it passed', async () => {
      // Its own prefix, outside ehr-db/: the object stays locked for 30 days and must not become ehr-db's newest.
      const prefix = `copied-backups-${randomUUID()}/`;
      await clientFor().send(
        new PutObjectCommand({
          Bucket: stack.aws.s3.bucket,
          Key: `${prefix}base.tar.gz`,
          Body: 'a base backup taken two days ago',
          ChecksumAlgorithm: 'SHA256',
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: new Date(Date.now() + 30 * 86_400_000),
          Metadata: { 'taken-at': new Date(Date.now() - 2 * 86_400_000).toISOString() },
        }),
      );

      const error = await activities.verifyBackups({ ...byTakenAt, prefix }).catch((e: unknown) => e);

      expect(error).toMatchObject({ type: 'BackupCheckFailed', nonRetryable: true });
      expect((error as Error).message).toMatch(
        /newest backup fresh — copied-backups-.*base\.tar\.gz is 2d old by its x-amz-meta-taken-at, older than maxAge 26h/,
      );
      await expect(activities.verifyBackups({ ...input, maxAge: '26h', prefix })).resolves.toMatchObject({
        facts: { ageFrom: 'upload' },
      });
    });
  });
});
