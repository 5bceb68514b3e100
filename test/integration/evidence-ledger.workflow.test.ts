import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure, Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  NativeConnection,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createAuthActivities } from '../../activities/auth/auth-activities';
import { createEvidenceActivities } from '../../activities/evidence/evidence-activities';
import { createS3EvidenceStore } from '../../activities/evidence/s3-evidence-store';
import { createStartUseActivities } from '../../activities/runs/start-use';
import { listChain } from '../../evidence/chain-listing';
import { ChainLayout } from '../../evidence/layout';
import type { EvidenceRequest } from '../../evidence/ledger-protocol';
import { verifyChain } from '../../evidence/verify-chain';
import { defineRunbook } from '../../runbooks/define-runbook';
import { MOTO_CREDENTIALS } from '../../sandbox/aws-clients';
import { EVIDENCE_BUCKET } from '../../sandbox/evidence-seed';
import { operatorPaths } from '../../sandbox/operator-seed';
import type { LedgerState } from '../../workflows/evidence-ledger';
import { addToCatalog, newCatalogDir, signerOf } from './operators';
import { installQuietRuntime } from './quiet-runtime';
import { getStack } from './stack';

/**
 * The ledger workflow itself on the sandbox's Temporal dev server, writing to the sandbox's Object Lock bucket
 * in moto under a prefix of its own (a ledger of its own id, so the namespace's real ledger is not involved).
 */
let client: Client;
let connection: Connection;
let workerConnection: NativeConnection;
let bundle: WorkflowBundleWithSourceMap;
let s3: S3Client;

beforeAll(async () => {
  installQuietRuntime();
  const stack = getStack();
  connection = await Connection.connect({ address: stack.temporal.address });
  client = new Client({ connection });
  workerConnection = await NativeConnection.connect({ address: stack.temporal.address });
  const noop = () => undefined;
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
  });
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: stack.moto.endpoint,
    forcePathStyle: true,
    credentials: MOTO_CREDENTIALS,
  });
});

afterAll(async () => {
  s3?.destroy();
  await connection?.close();
  await workerConnection?.close();
});

const waitRunbook = (id: string, duration: string) =>
  defineRunbook({
    id,
    title: id,
    owner: 'tests',
    objectives: { rto: '5m', rpo: '1m' },
    steps: [{ id: 'hold', kind: 'wait', duration }],
  });

/** The ledger's own worker on a task queue of its own, writing under a prefix of its own, with a fresh key. */
function ledgerWorker(
  instead: Partial<ReturnType<typeof createEvidenceActivities>> = {},
  storeSettings: Parameters<typeof createS3EvidenceStore>[2] = {},
) {
  const taskQueue = `ledger-${randomUUID()}`;
  const layout = new ChainLayout(`ledger-test-${randomUUID()}/`, 'default');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const catalog = newCatalogDir();
  const evidence = createEvidenceActivities({
    temporal: client,
    namespace: 'default',
    ledgerTaskQueue: taskQueue,
    store: createS3EvidenceStore(s3, EVIDENCE_BUCKET, storeSettings),
    signingKey: privateKey,
    prefix: layout.root.slice(0, -'default/'.length),
    retentionYears: 6,
  });
  const worker = Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: bundle,
    // The runs' own requests go nowhere here: this test signals its own ledger.
    activities: {
      ...evidence,
      ...createAuthActivities({ policyFile: operatorPaths.policyFile, catalogDirs: [catalog] }),
      ...createStartUseActivities({ temporal: client }),
      requestEvidence: async () => ({ requested: false, includedIn: 'test' }),
      ...instead,
    },
  });
  return { taskQueue, layout, publicKey, catalog, evidence, worker };
}

/** Starts a failover of a one-wait runbook per [id, duration], each reviewed and signed by alice; their requests. */
async function startRuns(
  taskQueue: string,
  catalog: string,
  specs: Array<[string, string]>,
): Promise<EvidenceRequest[]> {
  const runs = await Promise.all(
    specs.map(([id, duration]) => {
      const { reference } = addToCatalog(catalog, waitRunbook(`${id}-${randomUUID().slice(0, 8)}`, duration));
      const workflowId = `${id}-${randomUUID()}`;
      const start = signerOf('alice').sign({
        action: 'failover',
        runId: workflowId,
        runbookId: reference.id,
        runbookHash: reference.sha256,
        reason: 'ledger test',
      });
      return client.workflow.start('failoverWorkflow', {
        taskQueue,
        workflowId,
        args: [{ runbook: reference, start }],
      });
    }),
  );
  return runs.map((run) => ({
    workflowId: run.workflowId,
    runId: run.firstExecutionRunId,
    workflowType: 'failoverWorkflow',
    requestedAt: new Date().toISOString(),
  }));
}

/** The ledger's state once `done` holds, or at the deadline. */
async function ledgerStateWhen(
  workflowId: string,
  done: (state: LedgerState) => boolean,
  withinMs = 90_000,
): Promise<LedgerState> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const state = await client.workflow.getHandle(workflowId).query<LedgerState>('evidenceLedger');
    if (done(state) || Date.now() > deadline) return state;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

test('the ledger waits for each run to close, appends in order, ignores a repeated request, and continues as new with its queue', async () => {
  const { taskQueue, layout, publicKey, catalog, worker } = ledgerWorker();
  await (
    await worker
  ).runUntil(async () => {
    const requests = await startRuns(taskQueue, catalog, [
      ['ledger-a', '4s'],
      ['ledger-b', '1s'],
      ['ledger-c', '1s'],
    ]);
    const ledger = await client.workflow.start('evidenceLedgerWorkflow', {
      taskQueue,
      workflowId: `test-ledger-${randomUUID()}`,
      args: [{ continueAsNewAfter: 2 }],
    });
    // ledger-a is still running (4 s) when it is requested first: the others must wait behind it.
    for (const request of [...requests, requests[1]!]) await ledger.signal('evidenceRunEnded', request);

    const state = await ledgerStateWhen(ledger.workflowId, (current) => current.written >= 3);
    expect(state.written).toBe(3);
    expect(state.pending).toEqual([]);

    const entries = await listChain(createS3EvidenceStore(s3, EVIDENCE_BUCKET), layout, [publicKey]);
    expect(entries.map((entry) => [entry.sequence, entry.manifest?.run.workflowId])).toEqual(
      requests.map((request, index) => [index + 1, request.workflowId]),
    );
    const first = entries[0]!.manifest!;
    expect(first.run.closeStatus).toBe('COMPLETED');
    expect(Date.parse(first.createdAt)).toBeGreaterThanOrEqual(Date.parse(first.run.closedAt));

    // Two bundles per run of the ledger: it continued as new, carrying what it had written.
    const latest = await client.workflow.getHandle(ledger.workflowId).describe();
    expect(latest.runId).not.toBe(ledger.firstExecutionRunId);
    expect(state.recent).toEqual(requests.map((request) => `${request.workflowId}/${request.runId}`));

    const report = await verifyChain(createS3EvidenceStore(s3, EVIDENCE_BUCKET), layout, {
      trustedKeys: [publicKey],
    });
    expect(report).toMatchObject({ ok: true, manifests: 3 });
    await client.workflow.getHandle(ledger.workflowId).terminate('test done');
  });
});

test('a run whose bundle cannot be written goes to the back of the queue: the runs behind it are written (before: it held up every one of them)', async () => {
  let failingRun: string | undefined;
  const { taskQueue, layout, publicKey, catalog, evidence, worker } = ledgerWorker({
    writeEvidenceBundle: async (request) => {
      // As a drill's failover still open, or a store error for this run only: every attempt fails.
      if (request.workflowId === failingRun)
        throw ApplicationFailure.nonRetryable(
          `run ${request.workflowId} has a child still running`,
          'RunStillOpen',
        );
      return evidence.writeEvidenceBundle(request);
    },
  });
  await (
    await worker
  ).runUntil(async () => {
    const requests = await startRuns(taskQueue, catalog, [
      ['stuck', '1s'],
      ['behind-1', '1s'],
      ['behind-2', '1s'],
    ]);
    failingRun = requests[0]!.workflowId;
    const ledger = await client.workflow.start('evidenceLedgerWorkflow', {
      taskQueue,
      workflowId: `test-ledger-${randomUUID()}`,
      args: [{}],
    });
    for (const request of requests) await ledger.signal('evidenceRunEnded', request);

    // Well within the ledger's 30 s wait: it waits only once every queued run has failed.
    const state = await ledgerStateWhen(ledger.workflowId, (current) => current.written >= 2, 20_000);
    expect(state.written).toBe(2);
    expect(state.pending.map((request) => request.workflowId)).toEqual([failingRun]);
    const entries = await listChain(createS3EvidenceStore(s3, EVIDENCE_BUCKET), layout, [publicKey]);
    expect(entries.map((entry) => entry.manifest?.run.workflowId)).toEqual([
      requests[1]!.workflowId,
      requests[2]!.workflowId,
    ]);
    await client.workflow.getHandle(ledger.workflowId).terminate('test done');
  });
});

test('GIVEN an evidence key S3 cannot use THEN the ledger keeps the run queued and says which key (before: it dropped the request as unbundleable, and with it the evidence of the run)', async () => {
  const { taskQueue, catalog, worker } = ledgerWorker({}, { kmsKeyId: 'alias/no-such-evidence-key' });
  await (
    await worker
  ).runUntil(async () => {
    const [request] = await startRuns(taskQueue, catalog, [['unkeyed', '1s']]);
    const ledger = await client.workflow.start('evidenceLedgerWorkflow', {
      taskQueue,
      workflowId: `test-ledger-${randomUUID()}`,
      args: [{}],
    });
    await ledger.signal('evidenceRunEnded', request);

    const state = await ledgerStateWhen(
      ledger.workflowId,
      (current) => current.blocked !== undefined || current.recent.length > 0,
      60_000,
    );
    expect({
      written: state.written,
      pending: state.pending.map((queued) => queued.workflowId),
      dropped: state.recent,
      blocked: state.blocked,
    }).toEqual({
      written: 0,
      pending: [request!.workflowId],
      dropped: [],
      blocked: expect.stringMatching(
        /S3 could not use a KMS key for PutObject .*DRCTL_EVIDENCE_KMS_KEY_ID alias\/no-such-evidence-key/,
      ),
    });
    await client.workflow.getHandle(ledger.workflowId).terminate('test done');
  });
});
