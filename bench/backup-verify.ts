/**
 * Benchmark (issue 8.15): the backups.verify step's activity on a 1 GiB backup in the sandbox's moto — wall time,
 * throughput, heartbeats, and the verifying process's peak memory. The object is generated and uploaded as a
 * stream (never held whole), into a prefix of its own so the seeded `ehr-db/` backups stay the newest there. The
 * verify runs in a fresh process, so its peak RSS is the activity's and not the upload's.
 *
 *   npm run sandbox -- up
 *   npx tsx bench/backup-verify.ts                # 1024 MiB
 *   npx tsx bench/backup-verify.ts --mib 64       # a smaller object
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Adapter } from '../activities/backups/s3-adapter';
import { createBackupActivities } from '../kinds/backups-verify/activities';
import type { BackupsInput } from '../kinds/backups-verify/definition';
import { createSandboxAwsClients } from '../sandbox/aws-clients';
import { BACKUP_BUCKET, BACKUP_REGION } from '../sandbox/s3-backup-seed';
import { ensureStackUp } from '../sandbox/stack';

const CHUNK = 1024 * 1024;
const MIB = 1024 * 1024;

/** One pseudo-random 1 MiB block, the same in every pass; each chunk of the object stamps its index on a copy. */
const BLOCK = (() => {
  const block = Buffer.alloc(CHUNK);
  for (let at = 0; at < CHUNK; at += 32) createHash('sha256').update(String(at)).digest().copy(block, at);
  return block;
})();

/** The object's bytes, 1 MiB at a time: deterministic, so it is hashed in one pass and uploaded in another. */
function* backupBytes(totalBytes: number): Generator<Buffer> {
  for (let offset = 0, index = 0; offset < totalBytes; offset += CHUNK, index += 1) {
    const chunk = Buffer.from(BLOCK.subarray(0, Math.min(CHUNK, totalBytes - offset)));
    chunk.writeUInt32BE(index, 0);
    yield chunk;
  }
}

/** The SHA-256 S3 stores, and the Content-MD5 S3 wants on a PUT with Object Lock, in one streaming pass. */
function digestsOf(totalBytes: number): { sha256: string; md5: string } {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  for (const chunk of backupBytes(totalBytes)) {
    sha256.update(chunk);
    md5.update(chunk);
  }
  return { sha256: sha256.digest('base64'), md5: md5.digest('base64') };
}

async function prepare(mib: number): Promise<void> {
  const stack = await ensureStackUp();
  const totalBytes = mib * MIB;
  const prefix = `bench/backup-verify/${new Date().toISOString().replace(/[:.]/g, '-')}/`;
  const key = `${prefix}base.tar.gz`;
  const s3 = createSandboxAwsClients(stack.moto.endpoint).s3(BACKUP_REGION);
  let started = performance.now();
  const { sha256, md5 } = digestsOf(totalBytes);
  const hashSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  await s3.send(
    new PutObjectCommand({
      Bucket: BACKUP_BUCKET,
      Key: key,
      Body: Readable.from(backupBytes(totalBytes)),
      ContentLength: totalBytes,
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: sha256,
      ContentMD5: md5,
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
    }),
  );
  const uploadSeconds = (performance.now() - started) / 1000;
  s3.destroy();
  console.log(
    `prepared s3://${BACKUP_BUCKET}/${key}: ${mib} MiB, SHA256 ${sha256} (generated and hashed in ${hashSeconds.toFixed(1)} s, uploaded in ${uploadSeconds.toFixed(1)} s)`,
  );

  const child = spawnSync(
    process.execPath,
    [...process.execArgv, __filename, '--verify', prefix, stack.moto.endpoint],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (child.status !== 0) throw new Error(`the verify process exited ${child.status}: ${child.stdout}`);
  const figures = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<
    string,
    number | string
  >;
  const seconds = Number(figures.seconds);
  console.table({
    'object (MiB)': mib,
    'verify wall time (s)': seconds.toFixed(1),
    'throughput (MiB/s)': (mib / seconds).toFixed(1),
    heartbeats: figures.heartbeats,
    'RSS before verify (MiB)': figures.rssBeforeMiB,
    'peak RSS sampled (MiB)': figures.peakRssMiB,
    'maxRSS, resourceUsage (MiB)': figures.maxRssMiB,
    'peak heap used (MiB)': figures.peakHeapMiB,
    'peak arrayBuffers (MiB)': figures.peakArrayBuffersMiB,
    'checksum verified': figures.checksum,
  });
}

/** The child: one verify, as the worker runs it, with memory sampled every 20 ms. */
async function verify(prefix: string, endpoint: string): Promise<void> {
  const s3 = createSandboxAwsClients(endpoint).s3(BACKUP_REGION);
  let heartbeats = 0;
  const activities = createBackupActivities({
    s3: createS3Adapter(() => s3),
    now: () => new Date(),
    heartbeat: () => void (heartbeats += 1),
  });
  const input: BackupsInput = {
    bucket: BACKUP_BUCKET,
    region: BACKUP_REGION,
    prefix,
    maxAge: '1d',
    lockMode: 'COMPLIANCE',
    minRetention: '1h',
  };
  const toMiB = (bytes: number) => Math.round((bytes / MIB) * 10) / 10;
  const before = process.memoryUsage();
  const peak = { rss: before.rss, heapUsed: before.heapUsed, arrayBuffers: before.arrayBuffers };
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
  }, 20);
  const started = performance.now();
  const outcome = await activities.verifyBackups(input);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  s3.destroy();
  console.log(
    JSON.stringify({
      seconds,
      heartbeats,
      rssBeforeMiB: toMiB(before.rss),
      peakRssMiB: toMiB(peak.rss),
      maxRssMiB: toMiB(process.resourceUsage().maxRSS * 1024),
      peakHeapMiB: toMiB(peak.heapUsed),
      peakArrayBuffersMiB: toMiB(peak.arrayBuffers),
      checksum: String(outcome.facts?.checksum),
    }),
  );
}

const args = process.argv.slice(2);
const run =
  args[0] === '--verify'
    ? verify(args[1] ?? '', args[2] ?? '')
    : prepare(args[0] === '--mib' ? Number(args[1]) : 1024);
run.catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
