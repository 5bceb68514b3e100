import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { createStartUseActivities } from '../../activities/runs/start-use';
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
  await connection?.close();
});

const WORKFLOW_TYPE = 'startUseProbeWorkflow';

/**
 * Starts one run per nonce under one workflow id, each ending the one before (as a client starting with
 * TERMINATE_EXISTING does), on a queue no worker polls. Resolves with their run ids, oldest first.
 */
async function runsUnderOneId(workflowId: string, nonces: string[]): Promise<string[]> {
  const runIds: string[] = [];
  const taskQueue = `no-worker-${randomUUID()}`;
  for (const nonce of nonces) {
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
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
  const nonces = Array.from({ length: 13 }, (_, index) => `nonce-${index}`);
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
    const { answer, reads } = await lookUp('never-used');
    expect(answer).toEqual({});
    expect(new Set(reads)).toEqual(new Set(listed));
  });
});

test('GIVEN a run listed by visibility but gone from Temporal (deleted since) WHEN the lookup reads it THEN Temporal answers NOT_FOUND and it counts as no use, the others still read', async () => {
  const workflowId = `start-use-${randomUUID()}`;
  const runIds = await runsUnderOneId(workflowId, ['nonce-a', 'nonce-b', 'nonce-c']);
  const { temporal } = countingClient([randomUUID()]);
  const findEarlierStartUse = createStartUseActivities({ temporal }).findEarlierStartUse;
  const request = {
    workflowId,
    workflowType: WORKFLOW_TYPE,
    runId: runIds.at(-1) as string,
    signedAt: new Date().toISOString(),
  };

  await expect(findEarlierStartUse({ ...request, nonce: 'never-used' })).resolves.toEqual({});
  await expect(findEarlierStartUse({ ...request, nonce: 'nonce-a' })).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: runIds[0] }),
  });
});

test('GIVEN a worker that looked up the runs under an id WHEN a later start is looked up THEN only the runs it had not read are read again, and a reused statement is still found', async () => {
  const workflowId = `start-use-${randomUUID()}`;
  const first = await runsUnderOneId(workflowId, ['nonce-1', 'nonce-2', 'nonce-3']);
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
  await expect(lookUp(first.at(-1) as string, 'never-used')).resolves.toEqual({});
  expect(new Set(historyReads())).toEqual(new Set(first.slice(0, 2)));

  const [fourth] = await runsUnderOneId(workflowId, ['nonce-4']);
  await listedOrder(workflowId, fourth as string, 4);
  await expect(lookUp(fourth as string, 'nonce-1')).resolves.toEqual({
    usedBy: expect.objectContaining({ runId: first[0] }),
  });
  // The third run is new to this lookup (it was the one asking before); the first two were read already.
  expect(historyReads().slice(2)).toEqual([first[2]]);
});
