import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createS3Adapter } from '../../activities/backups/s3-adapter';
import type { S3Port } from '../../activities/backups/s3-port';
import { createBackupActivities } from '../../kinds/backups-verify/activities';
import type { BackupsInput } from '../../kinds/backups-verify/definition';
import { createSandboxAwsClients } from '../../sandbox/aws-clients';
import { installQuietRuntime } from './quiet-runtime';
import { getStack } from './stack';

const OBJECT_BYTES = 2 * 1024 * 1024;
/** A slow link: 512 KiB/s, so the 2 MiB object takes about 4 s to stream and hash, in many chunks. */
const BYTES_PER_SECOND = 512 * 1024;
const HEARTBEAT_TIMEOUT_MS = 1_000;

/** The body's chunks arrive no faster than the link allows, as from a distant region; the bytes are unchanged. */
function overSlowLink(port: S3Port): S3Port {
  return {
    ...port,
    async readObject(ref, key) {
      const body = await port.readObject(ref, key);
      return (async function* () {
        for await (const chunk of body) {
          await sleep((chunk.length / BYTES_PER_SECOND) * 1000);
          yield chunk;
        }
      })();
    },
  };
}

/**
 * The backups.verify activity in a real worker on the sandbox's Temporal, reading a multi-chunk backup from moto:
 * hashing takes about 4 heartbeat timeouts, so it finishes only when the activity heartbeats as it hashes.
 */
describe('backup verification heartbeats per chunk (issue 8.15)', () => {
  const stack = getStack();
  let s3: S3Client;
  let connection: Connection;
  let workerConnection: NativeConnection;

  beforeAll(async () => {
    installQuietRuntime();
    s3 = createSandboxAwsClients(stack.moto.endpoint).s3(stack.aws.s3.region);
    connection = await Connection.connect({ address: stack.temporal.address });
    workerConnection = await NativeConnection.connect({ address: stack.temporal.address });
  });

  afterAll(async () => {
    s3?.destroy();
    await connection?.close();
    await workerConnection?.close();
  });

  it('GIVEN a backup whose hashing takes several heartbeat timeouts WHEN the step verifies it THEN it completes with the checksum recomputed', async () => {
    const prefix = `it-heartbeat/${randomUUID()}/`;
    const body = randomBytes(OBJECT_BYTES);
    const sha256 = createHash('sha256').update(body).digest('base64');
    await s3.send(
      new PutObjectCommand({
        Bucket: stack.aws.s3.bucket,
        Key: `${prefix}base.tar.gz`,
        Body: body,
        ChecksumAlgorithm: 'SHA256',
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + 2 * 86_400_000),
      }),
    );
    const input: BackupsInput = {
      bucket: stack.aws.s3.bucket,
      region: stack.aws.s3.region,
      prefix,
      maxAge: '1h',
      lockMode: 'COMPLIANCE',
      minRetention: '1d',
    };
    const activities = createBackupActivities({
      s3: overSlowLink(createS3Adapter(() => s3)),
      now: () => new Date(),
    });
    const taskQueue = `backups-heartbeat-${randomUUID()}`;
    const noop = () => undefined;
    const worker = await Worker.create({
      connection: workerConnection,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./workflows/verify-backups-once'),
        logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
      }),
      activities,
    });
    const client = new Client({ connection });

    const outcome = await worker.runUntil(
      client.workflow.execute('verifyBackupsOnce', {
        taskQueue,
        workflowId: `backups-heartbeat-${randomUUID()}`,
        args: [input, HEARTBEAT_TIMEOUT_MS],
      }),
    );

    expect(outcome).toMatchObject({
      changed: false,
      facts: { key: `${prefix}base.tar.gz`, checksum: `SHA256:${sha256}` },
    });
  });
});
