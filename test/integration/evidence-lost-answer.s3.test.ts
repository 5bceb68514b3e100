import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { createS3EvidenceStore } from '../../activities/evidence/s3-evidence-store';
import { appendBundle, type BundleContent, type ChainWriter } from '../../evidence/append-bundle';
import { ChainLayout } from '../../evidence/layout';
import { verifyChain } from '../../evidence/verify-chain';
import { MOTO_CREDENTIALS } from '../../sandbox/aws-clients';
import { startFaultProxy, type FaultProxy } from '../../sandbox/fault-proxy';
import { getStack } from './stack';

/**
 * The ledger's conditional manifest write (If-None-Match) whose answer is lost after S3 stored it: the SDK sends it
 * again and S3 answers 412. The append must recognise its own manifest, not report another writer. A bucket of its
 * own with Object Lock, behind the fault proxy and the strict layer.
 */
const stack = getStack();
const BUCKET = `lost-answer-${randomUUID()}`;
const layout = new ChainLayout('lost-answer/', 'default');
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const s3Options = (endpoint: string) => ({
  region: 'us-east-1',
  endpoint,
  forcePathStyle: true,
  credentials: MOTO_CREDENTIALS,
});
let proxy: FaultProxy;
let direct: S3Client;
let proxied: S3Client;

beforeAll(async () => {
  direct = new S3Client(s3Options(stack.moto.endpoint));
  await direct.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
  proxy = await startFaultProxy({
    target: stack.moto.endpoint,
    faultRate: 0,
    faults: [],
    forced: [
      {
        match: (req) => req.operation === 'PutObject' && req.url.includes('/manifests/'),
        kind: 'answer-lost',
        times: 1,
      },
    ],
  });
  proxied = new S3Client({ ...s3Options(proxy.url), maxAttempts: 3 });
});

afterAll(async () => {
  proxied.destroy();
  direct.destroy();
  await proxy.close();
});

function bundle(): BundleContent {
  return {
    run: {
      kind: 'failover',
      workflowId: 'failover-lost-answer',
      runId: randomUUID(),
      workflowType: 'failoverWorkflow',
      closeStatus: 'COMPLETED',
      outcome: 'succeeded',
      runbookId: 'lost-answer',
      runbookSha256: createHash('sha256').update('runbook').digest('hex'),
      startedAt: '2026-11-30T01:00:00.000Z',
      closedAt: '2026-11-30T01:00:01.000Z',
      children: [],
    },
    files: [{ path: 'report.json', body: Buffer.from('{"ok":true}\n'), contentType: 'application/json' }],
  };
}

describe('an evidence manifest whose answer is lost after S3 stored it', () => {
  it('GIVEN the SDK sends the conditional PUT again (412) WHEN the ledger appends THEN it sees its own manifest, indexes it, and the chain verifies', async () => {
    const writer: ChainWriter = {
      store: createS3EvidenceStore(proxied, BUCKET),
      layout,
      namespace: 'default',
      signingKey: privateKey,
      retentionYears: 6,
      now: () => new Date(),
    };

    const appended = await appendBundle(writer, bundle());

    expect(appended).toMatchObject({ sequence: 1, alreadyWritten: false });
    expect(proxy.stats().operations.PutObject?.faultsByKind['answer-lost']).toBe(1);
    const report = await verifyChain(createS3EvidenceStore(direct, BUCKET), layout, {
      trustedKeys: [publicKey],
    });
    expect(report.problems).toEqual([]);
    expect(report.manifests).toBe(1);
  });
});
