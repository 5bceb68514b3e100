import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { createStartUseActivities } from '../../activities/runs/start-use';
import { MOTO_CREDENTIALS } from '../../sandbox/aws-clients';
import { codecFromConfig } from '../../security/codec/data-converter';
import {
  CIPHER,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  METADATA_CIPHER,
  METADATA_DATA_KEY,
  METADATA_KEY_ID,
} from '../../security/codec/encryption-codec';
import { createKmsAdapter } from '../../security/codec/kms-adapter';
import { createKmsKeySource } from '../../security/codec/kms-key-source';
import type { KmsPort } from '../../security/codec/kms-port';
import type { DrctlConfig } from '../../worker/config';
import { getStack } from './stack';

// Starts a dozen runs on the real Temporal dev server and waits for its visibility to list them.
jest.setTimeout(120_000);

/**
 * The worker's check that a signed start was not used by an earlier run under the same workflow id, against the
 * real Temporal server: its visibility lists the runs, its history API answers (or refuses) each run's first event.
 */
let connection: Connection;
let client: Client;

beforeAll(async () => {
  const stack = getStack();
  connection = await Connection.connect({ address: stack.temporal.address });
  client = new Client({ connection, namespace: stack.temporal.namespace });
});

/** The newest run under each workflow id this file started (each ended the one before): ended when the file ends. */
const openRuns = new Map<string, string>();

afterAll(async () => {
  await Promise.allSettled(
    [...openRuns].map(([workflowId, runId]) =>
      client.workflow.getHandle(workflowId, runId).terminate('start-use test over'),
    ),
  );
  for (const close of codecClosers) close();
  await connection?.close();
});

const WORKFLOW_TYPE = 'startUseProbeWorkflow';

/** A nonce of the form a verified statement's has (hex digits), named by `label`. */
function hexNonce(label: string): string {
  return createHash('sha256').update(label).digest('hex').slice(0, 32);
}

/**
 * Starts one run per nonce under one workflow id, each ending the one before (as a client starting with
 * TERMINATE_EXISTING does), on a queue no worker polls. Resolves with their run ids, oldest first.
 */
async function runsUnderOneId(workflowId: string, nonces: string[], by: Client = client): Promise<string[]> {
  const runIds: string[] = [];
  const taskQueue = `no-worker-${randomUUID()}`;
  for (const nonce of nonces) {
    const handle = await by.workflow.start(WORKFLOW_TYPE, {
      workflowId,
      taskQueue,
      args: [{ start: { statement: { nonce } } }],
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    });
    runIds.push(handle.firstExecutionRunId);
    openRuns.set(workflowId, handle.firstExecutionRunId);
  }
  return runIds;
}

/**
 * The client with its history reads recorded (the run ids, in the order read), and the run ids `listedToo` added
 * to what visibility lists.
 */
function countingClient(listedToo: string[] = []): { temporal: Client; historyReads: () => string[] } {
  const reads: string[] = [];
  const service = client.workflowService;
  const workflowService = new Proxy(service, {
    get: (target, key) =>
      key === 'getWorkflowExecutionHistory'
        ? (request: Parameters<typeof service.getWorkflowExecutionHistory>[0]) => {
            reads.push(request.execution?.runId ?? '');
            return target.getWorkflowExecutionHistory(request);
          }
        : (Reflect.get(target, key) as unknown),
  });
  const workflow = new Proxy(client.workflow, {
    get: (target, key) =>
      key === 'list'
        ? (options: Parameters<typeof target.list>[0]) =>
            (async function* () {
              for await (const execution of target.list(options)) yield execution;
              for (const runId of listedToo) yield { runId, startTime: new Date() };
            })()
        : (Reflect.get(target, key) as unknown),
  });
  const temporal = new Proxy(client, {
    get: (target, key) =>
      key === 'workflowService'
        ? workflowService
        : key === 'workflow'
          ? workflow
          : (Reflect.get(target, key) as unknown),
  });
  return { temporal, historyReads: () => reads };
}

/**
 * The earlier runs as visibility lists them, the order the lookup reads them in, once that order is settled: all
 * `count` runs listed, every earlier one as closed (the visibility store lists open runs first, and each earlier
 * run's closed record is written a moment after a later start ended it), and two listings in a row the same.
 */
async function listedOrder(workflowId: string, asking: string, count: number): Promise<string[]> {
  const query = `WorkflowId = '${workflowId}' AND WorkflowType = '${WORKFLOW_TYPE}'`;
  const deadline = Date.now() + 30_000;
  let previous = '';
  for (;;) {
    const listed: Array<{ runId: string; open: boolean }> = [];
    for await (const execution of client.workflow.list({ query }))
      listed.push({ runId: execution.runId, open: execution.status.name === 'RUNNING' });
    const earlier = listed.filter(({ runId }) => runId !== asking);
    const order = earlier.map(({ runId }) => runId).join(',');
    if (listed.length >= count && earlier.every(({ open }) => !open) && order === previous)
      return earlier.map(({ runId }) => runId);
    if (Date.now() > deadline)
      throw new Error(`visibility did not settle the ${count} runs of ${workflowId}`);
    previous = order;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How many runs a lookup reading eight at a time reads before it stops at the one at `position` (0-based). */
function readsUpTo(position: number, runs: number): number {
  return Math.min(runs, (Math.floor(position / 8) + 1) * 8);
}

describe('GIVEN twelve earlier runs under one id', () => {
  const workflowId = `start-use-${randomUUID()}`;
  const nonces = Array.from({ length: 13 }, (_, index) => hexNonce(String(index)));
  let runIds: string[] = [];
  let asking = '';
  let listed: string[] = [];
  const nonceOf = (runId: string) => nonces[runIds.indexOf(runId)] as string;
  const lookUp = async (nonce: string) => {
    const { temporal, historyReads } = countingClient();
    const answer = await createStartUseActivities({ temporal }).findEarlierStartUse({
      workflowId,
      workflowType: WORKFLOW_TYPE,
      runId: asking,
      nonce,
      signedAt: new Date().toISOString(),
    });
    return { answer, reads: historyReads() };
  };

  beforeAll(async () => {
    runIds = await runsUnderOneId(workflowId, nonces);
    asking = runIds.at(-1) as string;
    listed = await listedOrder(workflowId, asking, nonces.length);
  });

  test('WHEN a start reuses the statement of the run listed last THEN the lookup reads on past its first eight and finds it', async () => {
    const last = listed.at(-1) as string;
    const { answer, reads } = await lookUp(nonceOf(last));
    expect(answer.usedBy?.runId).toBe(last);
    expect(reads.indexOf(last)).toBeGreaterThanOrEqual(8);
    expect(reads).toHaveLength(readsUpTo(reads.indexOf(last), 12));
  });

  test('WHEN a start reuses the statement of a run among the first eight listed THEN the lookup stops after those eight reads', async () => {
    const early = listed[2] as string;
    const { answer, reads } = await lookUp(nonceOf(early));
    expect(answer.usedBy?.runId).toBe(early);
    expect(reads.indexOf(early)).toBeLessThan(8);
    expect(reads).toHaveLength(8);
  });

  test('WHEN the statement was used by none THEN the lookup reads every earlier run and finds no use', async () => {
    const { answer, reads } = await lookUp(hexNonce('never-used'));
    expect(answer).toEqual({});
    expect(new Set(reads)).toEqual(new Set(listed));
  });
});

test('GIVEN a run listed by visibility but gone from Temporal (deleted since) WHEN the lookup reads it THEN Temporal answers NOT_FOUND and it counts as no use, the others still read', async () => {
  const workflowId = `start-use-${randomUUID()}`;
  const runIds = await runsUnderOneId(workflowId, [hexNonce('a'), hexNonce('b'), hexNonce('c')]);
  const { temporal } = countingClient([randomUUID()]);
  const findEarlierStartUse = createStartUseActivities({ temporal }).findEarlierStartUse;
  const request = {
    workflowId,
    workflowType: WORKFLOW_TYPE,
    runId: runIds.at(-1) as string,
    signedAt: new Date().toISOString(),
  };

  await expect(findEarlierStartUse({ ...request, nonce: hexNonce('never-used') })).resolves.toEqual({});
  await expect(findEarlierStartUse({ ...request, nonce: hexNonce('a') })).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: runIds[0] }),
  });
});

test('GIVEN a worker that looked up the runs under an id WHEN a later start is looked up THEN only the runs it had not read are read again, and a reused statement is still found', async () => {
  const workflowId = `start-use-${randomUUID()}`;
  const first = await runsUnderOneId(workflowId, [hexNonce('1'), hexNonce('2'), hexNonce('3')]);
  const { temporal, historyReads } = countingClient();
  const findEarlierStartUse = createStartUseActivities({ temporal }).findEarlierStartUse;
  const lookUp = (runId: string, nonce: string) =>
    findEarlierStartUse({
      workflowId,
      workflowType: WORKFLOW_TYPE,
      runId,
      nonce,
      signedAt: new Date().toISOString(),
    });
  await listedOrder(workflowId, first.at(-1) as string, 3);
  await expect(lookUp(first.at(-1) as string, hexNonce('never-used'))).resolves.toEqual({});
  expect(new Set(historyReads())).toEqual(new Set(first.slice(0, 2)));

  const [fourth] = await runsUnderOneId(workflowId, [hexNonce('4')]);
  await listedOrder(workflowId, fourth as string, 4);
  await expect(lookUp(fourth as string, hexNonce('1'))).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: first[0] }),
  });
  // The third run is new to this lookup (it was the one asking before); the first two were read already.
  expect(historyReads().slice(2)).toEqual([first[2]]);
});

/** A client whose every start carries `payload` as its input, as a client with its own codec could send. */
function forging(payload: Payload): Client {
  return new Client({
    connection,
    namespace: getStack().temporal.namespace,
    dataConverter: { payloadCodecs: [{ encode: async () => [payload], decode: async (p) => p }] },
  });
}

/** A payload naming `keyId`, with a data key KMS never wrapped and junk for its ciphertext. */
function encryptedUnder(keyId: string): Payload {
  return {
    metadata: {
      encoding: Buffer.from(ENCRYPTED_ENCODING),
      [METADATA_CIPHER]: Buffer.from(CIPHER),
      [METADATA_KEY_ID]: Buffer.from(keyId),
      [METADATA_DATA_KEY]: randomBytes(184),
    },
    data: randomBytes(64),
  };
}

/** The KMS clients of the codecs `clientWithCodec` built, released when the file ends. */
const codecClosers: Array<() => void> = [];

/** A Client with the codec `codecFromConfig` builds for `codec` (as the worker's and the CLI's are built). */
function clientWithCodec(codec: Partial<DrctlConfig['codec']> & { kmsKeyId: string }): Client {
  const stack = getStack();
  process.env.AWS_ACCESS_KEY_ID ??= MOTO_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= MOTO_CREDENTIALS.secretAccessKey;
  const built = codecFromConfig({
    codec: { enabled: true, knownKmsKeyArns: [], dataKeyMaxAgeMs: 300_000, dataKeyMaxUses: 10_000, ...codec },
    aws: { region: stack.aws.region, endpoint: stack.moto.endpoint } as DrctlConfig['aws'],
  })!;
  codecClosers.push(built.close);
  return new Client({
    connection,
    namespace: stack.temporal.namespace,
    dataConverter: { payloadCodecs: [built.codec] },
  });
}

/** The ARN of a new KMS key in moto, in the stack's region. */
async function newMotoKey(description: string, multiRegion = false): Promise<string> {
  const stack = getStack();
  const kms = new KMSClient({
    endpoint: stack.moto.endpoint,
    region: stack.aws.region,
    credentials: MOTO_CREDENTIALS,
  });
  try {
    return (await kms.send(new CreateKeyCommand({ Description: description, MultiRegion: multiRegion })))
      .KeyMetadata!.Arn!;
  } finally {
    kms.destroy();
  }
}

describe("GIVEN runs under one id written under drctl's KMS key (moto), and runs anyone could start under the id naming another region's key or drctl's key with a data key KMS never wrapped", () => {
  const workflowId = `start-use-${randomUUID()}`;
  const decrypts: string[] = [];
  let kms: KMSClient;
  let drctl: Client;
  let runIds: string[] = [];

  beforeAll(async () => {
    const stack = getStack();
    kms = new KMSClient({
      endpoint: stack.moto.endpoint,
      region: stack.aws.region,
      credentials: MOTO_CREDENTIALS,
    });
    const adapter = createKmsAdapter(kms);
    const counted: KmsPort = {
      generateDataKey: (keyId, context) => adapter.generateDataKey(keyId, context),
      decrypt: (keyArn, wrapped, context) => {
        decrypts.push(keyArn);
        return adapter.decrypt(keyArn, wrapped, context);
      },
    };
    const codec = new EncryptionCodec({ encryptWith: createKmsKeySource(counted, stack.security.kms.alias) });
    drctl = new Client({
      connection,
      namespace: stack.temporal.namespace,
      dataConverter: { payloadCodecs: [codec] },
    });
    const ownKey = `kms:${stack.security.kms.keyArn}`;
    const otherRegion = ownKey.replace(`:kms:${stack.aws.region}:`, ':kms:xx-nowhere-9:');
    const [legit] = await runsUnderOneId(workflowId, [hexNonce('legit')], drctl);
    const [foreign] = await runsUnderOneId(
      workflowId,
      [hexNonce('f1')],
      forging(encryptedUnder(otherRegion)),
    );
    const [neverWrapped] = await runsUnderOneId(
      workflowId,
      [hexNonce('f2')],
      forging(encryptedUnder(ownKey)),
    );
    const [asking] = await runsUnderOneId(workflowId, [hexNonce('asking')], drctl);
    runIds = [legit!, foreign!, neverWrapped!, asking!];
    await listedOrder(workflowId, asking!, runIds.length);
  });

  afterAll(() => kms.destroy());

  const lookUp = (nonce: string) =>
    createStartUseActivities({ temporal: drctl }).findEarlierStartUse({
      workflowId,
      workflowType: WORKFLOW_TYPE,
      runId: runIds[3]!,
      nonce,
      signedAt: new Date().toISOString(),
    });

  test("WHEN a start reuses the legit run's statement THEN it is found; an unused one is not, the forged runs count as no use, and KMS is asked only about drctl's own key (before: Decrypt for the other region's key too)", async () => {
    await expect(lookUp(hexNonce('legit'))).resolves.toEqual({
      usedBy: expect.objectContaining({ runId: runIds[0] }),
    });
    await expect(lookUp(hexNonce('never-used'))).resolves.toEqual({});
    expect(decrypts.length).toBeGreaterThan(0);
    expect(new Set(decrypts)).toEqual(new Set([getStack().security.kms.keyArn]));
  });
});

describe("GIVEN a run under one id whose start was written under the deployment's earlier KMS key (moto), and a worker whose codec.kmsKeyId names a newer key and never used the earlier one", () => {
  const workflowId = `start-use-${randomUUID()}`;
  let earlierKeyArn = '';
  let runIds: string[] = [];

  beforeAll(async () => {
    earlierKeyArn = await newMotoKey('drctl codec, before the rotation');
    const [used] = await runsUnderOneId(
      workflowId,
      [hexNonce('before-rotation')],
      clientWithCodec({ kmsKeyId: earlierKeyArn }),
    );
    const [asking] = await runsUnderOneId(
      workflowId,
      [hexNonce('asking')],
      clientWithCodec({ kmsKeyId: getStack().security.kms.alias }),
    );
    runIds = [used!, asking!];
    await listedOrder(workflowId, asking!, runIds.length);
  });

  const lookUpWith = (temporal: Client) =>
    createStartUseActivities({ temporal }).findEarlierStartUse({
      workflowId,
      workflowType: WORKFLOW_TYPE,
      runId: runIds[1]!,
      nonce: hexNonce('before-rotation'),
      signedAt: new Date().toISOString(),
    });

  test("WHEN the worker lists the earlier key in codec.knownKmsKeyArns and a start reuses that run's statement THEN the reuse is found; without the list it counts as no use (before: no setting could make it count)", async () => {
    const newer = getStack().security.kms.alias;
    await expect(
      lookUpWith(clientWithCodec({ kmsKeyId: newer, knownKmsKeyArns: [earlierKeyArn] })),
    ).resolves.toEqual({
      usedBy: expect.objectContaining({ runId: runIds[0] }),
    });
    await expect(lookUpWith(clientWithCodec({ kmsKeyId: newer }))).resolves.toEqual({});
  });
});

describe("GIVEN drctl's codec under a multi-Region KMS key (moto), and a run anyone could start under the id naming that key in a region where it has no replica, with a data key KMS never wrapped", () => {
  const workflowId = `start-use-${randomUUID()}`;
  let drctl: Client;
  let runIds: string[] = [];

  beforeAll(async () => {
    const keyArn = await newMotoKey('drctl codec, multi-Region', true);
    expect(keyArn).toMatch(/:key\/mrk-/);
    drctl = clientWithCodec({ kmsKeyId: keyArn });
    const nowhere = keyArn.replace(`:kms:${getStack().aws.region}:`, ':kms:ap-south-2:');
    const [legit] = await runsUnderOneId(workflowId, [hexNonce('mrk-legit')], drctl);
    const [foreign] = await runsUnderOneId(
      workflowId,
      [hexNonce('mrk-forged')],
      forging(encryptedUnder(`kms:${nowhere}`)),
    );
    const [asking] = await runsUnderOneId(workflowId, [hexNonce('mrk-asking')], drctl);
    runIds = [legit!, foreign!, asking!];
    await listedOrder(workflowId, asking!, runIds.length);
  });

  const lookUp = (nonce: string) =>
    createStartUseActivities({ temporal: drctl }).findEarlierStartUse({
      workflowId,
      workflowType: WORKFLOW_TYPE,
      runId: runIds[2]!,
      nonce,
      signedAt: new Date().toISOString(),
    });

  test("WHEN a start is looked up THEN the forged run counts as no use (the key's replica here says it never wrapped that data key, and the region the payload names is not asked), and a reuse of the legit run's statement is found (before: KMS was asked again in the named region, answered NotFound, and the lookup failed, so every start under the id was refused)", async () => {
    await expect(lookUp(hexNonce('never-used'))).resolves.toEqual({});
    await expect(lookUp(hexNonce('mrk-legit'))).resolves.toEqual({
      usedBy: expect.objectContaining({ runId: runIds[0] }),
    });
  });
});
