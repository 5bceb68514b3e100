import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Client,
  Connection,
  WorkflowFailedError,
  type WorkflowHandle,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import {
  bundleWorkflowCode,
  NativeConnection,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { installQuietRuntime } from './quiet-runtime';
import { defineRunbook } from '../../runbooks/define-runbook';
import type { RunbookInput } from '../../runbooks/schema';
import type { FailoverProgress, FailoverResult, PlanResult } from '../../workflows/run-types';
import type { fenceFollowUpWorkflow } from '../../workflows/fence-follow-up';
import { FakeEstate } from '../fakes/fake-estate';
import { databaseInput } from '../../kinds/database-targets';
import { createAuthActivities } from '../../activities/auth/auth-activities';
import { createStartUseActivities } from '../../activities/runs/start-use';
import { createRunStartActivities } from '../../activities/runs/run-start';
import { createHolderActivities } from '../../activities/runs/run-holder';
import type { HolderActivities } from '../../activities/runs/holder-contracts';
import type { RunStartActivities } from '../../activities/runs/run-start-contracts';
import type { StartUseActivities } from '../../activities/runs/start-use-contracts';
import type { AuthActivities } from '../../activities/auth/auth-contracts';
import { createEvacuationActivities } from '../../evacuations/evacuation-activities';
import { findEvacuation } from '../../evacuations/catalog';
import {
  FINAL_SERVICE_STATES,
  type EvacuationActivities,
  type EvacuationProgress,
  type EvacuationResult,
} from '../../evacuations/evacuation-types';
import { evacuationReference } from '../../cli/evacuation-runs';
import type { OperatorSigner } from '../../cli/operator-signer';
import type { StatementAction } from '../../auth/permissions';
import { runbookSha256 } from '../../auth/sha256';
import { operatorPaths } from '../../sandbox/operator-seed';
import { OUTCOME_KEY } from '../../common/search-attributes';
import { addToCatalog, EXAMPLES_DIR, newCatalogDir, signerOf } from './operators';
import { WORKFLOW_CODE } from '../../worker/workflow-bundle';
import { getStack } from './stack';
import { untilUpdateAdmitted } from './update-admitted';

/**
 * The failover and plan workflows on the sandbox's real Temporal dev server, with the estate in memory behind
 * the activity surface: these tests are about the interpreter (order, retries, onFailure, pause, timeline).
 */
let client: Client;
let connection: Connection;
let workerConnection: NativeConnection;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  installQuietRuntime();
  const { address } = getStack().temporal;
  connection = await Connection.connect({ address });
  client = new Client({ connection });
  workerConnection = await NativeConnection.connect({ address });
  bundle = await bundleWorkflowCode({
    ...WORKFLOW_CODE,
    logger: quietLogger(),
  });
});

afterAll(async () => {
  await connection?.close();
  await workerConnection?.close();
});

const fastRetry = { maximumAttempts: 3, initialInterval: '100ms', maximumInterval: '200ms' };

function runbook(overrides: Partial<RunbookInput> = {}) {
  return defineRunbook({
    id: 'test-db',
    title: 'test',
    owner: 'tests',
    objectives: { rto: '5m', rpo: '1m' },
    targets: {
      databases: {
        db: {
          provider: 'postgres',
          primary: { connection: 'p', endpoint: '10.0.0.2' },
          replica: { connection: 'r', endpoint: '10.0.0.3' },
          applicationRoles: ['ehr_app'],
        },
      },
    },
    steps: [
      { id: 'preflight', kind: 'preflight', retry: fastRetry },
      {
        id: 'prepare',
        kind: 'parallel',
        steps: [
          {
            id: 'flags-on',
            kind: 'flags.set',
            flags: [{ name: 'degraded', enabled: true }],
            retry: fastRetry,
          },
          { id: 'backups', kind: 'backups.verify', bucket: 'bkp', retry: fastRetry },
        ],
      },
      { id: 'fence', kind: 'database.fence', database: 'db', retry: fastRetry },
      { id: 'promote', kind: 'database.promote', database: 'db', retry: fastRetry },
      {
        id: 'dns',
        kind: 'dns.switch',
        zone: { name: 'z.test.' },
        records: [{ name: 'db.z.test.', type: 'A', pointTo: { database: 'db', member: 'replica' } }],
        retry: fastRetry,
      },
      { id: 'probe', kind: 'probe', probe: { type: 'sql', connection: 'app' }, retry: fastRetry },
    ],
    ...overrides,
  });
}

/** The test runbook with its `kind` step pausing for an operator when it fails. */
function pausingOn(kind: string) {
  const rb = runbook();
  return {
    ...rb,
    steps: rb.steps.map((step) => (step.kind === kind ? { ...step, onFailure: 'pause' as const } : step)),
  };
}

/** Waits until the run pauses for an operator. */
async function waitUntilPaused(handle: { query<T>(name: string): Promise<T> }): Promise<FailoverProgress> {
  return waitFor(async () => {
    const progress = await handle.query<FailoverProgress>('progress');
    return progress.status === 'paused' ? progress : undefined;
  });
}

function newEstate(): FakeEstate {
  return new FakeEstate({ dns: { 'db.z.test.': '10.0.0.2' }, flags: ['degraded'] });
}

/** Each worker has its own reviewed catalog folder (the sandbox's policy and demo operators sign). */
let catalog = '';

/** Activities that behave otherwise than the estate's (or the worker's access policy and catalog) in a test. */
type InsteadActivities = Partial<
  ReturnType<FakeEstate['activities']> &
    AuthActivities &
    EvacuationActivities &
    HolderActivities &
    StartUseActivities
>;

async function withWorker<T>(
  estate: FakeEstate,
  work: (taskQueue: string) => Promise<T>,
  instead: InsteadActivities = {},
): Promise<T> {
  const taskQueue = `test-${randomUUID()}`;
  catalog = newCatalogDir();
  const worker = await workerOn(taskQueue, estate, instead);
  return worker.runUntil(work(taskQueue));
}

/** A worker on `taskQueue` for the estate, with the test catalog's access policy and reads, and `instead`. */
function workerOn(
  taskQueue: string,
  estate: FakeEstate,
  instead: InsteadActivities,
  workflowBundle: WorkflowBundleWithSourceMap = bundle,
) {
  return Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle,
    maxHeartbeatThrottleInterval: '1s',
    activities: { ...estate.activities(), ...workerAuth(), ...instead },
  });
}

/** The worker's reads of its access policy and of its reviewed catalog (the test's catalog folder). */
function workerAuth(): AuthActivities & StartUseActivities & RunStartActivities {
  return {
    ...createAuthActivities({ policyFile: operatorPaths.policyFile, catalogDirs: [EXAMPLES_DIR, catalog] }),
    ...createStartUseActivities({ temporal: client }),
    ...createRunStartActivities({ temporal: client }),
  };
}

/** Puts the runbook into the worker's reviewed catalog, then plans it signed by dave; resolves with the plan. */
function planSigned(taskQueue: string, rb: RunbookInput, reason: string): Promise<PlanResult> {
  const { reference } = addToCatalog(catalog, rb);
  const workflowId = `test-plan-${randomUUID()}`;
  return client.workflow.execute('planWorkflow', {
    taskQueue,
    workflowId,
    args: [
      {
        runbook: reference,
        start: signerOf('dave').sign({
          action: 'plan',
          runId: workflowId,
          runbookId: reference.id,
          runbookHash: reference.sha256,
          reason,
        }),
      },
    ],
  });
}

/** Starts a failover of `rb`, signed by alice; under `workflowId` when given (a runbook's runs share its lock's id). */
function start(taskQueue: string, rb = runbook(), workflowId = `test-failover-${randomUUID()}`) {
  return startWith(taskQueue, workflowId, signedStart(rb, workflowId));
}

/** Puts the runbook into the worker's reviewed catalog; the request that starts it under `workflowId`, signed by alice. */
function signedStart(rb: RunbookInput, workflowId: string) {
  const { reference } = addToCatalog(catalog, rb);
  return {
    runbook: reference,
    start: signerOf('alice').sign({
      action: 'failover',
      runId: workflowId,
      runbookId: reference.id,
      runbookHash: reference.sha256,
      reason: 'test',
    }),
  };
}

function startWith(taskQueue: string, workflowId: string, request: ReturnType<typeof signedStart>) {
  return client.workflow.start('failoverWorkflow', { taskQueue, workflowId, args: [request] });
}

/** A signed operator update for the run behind `handle`, as the CLI sends it. */
async function signed(
  handle: Pick<WorkflowHandle, 'workflowId' | 'query'>,
  signer: OperatorSigner,
  fields: { action: StatementAction; stepId?: string; reason: string; detail?: Record<string, string> },
) {
  const { authorization, runId } = await handle.query<FailoverProgress>('progress');
  return {
    signed: signer.sign({
      ...fields,
      detail: { ...fields.detail, run: runId },
      runId: handle.workflowId,
      runbookId: authorization?.runbookId ?? '?',
      runbookHash: authorization?.runbookHash ?? '?',
    }),
  };
}

/** A signed close of a fence follow-up, as `drctl close` sends it. */
async function signedClose(followUpId: string, signer: OperatorSigner) {
  const state = await client.workflow
    .getHandle(followUpId)
    .query<{ authorization: { runbookId: string; runbookHash: string } }>('followUp');
  return {
    signed: signer.sign({
      action: 'abort',
      stepId: 'close',
      reason: 'test over',
      runId: followUpId,
      runbookId: state.authorization.runbookId,
      runbookHash: state.authorization.runbookHash,
    }),
  };
}

async function failedResult(promise: Promise<unknown>, type = 'FailoverFailed'): Promise<FailoverResult> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe(type);
  return cause.details?.[0] as FailoverResult;
}

test('a healthy run changes the estate in order and records every step', async () => {
  const estate = newEstate();
  const result: FailoverResult = await withWorker(estate, async (taskQueue) =>
    (await start(taskQueue)).result(),
  );

  expect(result.status).toBe('succeeded');
  expect(estate.roles.get('primary')).toBe('fenced');
  expect(estate.roles.get('replica')).toBe('primary');
  expect(estate.dns.get('db.z.test.')).toBe('10.0.0.3');
  expect(estate.flags.get('degraded')).toBe(true);
  expect(estate.probes).toBe(1);
  // The run asked for its evidence bundle once, at its end (as failed and aborted runs do below).
  expect(estate.evidenceRequests).toEqual([result.workflowId]);
  expect(result.timeline.map((e) => e.stepId)).toEqual([
    'preflight',
    'flags-on',
    'backups',
    'fence',
    'promote',
    'dns',
    'probe',
  ]);
  expect(result.timeline.every((e) => e.status === 'succeeded' && e.endedAt !== undefined)).toBe(true);
  expect(result.timeline.find((e) => e.stepId === 'flags-on')?.group).toBe('prepare');
  expect(result.timeline.find((e) => e.stepId === 'preflight')?.checks?.length).toBeGreaterThan(0);
  expect(result.totalSteps).toBe(7);
});

test('a start whose earlier-use lookup cannot read an earlier run for a few tries (KMS throttled) still starts once it can, checked (before: refused after three tries, within seconds)', async () => {
  const estate = newEstate();
  const lookups: string[] = [];
  const { findEarlierStartUse } = createStartUseActivities({ temporal: client });
  const result: FailoverResult = await withWorker(
    estate,
    async (taskQueue) => (await start(taskQueue)).result(),
    {
      findEarlierStartUse: async (input) => {
        lookups.push(input.nonce);
        if (lookups.length <= 4)
          throw ApplicationFailure.retryable(
            'an earlier run cannot be read now (KMS throttled)',
            'StartUnreadable',
          );
        return findEarlierStartUse(input);
      },
    },
  );

  expect(result.status).toBe('succeeded');
  expect(lookups).toHaveLength(5);
  expect(new Set(lookups).size).toBe(1);
  expect(estate.roles.get('replica')).toBe('primary');
});

test('an abort forwarded (as an evacuation does) to a failover still verifying its start is asked again until the run takes it, and the run ends aborted (before: refused as "still verifying", recorded as refused and never sent again, and the failover ran to its end)', async () => {
  const estate = newEstate();
  const { findEarlierStartUse } = createStartUseActivities({ temporal: client });
  const taskQueue = `test-${randomUUID()}`;
  catalog = newCatalogDir();
  const workflowId = `test-failover-${randomUUID()}`;
  // Held at a gate once verified, so the run cannot end before the abort asked again reaches it.
  const request = signedStart(withSteps([{ after: 'preflight', step: gate('hold') }]), workflowId);
  const handle = await startWith(taskQueue, workflowId, request);
  const update = {
    signed: signerOf('alice').sign({
      action: 'abort',
      reason: 'the evacuation was aborted',
      runId: workflowId,
      runbookId: request.runbook.id,
      runbookHash: request.runbook.sha256,
      detail: { run: handle.firstExecutionRunId },
    }),
  };
  // Sent while no worker runs, both reach the run in its first workflow task, before its start is verified (a
  // workflow task runs the start's local reads to their end, so an update sent later waits for the verdict): a
  // client's own abort, and the evacuation's forward.
  const refusal = handle.executeUpdate('abort', { args: [update], updateId: 'client-abort' }).then(
    () => 'accepted',
    (error: WorkflowUpdateFailedError) => (error.cause as ApplicationFailure | undefined)?.type ?? undefined,
  );
  const forwarded = createEvacuationActivities(client).abortRun({
    workflowId,
    runId: handle.firstExecutionRunId,
    update,
  });
  await untilUpdateAdmitted(client, workflowId, 'client-abort');
  await untilUpdateAdmitted(client, workflowId, `evacuation-abort-${update.signed.statement.nonce}`);
  const worker = await workerOn(taskQueue, estate, {
    findEarlierStartUse: async (input) => {
      await Context.current().sleep(2_000);
      return findEarlierStartUse(input);
    },
  });
  const { firstRefusal, answer, result } = await worker.runUntil(async () => ({
    firstRefusal: await refusal,
    answer: await forwarded,
    result: await failedResult(handle.result(), 'FailoverAborted'),
  }));

  expect(firstRefusal).toBe('StartBeingVerified');
  expect(answer).toEqual({ outcome: 'accepted' });
  expect(result.status).toBe('aborted');
  expect(estate.promotions).toBe(0);
});

test("a step's quick read before its effect is a local activity in the workflow task that schedules the effect, or read ahead while the step before runs", async () => {
  const estate = newEstate();
  const result: FailoverResult = await withWorker(estate, async (taskQueue) =>
    (await start(taskQueue)).result(),
  );
  expect(result.status).toBe('succeeded');
  const events = (await client.workflow.getHandle(result.workflowId).fetchHistory()).events ?? [];
  const scheduledAt = (type: string) =>
    events.findIndex((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === type);
  const localReadAt = (type: string) =>
    events.findIndex((event) => {
      const marker = event.markerRecordedEventAttributes;
      const data = marker?.details?.data?.payloads?.[0];
      if (marker?.markerName !== 'core_local_activity' || !data) return false;
      return (defaultPayloadConverter.fromPayload(data) as { activity_type?: string }).activity_type === type;
    });
  /** The workflow task whose completion recorded the event at `index`: the last one completed before it. */
  const taskOf = (index: number) => {
    let task = -1;
    for (let i = 0; i < index; i++) if (events[i]?.workflowTaskCompletedEventAttributes) task = i;
    return task;
  };

  // Unleash's read made as the step starts: in history before the effect, from the same workflow task, no
  // task-queue round trip.
  expect(scheduledAt('readFlags')).toBe(-1);
  const flagsRead = localReadAt('readFlags');
  expect(flagsRead).toBeGreaterThan(-1);
  expect(flagsRead).toBeLessThan(scheduledAt('setFlags'));
  expect(taskOf(flagsRead)).toBe(taskOf(scheduledAt('setFlags')));
  // The fence's plan is read ahead: a regular activity scheduled with the step before it (the backups), so its
  // answer is in when the fence starts; no local read of it. The promotion's plan likewise, with the fence.
  for (const [read, before, effect] of [
    ['planFence', 'verifyBackups', 'fenceDatabase'],
    ['planPromote', 'fenceDatabase', 'promoteDatabase'],
  ] as const) {
    expect({ read, local: localReadAt(read) }).toEqual({ read, local: -1 });
    expect(taskOf(scheduledAt(read))).toBe(taskOf(scheduledAt(before)));
    expect(scheduledAt(read)).toBeLessThan(scheduledAt(effect));
  }
  // Route 53's read is paced and pages through the zone (heartbeats, resumes): it stays a regular activity.
  expect(scheduledAt('readDnsRecords')).toBeGreaterThan(-1);
  expect(localReadAt('readDnsRecords')).toBe(-1);
  expect(result.timeline.find((entry) => entry.stepId === 'flags-on')?.before).toMatchObject({
    flags: [{ name: 'degraded', enabled: false }],
  });
});

test('a run reads its reviewed runbook beside the access policy, not after it: the start waits for one read, not two in a row', async () => {
  const estate = newEstate();
  const seen: string[] = [];
  const result: FailoverResult = await withWorker(
    estate,
    async (taskQueue) => (await start(taskQueue)).result(),
    {
      loadAccessPolicy: async () => {
        seen.push('policy read begins');
        await new Promise((resolve) => setTimeout(resolve, 300)); // a slow disk: the runbook read goes on meanwhile
        seen.push('policy read ends');
        return workerAuth().loadAccessPolicy();
      },
      loadReviewedRunbook: async (request) => {
        seen.push('runbook read begins');
        return workerAuth().loadReviewedRunbook(request);
      },
    },
  );

  expect(result.status).toBe('succeeded');
  // Both local reads at once (in either order): the runbook's began before the policy's ended.
  expect(seen.indexOf('runbook read begins')).toBeGreaterThan(-1);
  expect(seen.indexOf('runbook read begins')).toBeLessThan(seen.indexOf('policy read ends'));
});

test('a failed pre-flight check stops the run before any change and says which check', async () => {
  const estate = newEstate();
  estate.replicaLagSeconds = 120;
  const result = await withWorker(estate, async (taskQueue) =>
    failedResult((await start(taskQueue)).result()),
  );

  expect(result.status).toBe('failed');
  expect(result.timeline).toHaveLength(1);
  expect(estate.evidenceRequests).toEqual([result.workflowId]);
  const preflight = result.timeline[0]!;
  expect(preflight.error?.type).toBe('PreflightFailed');
  expect(preflight.error?.message).toContain('lag');
  expect(preflight.checks?.some((c) => !c.ok && c.message === '120s')).toBe(true);
  expect(estate.roles.get('primary')).toBe('primary');
  expect(estate.roles.get('replica')).toBe('replica');
  expect(estate.dns.get('db.z.test.')).toBe('10.0.0.2');
  expect(estate.flags.get('degraded')).toBe(false);
});

test('transient faults are retried and the attempts are recorded', async () => {
  const estate = newEstate();
  estate.failNext('promoteDatabase', 2, { type: 'Throttling', message: 'slow down' });
  const result: FailoverResult = await withWorker(estate, async (taskQueue) =>
    (await start(taskQueue)).result(),
  );

  expect(result.status).toBe('succeeded');
  expect(estate.promotions).toBe(1);
  expect(result.timeline.find((e) => e.stepId === 'promote')?.attempts).toBe(3);
});

test('DNS is never switched to a database whose promotion failed, even when the run continues', async () => {
  const estate = newEstate();
  estate.failNext('promoteDatabase', 1, {
    type: 'InvalidState',
    message: 'replica is not ready',
    nonRetryable: true,
  });
  const rb = runbook();
  const steps = rb.steps.map((step) =>
    step.kind === 'database.promote' ? { ...step, onFailure: 'continue' as const } : step,
  );
  const result = await withWorker(estate, async (taskQueue) =>
    failedResult((await start(taskQueue, { ...rb, steps })).result()),
  );

  expect(result.timeline.find((e) => e.stepId === 'promote')?.status).toBe('continued');
  expect(result.timeline.find((e) => e.stepId === 'promote')?.attempts).toBe(1);
  const dns = result.timeline.find((e) => e.stepId === 'dns');
  expect(dns?.status).toBe('failed');
  expect(dns?.error?.type).toBe('UnsafeOrder');
  expect(estate.dns.get('db.z.test.')).toBe('10.0.0.2');
  expect(estate.probes).toBe(0);
});

test('a paused step waits for an operator: retry after the fault is fixed completes the run', async () => {
  const estate = newEstate();
  estate.failNext('fenceDatabase', 3, { type: 'AccessDenied', message: 'not allowed', nonRetryable: true });
  const rb = runbook();
  const steps = rb.steps.map((step) =>
    step.kind === 'database.fence' ? { ...step, onFailure: 'pause' as const } : step,
  );
  const result: FailoverResult = await withWorker(estate, async (taskQueue) => {
    const handle = await start(taskQueue, { ...rb, steps });
    const paused = await waitFor(async () => {
      const progress = await handle.query<FailoverProgress>('progress');
      return progress.status === 'paused' ? progress : undefined;
    });
    expect(paused.timeline.find((e) => e.stepId === 'fence')?.status).toBe('paused');
    const rejected = await handle
      .executeUpdate('decide', {
        args: [
          await signed(handle, signerOf('bob'), { stepId: 'promote', action: 'retry', reason: 'wrong step' }),
        ],
      })
      .catch((error: WorkflowUpdateFailedError) => error);
    expect((rejected as WorkflowUpdateFailedError).cause?.message).toMatch(
      /step "promote" is not paused; paused now: fence/,
    );
    estate.clearFaults();
    await handle.executeUpdate('decide', {
      args: [
        await signed(handle, signerOf('bob'), { stepId: 'fence', action: 'retry', reason: 'IAM fixed' }),
      ],
    });
    return handle.result();
  });

  expect(result.status).toBe('succeeded');
  const fenceEntries = result.timeline.filter((e) => e.stepId === 'fence');
  expect(fenceEntries.map((e) => e.status)).toEqual(['failed', 'succeeded']);
  expect(fenceEntries[0]?.decisions?.[0]).toMatchObject({
    action: 'retry',
    operator: 'bob',
    reason: 'IAM fixed',
  });
  expect(estate.roles.get('primary')).toBe('fenced');
});

test('an operator’s retry of a fence that acted keeps the first execution’s undo, even if the fence then finds itself in place', async () => {
  const estate = newEstate();
  // Every attempt fences, then dies before reporting it: the step fails and pauses with the primary fenced.
  estate.failAfterEffect('fenceDatabase', 3);
  const pausing = pausingOn('database.fence');
  const result = await withWorker(estate, async (taskQueue) => {
    const handle = await start(taskQueue, withSteps([{ after: 'fence', step: gate('hold') }], pausing));
    await waitUntilPaused(handle);
    expect(estate.roles.get('primary')).toBe('fenced');
    // The retry's fence reads the primary fenced with nothing of its own to show (as a fence without the run's
    // record would): it must not withdraw the undo the first execution recorded.
    estate.fencedByAnotherAfterPlan = true;
    await handle.executeUpdate('decide', {
      args: [
        await signed(handle, signerOf('bob'), { stepId: 'fence', action: 'retry', reason: 'worker back' }),
      ],
    });
    await waitForGate(handle, 'hold');
    await handle.executeUpdate('abort', {
      args: [await signed(handle, signerOf('alice'), { action: 'abort', reason: 'false alarm' })],
    });
    return failedResult(handle.result(), 'FailoverAborted');
  });

  expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual(['fence:undone', 'flags-on:undone']);
  expect(estate.roles.get('primary')).toBe('primary');
});

/**
 * Starts a run whose access policy read hangs, cancels it through Temporal once that read began, and describes the
 * closed run: it must end cancelled, not failed.
 */
async function cancelledWhileVerifying(
  estate: FakeEstate,
  startRun: (taskQueue: string) => Promise<WorkflowHandle>,
) {
  let policyReadBegan: () => void = () => undefined;
  const policyRead = new Promise<void>((began) => (policyReadBegan = began));
  return withWorker(
    estate,
    async (taskQueue) => {
      const handle = await startRun(taskQueue);
      await policyRead;
      await handle.cancel();
      const error = await handle.result().catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      return handle.describe();
    },
    {
      loadAccessPolicy: async () => {
        policyReadBegan();
        // A local activity: the run sees the cancel when its workflow task heartbeats (after 8 of its 10 s).
        await Context.current().sleep(30_000);
        throw new Error('the policy read outlived the cancel');
      },
    },
  );
}

test('a failover cancelled through Temporal while its start is still being verified ends cancelled, not refused by the access policy: nothing began (before: it failed as NotAuthorized, "the access policy cannot be read", and runs listed it refused)', async () => {
  const estate = newEstate();
  const described = await cancelledWhileVerifying(estate, (taskQueue) => start(taskQueue));

  expect(described.status.name).toBe('CANCELLED');
  expect(described.typedSearchAttributes.get(OUTCOME_KEY)).toBe('canceled');
  expect(estate.roles.get('primary')).toBe('primary');
  expect(estate.flags.get('degraded')).toBe(false);
});

test.each([
  ['an evacuation', 'evacuationWorkflow', 'evacuate'],
  ['a drill of an evacuation', 'evacuationDrillWorkflow', 'drill'],
] as const)(
  '%s cancelled through Temporal while its start is still being verified ends cancelled, not refused: nothing began',
  async (_what, workflowType, action) => {
    const described = await cancelledWhileVerifying(newEstate(), (taskQueue) => {
      const workflowId = `test-${action}-${randomUUID()}`;
      // The reference is never read: the run is cancelled while it reads the policy, before it loads the plan.
      const evacuation = { id: 'us-east-1', sha256: '0'.repeat(64) };
      const signed = signerOf('alice').sign({
        action,
        runId: workflowId,
        runbookId: evacuation.id,
        runbookHash: evacuation.sha256,
        reason: 'test',
      });
      const request =
        action === 'drill'
          ? {
              evacuation,
              start: signed,
              options: { action: 'fence-primary', canaryIntervalMs: 100, warmupMs: 0 },
            }
          : { evacuation, start: signed };
      return client.workflow.start(workflowType, { taskQueue, workflowId, args: [request] });
    });

    expect(described.status.name).toBe('CANCELLED');
    expect(described.typedSearchAttributes.get(OUTCOME_KEY)).toBe('canceled');
  },
);

/** A watch of a failover that never returns once it has closed (its worker slow, or gone). */
const hungWatch: EvacuationActivities['watchRun'] = async () => {
  await Context.current().sleep(60_000);
  throw new Error('the watch outlived the test');
};

/**
 * Runs an evacuation of `waves` (runbooks named by id, each added to the worker's catalog as `runbookOf` that id,
 * by default `runbook()` with it) on a worker whose watch of each failover is `instead.watchRun`, by default one
 * that never returns once the failover has closed: the evacuation stays open after its last service ended,
 * waiting for the watch (at most WATCHES_END_WAIT_MS). `instead` replaces other evacuation activities too.
 * `whileOpen` acts on it meanwhile; resolves with its result (an aborted or failed one's too).
 */
async function evacuationWithHungWatch(
  waves: Array<{ id: string; runbooks: string[]; approval?: Record<string, never> }>,
  whileOpen: (handle: Awaited<ReturnType<typeof start>>) => Promise<void>,
  instead: Partial<EvacuationActivities> = {},
  runbookOf: (id: string) => RunbookInput = (id) => runbook({ id }),
): Promise<EvacuationResult> {
  const evacuationsDir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
  const reviewedEvacuations = () =>
    createAuthActivities({
      policyFile: operatorPaths.policyFile,
      catalogDirs: [EXAMPLES_DIR, catalog],
      evacuationDirs: [evacuationsDir],
    });
  try {
    return await withWorker(
      newEstate(),
      async (taskQueue) => {
        for (const id of waves.flatMap((wave) => wave.runbooks)) addToCatalog(catalog, runbookOf(id));
        writeFileSync(
          join(evacuationsDir, 'test-region.json'),
          JSON.stringify({ id: 'test-region', title: 'test', waves }),
        );
        const evacuation = evacuationReference(findEvacuation('test-region', [catalog], [evacuationsDir])!);
        const workflowId = `test-evacuation-${randomUUID()}`;
        const start = signerOf('alice').sign({
          action: 'evacuate',
          runId: workflowId,
          runbookId: evacuation.id,
          runbookHash: evacuation.sha256,
          reason: 'test',
        });
        const handle = await client.workflow.start('evacuationWorkflow', {
          taskQueue,
          workflowId,
          args: [{ evacuation, start }],
        });
        await whileOpen(handle);
        return evacuationResult(handle);
      },
      {
        loadReviewedEvacuation: (request) => reviewedEvacuations().loadReviewedEvacuation(request),
        ...createEvacuationActivities(client),
        ...createHolderActivities({ temporal: client }),
        watchRun: hungWatch,
        ...instead,
      },
    );
  } finally {
    rmSync(evacuationsDir, { recursive: true, force: true });
  }
}

/** The evacuation's result, an aborted or failed one's too (its failure's detail). */
async function evacuationResult(handle: WorkflowHandle): Promise<EvacuationResult> {
  return (await handle.result().catch((error: WorkflowFailedError) => {
    const details = (error.cause as ApplicationFailure | undefined)?.details;
    if (details?.[0] === undefined) throw error;
    return details[0];
  })) as EvacuationResult;
}

/** The evacuation's progress once `until` holds, while it is still open. */
function evacuationWhen(
  handle: WorkflowHandle,
  until: (progress: EvacuationProgress) => boolean,
): Promise<EvacuationProgress> {
  return waitFor(async () => {
    const progress = await handle.query<EvacuationProgress>('evacuationProgress');
    return progress.services.length > 0 && until(progress) ? progress : undefined;
  });
}

const allEnded = (progress: EvacuationProgress) =>
  progress.services.every((service) => FINAL_SERVICE_STATES.has(service.state));

test('an abort signed once every service of an evacuation has ended is refused, naming why: the evacuation ends succeeded (before: accepted in its last moments, and it ended "aborted" having aborted nothing)', async () => {
  const result = await evacuationWithHungWatch([{ id: 'only', runbooks: ['test-db'] }], async (handle) => {
    await evacuationWhen(handle, allEnded);
    const refusal = await handle
      .executeUpdate('abort', {
        args: [await signed(handle, signerOf('bob'), { action: 'abort', reason: 'late' })],
      })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refusal as WorkflowUpdateFailedError).cause?.message).toContain(
      'every service of the evacuation has already ended (test-db succeeded), so there is nothing left to abort',
    );
  });

  // An evacuation whose watch hangs still closes, once WATCHES_END_WAIT_MS has passed.
  expect(result.status).toBe('succeeded');
  expect(result.operatorActions.map((action) => action.action)).toEqual(['start']);
});

test('once an aborted evacuation’s services have all ended, its gated wave shows no approval awaited and refuses one (before: it showed paused at the gate and took the approval while it closed)', async () => {
  const waves = [
    { id: 'first', runbooks: ['test-db'] },
    { id: 'second', runbooks: ['test-db-2'], approval: {} },
  ];
  const result = await evacuationWithHungWatch(waves, async (handle) => {
    await evacuationWhen(handle, (progress) => progress.awaiting.some((gate) => gate.stepId === 'second'));
    await handle.executeUpdate('abort', {
      args: [await signed(handle, signerOf('bob'), { action: 'abort', reason: 'stop here' })],
    });
    const ended = await evacuationWhen(handle, allEnded);
    expect(ended.status).toBe('running');
    expect(ended.awaiting).toEqual([]);
    const refusal = await handle
      .executeUpdate('approve', {
        args: [await signed(handle, signerOf('bob'), { action: 'approve', stepId: 'second', reason: 'go' })],
      })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refusal as WorkflowUpdateFailedError).cause?.message).toContain(
      'every service of the evacuation has already ended (test-db succeeded, test-db-2 skipped), so no wave is left to approve',
    );
  });

  expect(result.status).toBe('aborted');
  expect(result.operatorActions.map((action) => action.action)).toEqual(['start', 'abort']);
});

test("an evacuation whose watch of its failover fails for good (a worker built without a Temporal client) still ends as its services did, and no workflow task fails (before: the watch's rejection went unhandled and failed every workflow task, so the evacuation never ended)", async () => {
  let failedTask: string | undefined;
  const result = await evacuationWithHungWatch(
    [{ id: 'only', runbooks: ['test-db'] }],
    async (handle) => {
      ({ failedTask } = await waitFor(async () => {
        const { events } = await handle.fetchHistory();
        const failed = events?.find((event) => event.workflowTaskFailedEventAttributes);
        if (failed) return { failedTask: failed.workflowTaskFailedEventAttributes?.failure?.message ?? '?' };
        const closed = events?.some(
          (event) =>
            event.workflowExecutionCompletedEventAttributes ?? event.workflowExecutionFailedEventAttributes,
        );
        return closed ? { failedTask: undefined } : undefined;
      }));
    },
    {
      watchRun: async () => {
        throw ApplicationFailure.nonRetryable('this worker has no Temporal client to watch with');
      },
    },
  );

  expect(failedTask).toBeUndefined();
  expect(result.status).toBe('succeeded');
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual(['test-db:succeeded']);
});

test("an evacuation abort that never reached its failover (Temporal did not take it) is on record with why, and the evacuation ends as its service did (before: only the operator's abort was on record, nothing said the forward failed)", async () => {
  const result = await evacuationWithHungWatch(
    [{ id: 'only', runbooks: ['test-db'] }],
    async (handle) => {
      const { services } = await evacuationWhen(handle, (p) => p.services[0]?.workflowId !== undefined);
      const failover = client.workflow.getHandle(services[0]!.workflowId!);
      await waitForGate(failover, 'hold');
      await handle.executeUpdate('abort', {
        args: [await signed(handle, signerOf('bob'), { action: 'abort', reason: 'stop' })],
      });
      const forwarded = await evacuationWhen(handle, (p) => (p.abortForwards ?? []).length > 0);
      expect(forwarded.abortForwards).toEqual([
        {
          runbookId: 'test-db',
          workflowId: failover.workflowId,
          outcome: 'not-sent',
          detail: '14 UNAVAILABLE: the frontend is unreachable',
        },
      ]);
      // The failover never got the abort: it waits at its gate still, and an operator takes it on from there.
      expect((await failover.query<FailoverProgress>('progress')).status).toBe('paused');
      await failover.executeUpdate('approve', {
        args: [
          await signed(failover, signerOf('carol'), { action: 'approve', stepId: 'hold', reason: 'go on' }),
        ],
      });
    },
    {
      watchRun: createEvacuationActivities(client).watchRun,
      abortRun: async () => {
        throw ApplicationFailure.nonRetryable('14 UNAVAILABLE: the frontend is unreachable');
      },
    },
    (id) => withSteps([{ after: 'preflight', step: gate('hold') }], runbook({ id })),
  );

  expect(result.status).toBe('succeeded');
  expect(result.services.map((s) => `${s.runbookId}:${s.state}`)).toEqual(['test-db:succeeded']);
  expect(result.operatorActions.map((action) => action.action)).toEqual(['start', 'abort']);
  expect(result.abortForwards?.map((f) => `${f.runbookId}:${f.outcome}`)).toEqual(['test-db:not-sent']);
});

test('an evacuation abort its failover takes is on record as accepted, and the evacuation ends aborted', async () => {
  const result = await evacuationWithHungWatch(
    [{ id: 'only', runbooks: ['test-db'] }],
    async (handle) => {
      const { services } = await evacuationWhen(handle, (p) => p.services[0]?.workflowId !== undefined);
      await waitForGate(client.workflow.getHandle(services[0]!.workflowId!), 'hold');
      await handle.executeUpdate('abort', {
        args: [await signed(handle, signerOf('bob'), { action: 'abort', reason: 'stop' })],
      });
    },
    { watchRun: createEvacuationActivities(client).watchRun },
    (id) => withSteps([{ after: 'preflight', step: gate('hold') }], runbook({ id })),
  );

  expect(result.status).toBe('aborted');
  expect(result.abortForwards).toEqual([
    { runbookId: 'test-db', workflowId: result.services[0]?.workflowId, outcome: 'accepted' },
  ]);
});

test.each([
  ['its only service', [], ['test-db:failed']],
  [
    'a service another depends on (which could then never start)',
    [{ runbook: 'test-db-2', dependsOn: ['test-db'] }],
    ['test-db:failed', 'test-db-2:skipped (not started: test-db, which it depends on, ended failed)'],
  ],
])(
  'an abort that reaches an evacuation together with the end of %s stops nothing, so the evacuation ends as its services did, the abort on record (before: it ended "aborted", having aborted nothing)',
  async (_what, dependents, ended) => {
    const taskQueue = `test-${randomUUID()}`;
    catalog = newCatalogDir();
    const evacuationsDir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
    const estate = newEstate();
    addToCatalog(catalog, withSteps([{ after: 'preflight', step: gate('hold') }]));
    addToCatalog(catalog, runbook({ id: 'test-db-2' }));
    writeFileSync(
      join(evacuationsDir, 'test-region.json'),
      JSON.stringify({
        id: 'test-region',
        title: 'test',
        waves: [{ id: 'only', runbooks: ['test-db', ...dependents] }],
      }),
    );
    const workerWith = (instead: Partial<EvacuationActivities>) =>
      workerOn(taskQueue, estate, {
        ...createAuthActivities({
          policyFile: operatorPaths.policyFile,
          catalogDirs: [EXAMPLES_DIR, catalog],
          evacuationDirs: [evacuationsDir],
        }),
        ...createEvacuationActivities(client),
        ...createHolderActivities({ temporal: client }),
        ...instead,
      });
    try {
      const evacuation = evacuationReference(findEvacuation('test-region', [catalog], [evacuationsDir])!);
      const workflowId = `test-evacuation-${randomUUID()}`;
      const begin = signerOf('alice').sign({
        action: 'evacuate',
        runId: workflowId,
        runbookId: evacuation.id,
        runbookHash: evacuation.sha256,
        reason: 'test',
      });
      // The first worker runs the evacuation until its failover waits at the gate, then stops (its watch, which
      // only feeds the table, is left waiting so the stop does not wait for it).
      const first = await workerWith({ watchRun: hungWatch });
      const { handle, failoverId, abort } = await first.runUntil(async () => {
        const handle = await client.workflow.start('evacuationWorkflow', {
          taskQueue,
          workflowId,
          args: [{ evacuation, start: begin }],
        });
        const { services } = await evacuationWhen(handle, (p) => p.services[0]?.workflowId !== undefined);
        const failoverId = services[0]!.workflowId!;
        await waitForGate(client.workflow.getHandle(failoverId), 'hold');
        const abort = await signed(handle, signerOf('bob'), { action: 'abort', reason: 'too late' });
        return { handle, failoverId, abort };
      });
      // With no worker running, the failover ends (terminated) and the abort arrives: the evacuation's next
      // workflow task carries both.
      await client.workflow.getHandle(failoverId).terminate('the test ends it while no worker runs');
      const answer = handle
        .executeUpdate('abort', { args: [abort], updateId: 'bob-abort' })
        .catch((error: unknown) => error);
      await untilUpdateAdmitted(client, workflowId, 'bob-abort');
      const second = await workerWith({});
      const result = await second.runUntil(async () => {
        const ack = await answer;
        return { ack, result: await evacuationResult(handle) };
      });

      // The race this test is about: the abort was taken, in the same workflow task as the failover's end.
      expect(result.ack).toMatchObject({ accepted: true, operator: 'bob' });
      expect(
        result.result.services.map(
          (s) => `${s.runbookId}:${s.state}${s.state === 'skipped' ? ` (${s.detail})` : ''}`,
        ),
      ).toEqual(ended);
      expect(result.result.status).toBe('failed');
      expect(result.result.operatorActions.map((action) => action.action)).toEqual(['start', 'abort']);
    } finally {
      rmSync(evacuationsDir, { recursive: true, force: true });
    }
  },
);

test('a failover cancelled through Temporal (UI, CLI) is rolled back like an abort: the fence lifted, the flags back (before: it ended where it stood, fenced, degraded, with no rollback)', async () => {
  const estate = newEstate();
  const result = await withWorker(estate, async (taskQueue) => {
    const handle = await start(taskQueue, withSteps([{ after: 'fence', step: gate('hold') }], runbook()));
    await waitForGate(handle, 'hold');
    expect(estate.roles.get('primary')).toBe('fenced');
    await handle.cancel();
    const error = await handle.result().catch((failure: WorkflowFailedError) => failure);
    expect((error as WorkflowFailedError).cause?.message).toMatch(/cancelled through Temporal/);
    return failedResult(handle.result(), 'FailoverAborted');
  });

  expect(result.status).toBe('aborted');
  expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual(['fence:undone', 'flags-on:undone']);
  expect(estate.roles.get('primary')).toBe('primary');
  expect(estate.flags.get('degraded')).toBe(false);
});

test('an operator’s retry that finds the promotion its first execution set out to make claims neither a change nor none', async () => {
  const estate = newEstate();
  // Every attempt of the first execution promotes (or finds its own promotion), then dies before reporting it.
  estate.failAfterEffect('promoteDatabase', 3);
  const pausing = pausingOn('database.promote');
  const result: FailoverResult = await withWorker(estate, async (taskQueue) => {
    const handle = await start(taskQueue, pausing);
    await waitUntilPaused(handle);
    expect(estate.roles.get('replica')).toBe('primary');
    await handle.executeUpdate('decide', {
      args: [
        await signed(handle, signerOf('bob'), { stepId: 'promote', action: 'retry', reason: 'worker back' }),
      ],
    });
    return handle.result();
  });

  expect(result.status).toBe('succeeded');
  expect(estate.promotions).toBe(1);
  const promotes = result.timeline.filter((e) => e.stepId === 'promote');
  expect(promotes.map((e) => e.status)).toEqual(['failed', 'succeeded']);
  // Before: changed false, "already primary" — shown as "[already done, nothing changed]", as if someone else had.
  expect(promotes[1]?.changed).toBeUndefined();
  expect(promotes[1]?.summary).toMatch(
    /found promoted after the operator's retry: the step's execution before it set out to promote it and may have done so before it failed, or someone did during the pause$/,
  );
});

test('an operator’s retry that finds the replica promoted after its first execution’s lag gate refused records no change of this run', async () => {
  const estate = newEstate();
  // The first execution's lag gate refuses: the replica is still a replica, nothing is promoted.
  estate.failNext('promoteDatabase', 1, {
    type: 'ReplicationLagUnknown',
    message: 'replication lag could not be measured',
    nonRetryable: true,
  });
  const pausing = pausingOn('database.promote');
  const result: FailoverResult = await withWorker(estate, async (taskQueue) => {
    const handle = await start(taskQueue, pausing);
    await waitUntilPaused(handle);
    expect(estate.roles.get('replica')).toBe('replica');
    // A DBA promotes it by hand during the pause; then the operator retries.
    estate.roles.set('replica', 'primary');
    await handle.executeUpdate('decide', {
      args: [
        await signed(handle, signerOf('bob'), {
          stepId: 'promote',
          action: 'retry',
          reason: 'promoted by hand',
        }),
      ],
    });
    return handle.result();
  });

  expect(result.status).toBe('succeeded');
  expect(estate.promotions).toBe(0);
  const promotes = result.timeline.filter((e) => e.stepId === 'promote');
  expect(promotes.map((e) => `${e.status}:${e.error?.type ?? '-'}`)).toEqual([
    'failed:ReplicationLagUnknown',
    'succeeded:-',
  ]);
  expect(promotes[1]).toMatchObject({ changed: false, summary: 'already primary' });
});

test('an abort while the promotion waits for approval past its lag gate says no replica was promoted (before: the rollback said one was)', async () => {
  const estate = newEstate();
  estate.failNext('promoteDatabase', 1, {
    type: 'ReplicaLagTooHigh',
    message: 'the replica is 40s behind, over maxLag 30s',
    nonRetryable: true,
  });
  const result = await withWorker(estate, async (taskQueue) => {
    const handle = await start(taskQueue, runbook());
    await waitForGate(handle, 'promote');
    await handle.executeUpdate('abort', {
      args: [await signed(handle, signerOf('alice'), { action: 'abort', reason: 'not with 40s lost' })],
    });
    return failedResult(handle.result(), 'FailoverAborted');
  });

  expect(estate.roles.get('replica')).toBe('replica');
  expect(estate.roles.get('primary')).toBe('fenced'); // kept: the promotion's outcome is not known for sure
  const fence = result.rollback?.find((entry) => entry.stepId === 'fence');
  expect(fence?.status).toBe('kept');
  expect(fence?.detail).toContain('may have been promoted');
});

test('a paused step can be skipped with a reason and the run goes on', async () => {
  const estate = newEstate();
  estate.failNext('verifyBackups', 1, {
    type: 'BackupCheckFailed',
    message: 'newest backup too old',
    nonRetryable: true,
  });
  const rb = runbook();
  const steps = rb.steps.map((step) =>
    step.kind === 'parallel'
      ? {
          ...step,
          steps: step.steps.map((inner) =>
            inner.kind === 'backups.verify' ? { ...inner, onFailure: 'pause' as const } : inner,
          ),
        }
      : step,
  );
  const result: FailoverResult = await withWorker(estate, async (taskQueue) => {
    const handle = await start(taskQueue, { ...rb, steps });
    await waitFor(async () =>
      (await handle.query<FailoverProgress>('progress')).status === 'paused' ? true : undefined,
    );
    await handle.executeUpdate('decide', {
      args: [
        await signed(handle, signerOf('bob'), {
          stepId: 'backups',
          action: 'skip',
          reason: 'restore tested yesterday',
        }),
      ],
    });
    return handle.result();
  });
  expect(result.status).toBe('succeeded');
  expect(result.timeline.find((e) => e.stepId === 'backups')).toMatchObject({ status: 'skipped' });
  expect(result.operatorActions.at(-1)).toMatchObject({
    action: 'skip',
    stepId: 'backups',
    reason: 'restore tested yesterday',
  });
  expect(estate.roles.get('replica')).toBe('primary');
});

test('the plan workflow reports what would change without changing anything', async () => {
  const estate = newEstate();
  const plan = await withWorker(estate, (taskQueue) => planSigned(taskQueue, runbook(), 'what would change'));
  expect(plan.ready).toBe(true);
  expect(plan.steps.map((s) => s.stepId)).toEqual([
    'preflight',
    'flags-on',
    'backups',
    'fence',
    'promote',
    'dns',
    'probe',
  ]);
  expect(estate.roles.get('replica')).toBe('replica');
  expect(estate.dns.get('db.z.test.')).toBe('10.0.0.2');
});

/** True once `event` happened, false if it has not after `ms` (the test then fails on it, not on a timeout). */
function happensWithin(event: Promise<void>, ms: number): Promise<boolean> {
  return Promise.race([
    event.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);
}

type EstateActivities = ReturnType<FakeEstate['activities']>;

/**
 * Activities that tell whether the run asked for `read` while `during` (the step before) ran: `during` answers
 * once `read` was asked, or after 10 s (then the read came only after it). Counts the reads.
 */
function readWhile(
  fake: EstateActivities,
  read: keyof EstateActivities,
  during: keyof EstateActivities,
): { instead: Partial<EstateActivities>; seen: { reads: number; during?: boolean } } {
  const seen: { reads: number; during?: boolean } = { reads: 0 };
  let asked = (): void => undefined;
  const wasAsked = new Promise<void>((resolve) => (asked = resolve));
  const reading = fake[read] as (...args: unknown[]) => Promise<unknown>;
  const before = fake[during] as (...args: unknown[]) => Promise<unknown>;
  const instead = {
    [read]: (...args: unknown[]) => {
      seen.reads += 1;
      asked();
      return reading(...args);
    },
    [during]: async (...args: unknown[]) => {
      seen.during = await happensWithin(wasAsked, 10_000);
      return before(...args);
    },
  } as Partial<EstateActivities>;
  return { instead, seen };
}

test('DNS planned again with a promotion’s endpoint is planned from its one read, started with the plan (not after a slower check of another step), at the replica’s address', async () => {
  const estate = newEstate();
  let dnsRead = (): void => undefined;
  const dnsWasRead = new Promise<void>((resolve) => (dnsRead = resolve));
  const dnsReads: Array<{ name: string }[]> = [];
  const plan = await withWorker(
    estate,
    (taskQueue) => planSigned(taskQueue, runbook(), 'a slow probe check'),
    {
      readDnsRecords: async ({ records }) => {
        dnsReads.push(records);
        dnsRead();
        return records.map(({ name, type }) => ({ name, type, ttl: 60, values: ['10.0.0.2'] }));
      },
      // The probe's read answers once DNS has read its records, or fails after 10 s.
      checkProbe: async () => {
        const inTime = await happensWithin(dnsWasRead, 10_000);
        return [
          {
            check: 'probe connection',
            ok: inTime,
            message: inTime ? 'configured' : 'DNS read its records only after this read answered',
          },
        ];
      },
    },
  );
  expect(plan.steps.flatMap((step) => step.checks).filter((check) => !check.ok)).toEqual([]);
  expect(plan.steps.find((step) => step.stepId === 'dns')?.changes).toEqual([
    expect.objectContaining({ target: 'A db.z.test.', desired: '10.0.0.3 (TTL 60)', willChange: true }),
  ]);
  // Planned again with the replica's address from the one read (before: a second planDnsSwitch read the zone).
  // Plans begun before DNS_PLAN_READS_ONCE_PATCH (planDnsSwitch each time) are covered only by replay.
  expect(dnsReads).toHaveLength(1);
});

test('the DNS step reads its records while the promotion runs, and its undo and timeline use that read', async () => {
  const estate = newEstate();
  const fake = estate.activities();
  let readDns = (): void => undefined;
  const dnsRead = new Promise<void>((resolve) => (readDns = resolve));
  let readDuringPromotion: boolean | undefined;
  const result: FailoverResult = await withWorker(
    estate,
    async (taskQueue) => (await start(taskQueue)).result(),
    {
      readDnsRecords: async (input) => {
        readDns();
        return fake.readDnsRecords(input);
      },
      // The promotion finishes once DNS was read, or after 10 s: then the read came only after it.
      promoteDatabase: async (input) => {
        readDuringPromotion = await happensWithin(dnsRead, 10_000);
        return fake.promoteDatabase(input);
      },
    },
  );

  expect(result.status).toBe('succeeded');
  expect(readDuringPromotion).toBe(true);
  expect(estate.dns.get('db.z.test.')).toBe('10.0.0.3');
  expect(result.timeline.find((entry) => entry.stepId === 'dns')?.before).toEqual({
    zone: { name: 'z.test.' },
    records: [{ name: 'db.z.test.', type: 'A', ttl: 60, values: ['10.0.0.2'] }],
  });
});

test('the fence reads its plan while the step before it runs, once, and its undo and timeline use that read', async () => {
  const estate = newEstate();
  const { instead, seen } = readWhile(estate.activities(), 'planFence', 'verifyBackups');
  const result: FailoverResult = await withWorker(
    estate,
    async (taskQueue) => (await start(taskQueue)).result(),
    instead,
  );

  expect(result.status).toBe('succeeded');
  expect(seen).toEqual({ reads: 1, during: true });
  expect(estate.roles.get('primary')).toBe('fenced');
  expect(result.timeline.find((entry) => entry.stepId === 'fence')).toMatchObject({
    changed: true,
    before: { primary: 'primary' },
  });
});

test('a fence in a parallel group reads its plan while the step before the group runs, once', async () => {
  const estate = newEstate();
  const { instead, seen } = readWhile(estate.activities(), 'planFence', 'verifyBackups');
  const { steps } = runbook();
  const [preflight, prepare, fence, ...rest] = steps;
  if (preflight === undefined || prepare?.kind !== 'parallel' || fence === undefined)
    throw new Error('runbook changed');
  const [flagsOn, backups] = prepare.steps;
  // An evacuation's service fences its databases as one group: here the fence beside the flags, after the backups.
  const grouped = runbook({
    steps: [preflight, backups!, { id: 'isolate', kind: 'parallel', steps: [fence, flagsOn!] }, ...rest],
  } as Partial<RunbookInput>);
  const result: FailoverResult = await withWorker(
    estate,
    async (taskQueue) => (await start(taskQueue, grouped)).result(),
    instead,
  );

  expect(result.status).toBe('succeeded');
  expect(seen).toEqual({ reads: 1, during: true });
  expect(estate.roles.get('primary')).toBe('fenced');
  expect(result.timeline.find((entry) => entry.stepId === 'fence')).toMatchObject({
    group: 'isolate',
    changed: true,
    before: { primary: 'primary' },
  });
});

test('a fence whose plan was read ahead before a wait reads again: a fence put in place by hand meanwhile is recorded as found, and not undone by the rollback', async () => {
  const estate = newEstate();
  const fake = estate.activities();
  let plans = 0;
  const rb = withSteps([
    { after: 'prepare', step: { id: 'settle', kind: 'wait', duration: '3s' } },
    { after: 'fence', step: gate('hold') },
  ]);
  const result = await withWorker(
    estate,
    async (taskQueue) => abortedAtGate(await start(taskQueue, rb), 'false alarm'),
    {
      planFence: async (input) => {
        const plan = await fake.planFence(input);
        // Someone fences the old primary by hand while the run waits, after the read ahead saw it unfenced.
        if (++plans === 1) estate.roles.set('primary', 'fenced');
        return plan;
      },
    },
  );

  expect(plans).toBe(2); // the read ahead, then the fence's own read after the wait
  expect(result.timeline.find((entry) => entry.stepId === 'fence')).toMatchObject({
    changed: false,
    before: { primary: 'fenced' },
  });
  expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual(['flags-on:undone']);
  expect(estate.roles.get('primary')).toBe('fenced');
});

test("a replica promoted by hand after the promotion's plan was read ahead is found promoted, not recorded as this run's promotion", async () => {
  const estate = newEstate();
  const fake = estate.activities();
  let plans = 0;
  const rb = withSteps([{ after: 'fence', step: { id: 'settle', kind: 'wait', duration: '3s' } }]);
  const result: FailoverResult = await withWorker(
    estate,
    async (taskQueue) => (await start(taskQueue, rb)).result(),
    {
      planPromote: async (input) => {
        const plan = await fake.planPromote(input);
        // Someone promotes the replica by hand while the run waits, after the read ahead saw it a replica.
        if (++plans === 1) estate.roles.set('replica', 'primary');
        return plan;
      },
    },
  );

  expect(result.status).toBe('succeeded');
  expect(plans).toBe(1); // read ahead as the wait began, still standing for the record after it
  const promote = result.timeline.find((entry) => entry.stepId === 'promote');
  expect(promote).toMatchObject({ changed: false, before: { replica: 'replica' } });
  expect(promote?.summary).not.toContain('this run changed');
  expect(estate.promotions).toBe(0);
  expect(estate.dns.get('db.z.test.')).toBe('10.0.0.3');
});

test('a record another writer moves after the DNS step read it ahead is read again: nothing was switched on the stale read, and rollback restores what the writer set', async () => {
  const { estate, rb } = withWwwHeldAfterDns();
  const fake = estate.activities();
  let reads = 0;
  const result = await withWorker(
    estate,
    async (taskQueue) => {
      const handle = await start(taskQueue, rb);
      await waitForGate(handle, 'hold');
      expect(estate.dns.get('www.z.test.')).toBe('maintenance.z.test.');
      await handle.executeUpdate('abort', {
        args: [await signed(handle, signerOf('alice'), { action: 'abort', reason: 'test' })],
      });
      return failedResult(handle.result(), 'FailoverAborted');
    },
    {
      readDnsRecords: async (input) => {
        const read = await fake.readDnsRecords(input);
        if (++reads === 1) estate.dns.set('www.z.test.', 'other.z.test.'); // another writer, after the read ahead
        return read;
      },
    },
  );

  expect(reads).toBe(3); // the read ahead, the read again after the refusal, the rollback's
  expect(estate.dnsChanges).toBe(2); // the switch, and the rollback's; none on the stale read
  expect(estate.dns.get('www.z.test.')).toBe('other.z.test.');
  const dns = result.timeline.find((entry) => entry.stepId === 'dns');
  expect(dns).toMatchObject({ status: 'succeeded', attempts: 1 });
  expect(dns?.before).toMatchObject({
    records: [
      { name: 'db.z.test.', values: ['10.0.0.2'] },
      { name: 'www.z.test.', values: ['other.z.test.'] },
    ],
  });
  expect(result.rollback?.find((r) => r.stepId === 'dns')?.status).toBe('partly undone');
});

test('rollback puts back every value of a record that held several (before: only the first, and the others were lost)', async () => {
  const { estate, rb } = withApiHeldAfterDns('10.0.0.20,10.0.0.21');
  const result = await withWorker(estate, async (taskQueue) => {
    const handle = await start(taskQueue, rb);
    await waitForGate(handle, 'hold');
    expect(estate.dns.get('api.z.test.')).toBe('10.0.0.22');
    return abortedAtGate(handle, 'test');
  });

  expect(estate.dns.get('api.z.test.')).toBe('10.0.0.20,10.0.0.21');
  expect(estate.dns.get('db.z.test.')).toBe('10.0.0.3'); // kept: the promotion completed
  const dns = result.rollback?.find((r) => r.stepId === 'dns');
  expect(dns?.detail).toMatch(/^switched 1; kept A db\.z\.test\./);
});

test('rollback after a promotion keeps a record whose values before the step included the old primary, also as its second value (before: only the first value was looked at, and the fenced primary went back into DNS)', async () => {
  const { estate, rb } = withApiHeldAfterDns('10.0.0.20,10.0.0.2');
  const result = await withWorker(estate, async (taskQueue) =>
    abortedAtGate(await start(taskQueue, rb), 'test'),
  );

  expect(estate.dns.get('api.z.test.')).toBe('10.0.0.22');
  expect(result.rollback?.find((r) => r.stepId === 'dns')?.detail).toContain(
    'A api.z.test. → 10.0.0.22 (was 10.0.0.20,10.0.0.2)',
  );
});

test('a record whose TTL another writer changes after the DNS step read it ahead is read again, as Route 53 refuses a swap whose DELETE names the old TTL: nothing was switched on the stale read, and rollback restores the TTL the writer set', async () => {
  const { estate, rb } = withWwwHeldAfterDns();
  const { result, reads } = await abortedAtGateAfterDnsReads(estate, rb, (read) => {
    if (read === 1) estate.dnsTtl.set('www.z.test.', 300); // another writer, after the read ahead
  });

  expect(reads).toBe(3); // the read ahead, the read again after the refusal, the rollback's
  expect(estate.dnsChanges).toBe(2); // the switch, and the rollback's; none on the stale read
  const dns = result.timeline.find((entry) => entry.stepId === 'dns');
  expect(dns).toMatchObject({ status: 'succeeded', attempts: 1 });
  expect(dns?.before).toMatchObject({
    records: [
      { name: 'db.z.test.', ttl: 60, values: ['10.0.0.2'] },
      { name: 'www.z.test.', ttl: 300, values: ['app.z.test.'] },
    ],
  });
  expect([estate.dns.get('www.z.test.'), estate.dnsTtl.get('www.z.test.')]).toEqual(['app.z.test.', 300]);
});

test('a record another writer moves again between the read again and its switch is not overwritten: the switch refuses with nothing sent, the step reads once more, and rollback restores what the last writer set', async () => {
  const { estate, rb } = withWwwHeldAfterDns();
  const { result, reads } = await abortedAtGateAfterDnsReads(estate, rb, (read) => {
    // Another writer moves www after the read ahead, and again after the read again.
    if (read <= 2) estate.dns.set('www.z.test.', `other-${read}.z.test.`);
  });

  expect(reads).toBe(4); // the read ahead, the read again, once more, the rollback's
  expect(estate.dnsChanges).toBe(2); // the switch on the last read, and the rollback's
  const dns = result.timeline.find((entry) => entry.stepId === 'dns');
  expect(dns).toMatchObject({ status: 'succeeded', attempts: 1 });
  expect(dns?.before).toMatchObject({
    records: [
      { name: 'db.z.test.', values: ['10.0.0.2'] },
      { name: 'www.z.test.', values: ['other-2.z.test.'] },
    ],
  });
  expect(estate.dns.get('www.z.test.')).toBe('other-2.z.test.');
});

test('a writer that keeps moving a record between each read and the switch fails the step ChangedSinceRead after three reads, with nothing switched and no undo left to roll back', async () => {
  const { estate, rb } = withWwwHeldAfterDns(
    runbook({
      steps: runbook().steps.map((step) => (step.id === 'dns' ? { ...step, onFailure: 'pause' } : step)),
    } as Partial<RunbookInput>),
  );
  const fake = estate.activities();
  let reads = 0;
  const result = await withWorker(
    estate,
    async (taskQueue) => {
      const handle = await start(taskQueue, rb);
      await waitFor(async () => {
        const progress = await handle.query<FailoverProgress>('progress');
        return progress.status === 'paused' ? progress : undefined;
      });
      await handle.executeUpdate('abort', {
        args: [await signed(handle, signerOf('alice'), { action: 'abort', reason: 'test' })],
      });
      return failedResult(handle.result(), 'FailoverAborted');
    },
    {
      readDnsRecords: async (input) => {
        const read = await fake.readDnsRecords(input);
        if (++reads <= 4) estate.dns.set('www.z.test.', `other-${reads}.z.test.`);
        return read;
      },
    },
  );

  const dns = result.timeline.find((entry) => entry.stepId === 'dns');
  expect(dns).toMatchObject({ status: 'failed', error: { type: 'ChangedSinceRead' } });
  expect(dns?.error?.message).toMatch(/read 3 times/);
  expect(estate.dnsChanges).toBe(0);
  // Nothing was switched: the rollback has no DNS undo to report (it would name www as moved by "another writer").
  expect(result.rollback?.find((entry) => entry.stepId === 'dns')).toBeUndefined();
  expect(estate.dns.get('www.z.test.')).toBe('other-4.z.test.');
  expect(estate.dns.get('db.z.test.')).toBe('10.0.0.2');
});

test('an operator’s retry of a switch that acted partly keeps the first execution’s undo for what it switched, and the state read now for the rest: rollback leaves a writer’s value in between', async () => {
  const { estate, rb } = withWwwHeldAfterDns();
  estate.dns.set('api.z.test.', 'api-old.z.test.');
  const api = { name: 'api.z.test.', type: 'CNAME' as const, ttl: 60, value: 'api-standby.z.test.' };
  const steps = rb.steps.map((step) =>
    step.kind === 'dns.switch' ? { ...step, records: [...step.records, api] } : step,
  );
  const result = await abortedAfterDnsRetry(
    estate,
    { ...rb, steps },
    () => {
      estate.dns.set('db.z.test.', '10.0.0.3');
      estate.dns.set('www.z.test.', 'maintenance.z.test.');
      return ApplicationFailure.nonRetryable('change batch 2 of 2: AccessDenied', 'AccessDenied');
    },
    () => {
      // The first execution switched db and www before it failed; another writer moves api meanwhile.
      expect(estate.dns.get('www.z.test.')).toBe('maintenance.z.test.');
      estate.dns.set('api.z.test.', 'api-writer.z.test.');
    },
  );

  expect(result.timeline.filter((e) => e.stepId === 'dns').map((e) => e.status)).toEqual([
    'failed',
    'succeeded',
  ]);
  expect(estate.dns.get('www.z.test.')).toBe('app.z.test.'); // the first execution's undo
  expect(estate.dns.get('api.z.test.')).toBe('api-writer.z.test.'); // the state the retry read, not api-old
  expect(estate.dns.get('db.z.test.')).toBe('10.0.0.3'); // kept: the promotion completed
});

test('an operator’s retry of a switch whose first execution switched every record and then failed records that this run changed them (before: changed false, "already hold their desired values"), and rollback puts them back', async () => {
  const { estate, rb } = withWwwHeldAfterDns();
  const result = await abortedAfterDnsRetry(estate, rb, () => {
    // Every record switched, then the answers were wrong for longer than the resolution check waits.
    estate.dns.set('db.z.test.', '10.0.0.3');
    estate.dns.set('www.z.test.', 'maintenance.z.test.');
    return ApplicationFailure.nonRetryable(
      'the change is INSYNC but www answers app',
      'DnsResolutionMismatch',
    );
  });

  const dns = result.timeline.filter((e) => e.stepId === 'dns');
  expect(dns.map((e) => e.status)).toEqual(['failed', 'succeeded']);
  expect(dns[1]).toMatchObject({ changed: true, summary: expect.stringMatching(/earlier execution/) });
  expect(estate.dns.get('www.z.test.')).toBe('app.z.test.'); // the first execution's undo
});

/**
 * Runs `rb` with its DNS step pausing on failure; the switch's first execution does what `firstExecution` does and
 * fails with the failure it returns; an operator retries the step (after `beforeRetry`), and aborts at the gate.
 */
async function abortedAfterDnsRetry(
  estate: FakeEstate,
  rb: ReturnType<typeof withWwwHeldAfterDns>['rb'],
  firstExecution: () => Error,
  beforeRetry: () => void = () => undefined,
): Promise<FailoverResult> {
  const steps = rb.steps.map((step) =>
    step.kind === 'dns.switch' ? { ...step, onFailure: 'pause' as const } : step,
  );
  const fake = estate.activities();
  let switches = 0;
  return withWorker(
    estate,
    async (taskQueue) => {
      const handle = await start(taskQueue, { ...rb, steps });
      await waitFor(async () => {
        const progress = await handle.query<FailoverProgress>('progress');
        return progress.status === 'paused' ? progress : undefined;
      });
      beforeRetry();
      await handle.executeUpdate('decide', {
        args: [await signed(handle, signerOf('bob'), { stepId: 'dns', action: 'retry', reason: 'fixed' })],
      });
      return abortedAtGate(handle, 'test');
    },
    {
      switchDns: async (input) => {
        if (++switches > 1) return fake.switchDns(input);
        throw firstExecution();
      },
    },
  );
}

test('a switch refused partway (a later change batch met a record another writer moved) keeps the undo read ahead for the records it switched, reads the others again, and rollback puts the switched ones back', async () => {
  const { estate, rb } = withWwwHeldAfterDns(undefined, 'www first');
  const fake = estate.activities();
  let switches = 0;
  const result = await withWorker(
    estate,
    async (taskQueue) => abortedAtGate(await start(taskQueue, rb), 'test'),
    {
      switchDns: async (input) => {
        if (++switches > 1) return fake.switchDns(input);
        // Only a switch the run asked for batched swaps may answer PartlySwitched.
        if (input.batchedSwaps !== true) throw new Error('the guarded switch did not ask for batched swaps');
        // The first batch (www) goes through; another writer moves db before the second batch, which is refused.
        estate.dns.set('www.z.test.', 'maintenance.z.test.');
        estate.dns.set('db.z.test.', '10.0.0.9');
        throw ApplicationFailure.nonRetryable('change batch 2 of 2 refused', 'PartlySwitched', {
          switched: [0],
        });
      },
    },
  );

  expect(switches).toBe(3); // the refused one, the switch after the read again, the rollback's
  const dns = result.timeline.find((entry) => entry.stepId === 'dns');
  expect(dns).toMatchObject({ status: 'succeeded', attempts: 1 });
  // www's undo is the state read ahead (before the run switched it), db's the writer's value read again.
  expect(dns?.before).toMatchObject({
    records: [
      { name: 'www.z.test.', values: ['app.z.test.'] },
      { name: 'db.z.test.', values: ['10.0.0.9'] },
    ],
  });
  expect(result.rollback?.find((r) => r.stepId === 'dns')?.status).toBe('partly undone');
  expect(estate.dns.get('www.z.test.')).toBe('app.z.test.');
  expect(estate.dns.get('db.z.test.')).toBe('10.0.0.3'); // kept: the promotion completed
});

/**
 * Runs `rb` to its gate and aborts it there (rolling back), with `afterRead` acting as another writer right after
 * each read of the DNS records (numbered from 1: the read ahead, reads again, the rollback's). Returns the run's
 * result and how many reads there were.
 */
async function abortedAtGateAfterDnsReads(
  estate: FakeEstate,
  rb: ReturnType<typeof runbook>,
  afterRead: (read: number) => void,
) {
  const fake = estate.activities();
  let reads = 0;
  const result = await withWorker(
    estate,
    async (taskQueue) => abortedAtGate(await start(taskQueue, rb), 'test'),
    {
      readDnsRecords: async (input) => {
        const read = await fake.readDnsRecords(input);
        afterRead(++reads);
        return read;
      },
    },
  );
  return { result, reads };
}

/**
 * The test runbook whose DNS step also moves api.z.test. (an A record of no database, holding `values`, written
 * `a,b`) to 10.0.0.22, with a gate after that step to abort at, and its estate.
 */
function withApiHeldAfterDns(values: string) {
  const estate = new FakeEstate({
    dns: { 'db.z.test.': '10.0.0.2', 'api.z.test.': values },
    flags: ['degraded'],
  });
  const api = { name: 'api.z.test.', type: 'A' as const, ttl: 60, value: '10.0.0.22' };
  const base = runbook();
  const steps = base.steps.map((step) =>
    step.kind === 'dns.switch' ? { ...step, records: [...step.records, api] } : step,
  );
  return { estate, rb: withSteps([{ after: 'dns', step: gate('hold') }], { ...base, steps }) };
}

/**
 * The test runbook whose DNS step also moves www (a record of no database: rollback may put it back), with a gate
 * after that step to abort at, and its estate.
 */
function withWwwHeldAfterDns(base = runbook(), order: 'www last' | 'www first' = 'www last') {
  const estate = new FakeEstate({
    dns: { 'db.z.test.': '10.0.0.2', 'www.z.test.': 'app.z.test.' },
    flags: ['degraded'],
  });
  const www = { name: 'www.z.test.', type: 'CNAME' as const, ttl: 60, value: 'maintenance.z.test.' };
  const steps = base.steps.map((step) =>
    step.kind === 'dns.switch'
      ? {
          ...step,
          records: order === 'www last' ? [...step.records, www] : [www, ...step.records],
        }
      : step,
  );
  return { estate, rb: withSteps([{ after: 'dns', step: gate('hold') }], { ...base, steps }) };
}

async function waitFor<T>(read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function quietLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
}

const gate = (id: string, twoPerson = false) => ({ id, kind: 'approval' as const, twoPerson });

function withSteps(
  insert: Array<{ after: string; step: Parameters<typeof defineRunbook>[0]['steps'][number] }>,
  rb = runbook(),
) {
  const steps = [...rb.steps];
  for (const { after, step } of insert) {
    steps.splice(
      steps.findIndex((s) => s.id === after) + 1,
      0,
      defineRunbook({ ...rb, steps: [step] }).steps[0]!,
    );
  }
  return { ...rb, steps };
}

/** Waits for the run to reach the gate `hold`, aborts it there as alice, and returns its aborted result. */
async function abortedAtGate(
  handle: Awaited<ReturnType<typeof start>>,
  reason: string,
): Promise<FailoverResult> {
  await waitForGate(handle, 'hold');
  await handle.executeUpdate('abort', {
    args: [await signed(handle, signerOf('alice'), { action: 'abort', reason })],
  });
  return failedResult(handle.result(), 'FailoverAborted');
}

async function waitForGate(
  handle: { query<T>(name: string): Promise<T> },
  stepId: string,
): Promise<FailoverProgress> {
  return waitFor(async () => {
    const progress = await handle.query<FailoverProgress>('progress');
    return progress.awaiting.some((a) => a.stepId === stepId) ? progress : undefined;
  });
}

describe('operator control', () => {
  test('a two-person gate refuses the initiator and accepts another operator, on record', async () => {
    const estate = newEstate();
    const rb = withSteps([{ after: 'preflight', step: gate('production-approval', true) }]);
    const result: FailoverResult = await withWorker(estate, async (taskQueue) => {
      const handle = await start(taskQueue, rb);
      const waiting = await waitForGate(handle, 'production-approval');
      expect(waiting.status).toBe('paused');
      expect(estate.roles.get('primary')).toBe('primary');
      const self = await handle
        .executeUpdate('approve', {
          args: [
            await signed(handle, signerOf('alice'), {
              action: 'approve',
              stepId: 'production-approval',
              reason: 'me',
            }),
          ],
        })
        .catch((error: WorkflowUpdateFailedError) => error);
      expect((self as WorkflowUpdateFailedError).cause?.message).toMatch(
        /two-person approval: alice started this run/,
      );
      await handle.executeUpdate('approve', {
        args: [
          await signed(handle, signerOf('bob'), {
            action: 'approve',
            stepId: 'production-approval',
            reason: 'INC-4411 confirmed',
          }),
        ],
      });
      return handle.result();
    });
    expect(result.status).toBe('succeeded');
    expect(result.timeline.find((e) => e.stepId === 'production-approval')?.summary).toBe(
      'approved by bob (1 approver, not the initiator)',
    );
    expect(result.operatorActions.map((a) => `${a.action}:${a.operator}`)).toEqual([
      'start:alice',
      'approve:bob',
    ]);
    expect(estate.roles.get('replica')).toBe('primary');
  });

  test('an approval signed for one run of a runbook is refused by the next run under the same id, even within a minute (before: accepted as that operator’s approval, a second person for a two-person gate)', async () => {
    const estate = newEstate();
    const rb = withSteps([
      { after: 'preflight', step: gate('production-approval', true) },
      { after: 'production-approval', step: gate('hold') },
    ]);
    const workflowId = `test-failover-${randomUUID()}`;
    const rejected = await withWorker(estate, async (taskQueue) => {
      // Both runs of the runbook under one workflow id, as its lock makes them.
      const startRun = () => start(taskQueue, rb, workflowId);
      const first = await startRun();
      await waitForGate(first, 'production-approval');
      const bobsApproval = await signed(first, signerOf('bob'), {
        action: 'approve',
        stepId: 'production-approval',
        reason: 'checked the replica',
      });
      await first.executeUpdate('approve', { args: [bobsApproval] });
      await abortedAtGate(first, 'wrong region');

      const second = await startRun();
      await waitForGate(second, 'production-approval');
      const replayed = await second
        .executeUpdate('approve', { args: [bobsApproval] })
        .catch((error: WorkflowUpdateFailedError) => error);
      const progress = await second.query<FailoverProgress>('progress');
      await second.executeUpdate('abort', {
        args: [await signed(second, signerOf('alice'), { action: 'abort', reason: 'test over' })],
      });
      await failedResult(second.result(), 'FailoverAborted');
      return { replayed, progress };
    });

    expect((rejected.replayed as WorkflowUpdateFailedError).cause?.message).toMatch(
      /the statement is for run .* not this one .*signed for another run under the same id/,
    );
    expect(rejected.progress.awaiting.map((a) => a.stepId)).toEqual(['production-approval']);
    expect(rejected.progress.operatorActions.map((a) => a.action)).toEqual(['start']);
    expect(estate.roles.get('primary')).toBe('primary');
  });

  test('a start with no request at all is refused before any step, naming what to send (before the fix in this stop: the workflow task failed on it and was retried)', async () => {
    const estate = newEstate();
    const refusal = await withWorker(estate, async (taskQueue) =>
      client.workflow
        .execute('failoverWorkflow', { taskQueue, workflowId: `test-failover-${randomUUID()}`, args: [] })
        .then(
          () => 'accepted',
          (error: WorkflowFailedError) => error.cause?.message ?? error.message,
        ),
    );
    expect(refusal).toBe(
      'run refused by the access policy, nothing was changed: the start names no runbook: send { runbook: { id, sha256 }, start }',
    );
    expect(estate.roles.get('primary')).toBe('primary');
  });

  test.each([['drillWorkflow'], ['evacuationDrillWorkflow'], ['evacuationWorkflow'], ['planWorkflow']])(
    '%s, started with no request at all, ends refused, naming what to send (before: a drill failed its workflow task on it and stayed RUNNING, the newest run under its id)',
    async (workflowType) => {
      const estate = newEstate();
      const refusal = await withWorker(estate, async (taskQueue) => {
        const handle = await client.workflow.start(workflowType, {
          taskQueue,
          workflowId: `test-no-request-${randomUUID()}`,
          args: [],
        });
        const ended = await Promise.race([
          handle.result().then(
            () => 'accepted',
            (error: WorkflowFailedError) =>
              `${(error.cause as ApplicationFailure | undefined)?.type}: ${error.cause?.message}`,
          ),
          new Promise<string>((resolve) => setTimeout(() => resolve('still running after 20 s'), 20_000)),
        ]);
        if (ended.startsWith('still running')) await handle.terminate('test over');
        return ended;
      });
      expect(refusal).toMatch(
        /^NotAuthorized: run refused by the access policy, nothing was changed: the start names no (runbook|evacuation): send \{ (runbook|evacuation): \{ id, sha256 \}, start \}$/,
      );
      expect(estate.roles.get('primary')).toBe('primary');
    },
  );

  test('a signed start that started one run of a runbook is refused by the next run under the same id, within its 5 minutes (before: a second failover under its signer’s name)', async () => {
    const estate = newEstate();
    const rb = withSteps([{ after: 'preflight', step: gate('hold') }]);
    const workflowId = `test-failover-${randomUUID()}`;
    const runs = await withWorker(estate, async (taskQueue) => {
      const request = signedStart(rb, workflowId);
      const first = await startWith(taskQueue, workflowId, request);
      await abortedAtGate(first, 'wrong region');
      const second = await startWith(taskQueue, workflowId, request);
      const refusal = await second.result().then(
        () => 'accepted',
        (error: WorkflowFailedError) => error.cause?.message ?? error.message,
      );
      return { firstRunId: first.firstExecutionRunId, refusal };
    });
    expect(runs.refusal).toMatch(
      new RegExp(
        `^run refused by the access policy, nothing was changed: this signed start \\(signed by alice at \\S+\\) already started run ${runs.firstRunId} of ${workflowId} at \\S+: a start statement starts one run\\. Run the command again to sign a new start$`,
      ),
    );
    expect(estate.roles.get('primary')).toBe('primary');
    expect(estate.dns.get('db.z.test.')).toBe('10.0.0.2');
  });

  test('abort after the DNS switch keeps DNS on the new primary, the fence and the flags, and says why', async () => {
    const estate = newEstate();
    const rb = withSteps([{ after: 'dns', step: gate('hold') }]);
    const result = await withWorker(estate, async (taskQueue) => {
      const handle = await start(taskQueue, rb);
      await waitForGate(handle, 'hold');
      expect(estate.dns.get('db.z.test.')).toBe('10.0.0.3');
      await handle.executeUpdate('abort', {
        args: [await signed(handle, signerOf('bob'), { action: 'abort', reason: 'wrong region' })],
      });
      return failedResult(handle.result(), 'FailoverAborted');
    });
    expect(result.status).toBe('aborted');
    // Moving the record back would send the application to the fenced, read-only old primary.
    expect(estate.dns.get('db.z.test.')).toBe('10.0.0.3');
    expect(estate.flags.get('degraded')).toBe(true);
    expect(estate.evidenceRequests).toEqual([result.workflowId]);
    expect(estate.roles.get('primary')).toBe('fenced');
    expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual([
      'dns:kept',
      'promote:not undone',
      'fence:kept',
      'flags-on:kept',
    ]);
    const detail = (stepId: string) => result.rollback?.find((r) => r.stepId === stepId)?.detail;
    expect(detail('dns')).toMatch(
      /kept A db\.z\.test\. → 10\.0\.0\.3 \(was 10\.0\.0\.2\): a promotion completed/,
    );
    expect(detail('flags-on')).toMatch(/rollbackAfterPromotion: restore/);
    expect(detail('fence')).toMatch(/lifting the fence would make two writable primaries/);
    expect(result.operatorActions.at(-1)).toMatchObject({
      action: 'abort',
      operator: 'bob',
      reason: 'wrong region',
    });
    expect(estate.probes).toBe(0);
  });

  test('after a promotion, flags the runbook marks restore go back; records that are not a database go back', async () => {
    const base = runbook();
    const restoreFlags = base.steps.map((step) =>
      step.kind === 'parallel'
        ? {
            ...step,
            steps: step.steps.map((inner) =>
              inner.kind === 'flags.set' ? { ...inner, rollbackAfterPromotion: 'restore' as const } : inner,
            ),
          }
        : step,
    );
    const { estate, rb } = withWwwHeldAfterDns({ ...base, steps: restoreFlags });
    const result = await withWorker(estate, async (taskQueue) =>
      abortedAtGate(await start(taskQueue, rb), 'test'),
    );
    expect(estate.flags.get('degraded')).toBe(false);
    expect(estate.dns.get('www.z.test.')).toBe('app.z.test.');
    expect(estate.dns.get('db.z.test.')).toBe('10.0.0.3');
    expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual([
      'dns:partly undone',
      'promote:not undone',
      'fence:kept',
      'flags-on:undone',
    ]);
  });

  test('rollback puts back only the records that still hold what the DNS step set: one another writer changed since is left, and said so', async () => {
    const { estate, rb } = withWwwHeldAfterDns();
    const result = await withWorker(estate, async (taskQueue) => {
      const handle = await start(taskQueue, rb);
      await waitForGate(handle, 'hold');
      estate.dns.set('www.z.test.', 'status.z.test.'); // another writer, after the switch
      await handle.executeUpdate('abort', {
        args: [await signed(handle, signerOf('alice'), { action: 'abort', reason: 'test' })],
      });
      return failedResult(handle.result(), 'FailoverAborted');
    });
    expect(estate.dns.get('www.z.test.')).toBe('status.z.test.');
    expect(estate.dns.get('db.z.test.')).toBe('10.0.0.3');
    expect(result.rollback?.find((r) => r.stepId === 'dns')).toMatchObject({
      status: 'kept',
      detail: expect.stringContaining('left CNAME www.z.test. at status.z.test.'),
    });
  });

  test('abort before the promotion lifts the fence; --no-rollback leaves everything as it is', async () => {
    const estate = newEstate();
    const rb = withSteps([{ after: 'fence', step: gate('hold') }]);
    const rolledBack = await withWorker(estate, async (taskQueue) => {
      const handle = await start(taskQueue, rb);
      await waitForGate(handle, 'hold');
      expect(estate.roles.get('primary')).toBe('fenced');
      await handle.executeUpdate('abort', {
        args: [await signed(handle, signerOf('alice'), { action: 'abort', reason: 'false alarm' })],
      });
      return failedResult(handle.result(), 'FailoverAborted');
    });
    expect(rolledBack.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual([
      'fence:undone',
      'flags-on:undone',
    ]);
    expect(estate.roles.get('primary')).toBe('primary');
    expect(estate.flags.get('degraded')).toBe(false);

    const kept = newEstate();
    const noRollback = await withWorker(kept, async (taskQueue) => {
      const handle = await start(taskQueue, rb);
      await waitForGate(handle, 'hold');
      await handle.executeUpdate('abort', {
        args: [
          await signed(handle, signerOf('alice'), {
            action: 'abort',
            reason: 'stop here',
            detail: { rollback: 'false' },
          }),
        ],
      });
      return failedResult(handle.result(), 'FailoverAborted');
    });
    expect(noRollback.rollback).toBeUndefined();
    expect(kept.roles.get('primary')).toBe('fenced');
    expect(kept.flags.get('degraded')).toBe(true);
  });

  /** Runs the runbook with an approval gate after the fence and aborts it there, with rollback. */
  async function abortedAfterFence(estate: FakeEstate): Promise<FailoverResult> {
    const rb = withSteps([{ after: 'fence', step: gate('hold') }]);
    return withWorker(estate, async (taskQueue) => {
      const handle = await start(taskQueue, rb);
      await waitForGate(handle, 'hold');
      expect(estate.roles.get('primary')).toBe('fenced');
      await handle.executeUpdate('abort', {
        args: [await signed(handle, signerOf('alice'), { action: 'abort', reason: 'false alarm' })],
      });
      return failedResult(handle.result(), 'FailoverAborted');
    });
  }

  test('a fence someone else put in place after the plan read the primary is not undone by this run’s rollback', async () => {
    const estate = newEstate();
    estate.fencedByAnotherAfterPlan = true;
    const result = await abortedAfterFence(estate);

    expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual(['flags-on:undone']);
    expect(estate.roles.get('primary')).toBe('fenced');
    expect(result.timeline.find((e) => e.stepId === 'fence')?.changed).toBe(false);
  });

  test('a fence the plan read in place but lifted before the fence step fenced again is undone by this run’s rollback', async () => {
    const estate = newEstate();
    estate.fenceLiftedAfterPlan = true;
    const result = await abortedAfterFence(estate);

    expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual([
      'fence:undone',
      'flags-on:undone',
    ]);
    expect(estate.roles.get('primary')).toBe('primary');
    expect(result.timeline.find((e) => e.stepId === 'fence')?.changed).toBe(true);
  });

  test('an unreachable primary needs two different operators to go on unfenced; a follow-up fences it when it is back', async () => {
    const estate = newEstate();
    estate.primaryReachable = false;
    const { result, followUp } = await withWorker(estate, async (taskQueue) => {
      const handle = await start(taskQueue);
      const waiting = await waitForGate(handle, 'fence');
      expect(waiting.awaiting[0]?.prompt).toMatch(/unreachable .* and could not be fenced/);
      expect(waiting.awaiting[0]?.approvers).toEqual({
        rule: '2 approvers',
        approvedBy: [],
        needed: 2,
      });
      const approve = async (operator: 'bob' | 'carol', reason: string) =>
        handle.executeUpdate<{ approvalsNeeded: number }, [unknown]>('approve', {
          args: [await signed(handle, signerOf(operator), { action: 'approve', stepId: 'fence', reason })],
        });
      const first = await approve('bob', 'us-east-1 is down, confirmed with AWS');
      expect(first.approvalsNeeded).toBe(1);
      const again = await approve('bob', 'again').catch((error: WorkflowUpdateFailedError) => error);
      expect((again as WorkflowUpdateFailedError).cause?.message).toMatch(
        /bob already approved "fence"; 1 more approval from other operators needed/,
      );
      expect(estate.promotions).toBe(0);
      await approve('carol', 'confirmed');
      const done: FailoverResult = await handle.result();
      const followUpId = done.followUps?.[0]?.workflowId as string;
      const followUpHandle = client.workflow.getHandle(followUpId);
      const trying = await followUpHandle.query<{ status: string; attempts: number }>('followUp');
      expect(trying.status).toBe('trying');
      // The old primary comes back, still writable: the follow-up fences it on sight.
      estate.primaryReachable = true;
      return { result: done, followUp: await followUpHandle.result() };
    });
    expect(result.status).toBe('succeeded');
    expect(result.timeline.find((e) => e.stepId === 'fence')?.summary).toMatch(
      /proceeding unfenced, approved by bob and carol/,
    );
    expect(result.followUps).toEqual([
      { database: 'db', workflowId: 'fence-follow-up-test-db-db', status: 'started' },
    ]);
    expect(followUp).toMatchObject({ status: 'fenced', database: 'db', approvedBy: ['bob', 'carol'] });
    expect(estate.roles.get('primary')).toBe('fenced');
    expect(estate.promotions).toBe(1);
  });

  test('a fence follow-up that continues as new goes on in its next run, which checks the run it continues, and fences the old primary when it is back', async () => {
    const estate = newEstate();
    estate.primaryReachable = false;
    // drctl's workflows, with follow-up runs of two attempts (workflows/fence-follow-up-run-length.ts replaced).
    const shortRuns = await bundleWorkflowCode({
      ...WORKFLOW_CODE,
      logger: quietLogger(),
      webpackConfigHook: (config) => ({
        ...config,
        plugins: [
          ...(config.plugins ?? []),
          {
            apply: (compiler) =>
              new compiler.webpack.NormalModuleReplacementPlugin(
                /\/fence-follow-up-run-length$/,
                require.resolve('./workflows/two-attempts-per-run'),
              ).apply(compiler),
          },
        ],
      }),
    });
    const taskQueue = `test-${randomUUID()}`;
    catalog = newCatalogDir();
    const worker = await workerOn(taskQueue, estate, {}, shortRuns);
    const followUpId = 'fence-follow-up-test-db-db';
    // A follow-up left running on a queue nobody polls would hold its id for the tests after this one.
    const endFollowUp = () =>
      client.workflow
        .getHandle(followUpId)
        .terminate('test over')
        .catch(() => undefined);
    const { followUp, firstRunId, continued } = await worker
      .runUntil(async () => {
        const handle = await start(taskQueue);
        await waitForGate(handle, 'fence');
        for (const operator of ['bob', 'carol'] as const)
          await handle.executeUpdate('approve', {
            args: [
              await signed(handle, signerOf(operator), {
                action: 'approve',
                stepId: 'fence',
                reason: 'down',
              }),
            ],
          });
        const done: FailoverResult = await handle.result();
        expect(done.followUps?.[0]?.workflowId).toBe(followUpId);
        const followUpHandle = client.workflow.getHandle<typeof fenceFollowUpWorkflow>(followUpId);
        const described = await followUpHandle.describe();
        const firstRunId = described.raw.workflowExecutionInfo?.firstRunId as string;
        // Its first run tries twice (the primary is unreachable), then continues as new: a run of the same id.
        const continued = await waitFor(async () => {
          const latest = await followUpHandle.describe();
          return latest.runId !== firstRunId && latest.status.name === 'RUNNING' ? latest.runId : undefined;
        });
        estate.primaryReachable = true;
        return { followUp: await followUpHandle.result(), firstRunId, continued };
      })
      .finally(endFollowUp);
    const startOfContinued = (await client.workflow.getHandle(followUpId, continued).fetchHistory())
      .events?.[0]?.workflowExecutionStartedEventAttributes;
    // Continued from a run of this follow-up (the first, or a later one on a slow machine).
    expect(startOfContinued?.firstExecutionRunId).toBe(firstRunId);
    expect(startOfContinued?.continuedExecutionRunId).toMatch(/\S/);
    expect(followUp).toMatchObject({ status: 'fenced', database: 'db', approvedBy: ['bob', 'carol'] });
    expect(followUp.attempts).toBeGreaterThanOrEqual(3);
    expect(estate.roles.get('primary')).toBe('fenced');
  });

  test('a fence follow-up started by a client, not by a failover as its child, is refused and fences nothing (before: the worker fenced the database it named, unsigned)', async () => {
    const estate = newEstate();
    const rb = runbook();
    const refusal = await withWorker(estate, async (taskQueue) => {
      // The input a failover would send, naming a failover run that never started it.
      const forged = client.workflow.execute('fenceFollowUpWorkflow', {
        taskQueue,
        workflowId: `fence-follow-up-forged-${randomUUID()}`,
        args: [
          {
            runbookId: rb.id,
            database: databaseInput(rb, 'db'),
            failover: { workflowId: `failover-${rb.id}`, runId: randomUUID() },
            authorization: { runbookId: rb.id, runbookHash: 'a'.repeat(64) },
            approvedBy: ['bob', 'carol'],
          },
        ],
      });
      return forged.then(
        () => 'fenced',
        (error: WorkflowFailedError) =>
          `${(error.cause as ApplicationFailure | undefined)?.type}: ${error.cause?.message}`,
      );
    });
    expect(refusal).toBe(
      "NotAuthorized: fence follow-up refused, nothing was fenced: it was not started by a failover (the run has no parent). A follow-up is started only by the failover that went on without fencing its old primary, with two operators' approval",
    );
    expect(estate.roles.get('primary')).toBe('primary');
  });

  test('a fence follow-up a client starts on a cron schedule is refused in every run, and fences nothing (before: the runs after the first, "continued from" it, skipped the check and fenced)', async () => {
    const estate = newEstate();
    const rb = runbook();
    const workflowId = `fence-follow-up-cron-${randomUUID()}`;
    const refusal = await withWorker(estate, async (taskQueue) => {
      const handle = await client.workflow.start('fenceFollowUpWorkflow', {
        taskQueue,
        workflowId,
        cronSchedule: '@every 2s',
        args: [
          {
            runbookId: rb.id,
            database: databaseInput(rb, 'db'),
            failover: { workflowId: `failover-${rb.id}`, runId: randomUUID() },
            authorization: { runbookId: rb.id, runbookHash: 'a'.repeat(64) },
            approvedBy: ['bob', 'carol'],
          },
        ],
      });
      // Three more cron runs come and go, each continued from the one before.
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      await handle.terminate('test over');
      // A failed cron run is recorded failed, and the next run starts on schedule, continued from it.
      const history = await client.workflow.getHandle(workflowId, handle.firstExecutionRunId).fetchHistory();
      const closed = history.events?.find((event) => event.workflowExecutionFailedEventAttributes);
      return closed?.workflowExecutionFailedEventAttributes?.failure?.message ?? '(not refused)';
    });
    expect(estate.roles.get('primary')).toBe('primary');
    expect(refusal).toBe(
      "fence follow-up refused, nothing was fenced: it was started with a cron schedule or a retry policy, which no failover gives it. A follow-up is started only by the failover that went on without fencing its old primary, with two operators' approval",
    );
  });

  /** The foreign worker's workflows (test/integration/workflows/foreign-follow-up-parent.ts), bundled once. */
  let foreignBundle: Awaited<ReturnType<typeof bundleWorkflowCode>> | undefined;

  /**
   * Runs `workflowType` of a foreign worker, on a queue of its own, beside a drctl worker whose queue it is given:
   * resolves with how the fence follow-up it started on drctl's queue ended, and the foreign queue.
   */
  async function foreignFollowUp(
    estate: FakeEstate,
    workflowType: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ outcome: string; foreignQueue: string }> {
    const rb = runbook();
    const foreignQueue = `foreign-${randomUUID()}`;
    foreignBundle ??= await bundleWorkflowCode({
      workflowsPath: require.resolve('./workflows/foreign-follow-up-parent'),
      logger: quietLogger(),
    });
    const foreign = await Worker.create({
      connection: workerConnection,
      taskQueue: foreignQueue,
      workflowBundle: foreignBundle,
    });
    const outcome = await withWorker(estate, (taskQueue) =>
      foreign.runUntil(
        client.workflow.execute<(queue: string, input: Record<string, unknown>) => Promise<string>>(
          workflowType,
          {
            taskQueue: foreignQueue,
            workflowId: `foreign-parent-${randomUUID()}`,
            args: [
              taskQueue,
              {
                runbookId: rb.id,
                database: databaseInput(rb, 'db'),
                authorization: { runbookId: rb.id, runbookHash: 'a'.repeat(64) },
                approvedBy: ['bob', 'carol'],
                ...extra,
              },
            ],
          },
        ),
      ),
    );
    return { outcome, foreignQueue };
  }

  test.each([
    ['a workflow that is not a drctl failover (a foreign worker’s)', 'foreignFollowUpParentWorkflow'],
    ['a foreign workflow registered as failoverWorkflow, but on its own task queue', 'failoverWorkflow'],
  ])(
    'a fence follow-up started as the child of %s is refused and fences nothing',
    async (_parent, workflowType) => {
      const estate = newEstate();
      const { outcome, foreignQueue } = await foreignFollowUp(estate, workflowType);
      expect(outcome).toMatch(
        new RegExp(
          `^NotAuthorized: fence follow-up refused, nothing was fenced: its parent foreign-parent-\\S+ is a ${workflowType} on task queue ${foreignQueue}, not a failover on test-\\S+\\. `,
        ),
      );
      expect(estate.roles.get('primary')).toBe('primary');
    },
  );

  test('a fence follow-up naming another failover than the run that started it is refused and fences nothing', async () => {
    const estate = newEstate();
    const named = { workflowId: 'failover-ehr-db', runId: randomUUID() };
    const { outcome } = await foreignFollowUp(estate, 'foreignFollowUpParentWorkflow', { failover: named });
    expect(outcome).toMatch(
      new RegExp(
        `^NotAuthorized: fence follow-up refused, nothing was fenced: it names failover failover-ehr-db run ${named.runId}, but was started by foreign-parent-\\S+ run \\S+ in namespace default\\. `,
      ),
    );
    expect(estate.roles.get('primary')).toBe('primary');
  });

  test('a fence follow-up a foreign workflow continues as new into (its parent named as the failover) is refused and fences nothing (before: a run "continued from" another skipped the parent check and fenced)', async () => {
    const estate = newEstate();
    const { outcome, foreignQueue } = await foreignFollowUp(estate, 'foreignContinuingParentWorkflow');
    expect(outcome).toMatch(
      new RegExp(
        `^NotAuthorized: fence follow-up refused, nothing was fenced: it continues run \\S+ of foreign-parent-\\S+-child, a foreignContinuingChildWorkflow on task queue ${foreignQueue}, not a fence follow-up on test-\\S+\\. `,
      ),
    );
    expect(estate.roles.get('primary')).toBe('primary');
  });

  test('a failover cancelled through Temporal (UI, CLI) after it went on unfenced leaves its fence follow-up running: the old primary is still fenced on sight', async () => {
    const estate = newEstate();
    estate.primaryReachable = false;
    const rb = withSteps([{ after: 'promote', step: gate('hold') }], runbook());
    const followUp = await withWorker(estate, async (taskQueue) => {
      const handle = await start(taskQueue, { ...rb, id: 'cancelled-unfenced-db' });
      await waitForGate(handle, 'fence');
      for (const operator of ['bob', 'carol'] as const) {
        await handle.executeUpdate('approve', {
          args: [
            await signed(handle, signerOf(operator), { action: 'approve', stepId: 'fence', reason: 'down' }),
          ],
        });
      }
      const held = await waitForGate(handle, 'hold');
      const followUpId = held.followUps?.[0]?.workflowId as string;
      await handle.cancel();
      await handle.result().catch(() => undefined);
      const followUpHandle = client.workflow.getHandle(followUpId);
      // A cancel the failover passed on would reach the follow-up within moments: give it time to.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const described = await followUpHandle.describe();
      const state = await followUpHandle.query<{ status: string }>('followUp');
      await followUpHandle.terminate('test over');
      return { status: described.status.name, state: state.status };
    });

    expect(followUp).toEqual({ status: 'RUNNING', state: 'trying' });
  });

  test('skipping a failed fence needs two different operators, and then counts as going on unfenced', async () => {
    const estate = newEstate();
    estate.failNext('fenceDatabase', 3, { type: 'AccessDenied', message: 'not allowed', nonRetryable: true });
    const rb = runbook();
    const steps = rb.steps.map((step) =>
      step.kind === 'database.fence' ? { ...step, onFailure: 'pause' as const } : step,
    );
    const result = await withWorker(estate, async (taskQueue) => {
      const handle = await start(taskQueue, { ...rb, id: 'skip-fence-db', steps });
      await waitForGate(handle, 'fence');
      const skip = async (operator: 'bob' | 'carol') =>
        handle.executeUpdate<{ approvalsNeeded?: number }, [unknown]>('decide', {
          args: [
            await signed(handle, signerOf(operator), {
              action: 'skip',
              stepId: 'fence',
              reason: 'host powered off',
            }),
          ],
        });
      expect((await skip('bob')).approvalsNeeded).toBe(1);
      const again = await skip('bob').catch((error: WorkflowUpdateFailedError) => error);
      expect((again as WorkflowUpdateFailedError).cause?.message).toMatch(
        /bob already asked to skip "fence"; skipping it needs 2 different operators/,
      );
      expect(estate.promotions).toBe(0);
      await skip('carol');
      const done: FailoverResult = await handle.result();
      const followUp = client.workflow.getHandle(done.followUps?.[0]?.workflowId as string);
      // A close is an operator action like any other: unsigned, or by someone without abort, it is refused.
      const unsigned = await followUp
        .executeUpdate('close', { args: [{ operator: 'bob', reason: 'test over' }] })
        .catch((error: WorkflowUpdateFailedError) => error);
      expect((unsigned as WorkflowUpdateFailedError).cause?.message).toMatch(/unsigned/);
      const byCarol = await followUp
        .executeUpdate('close', { args: [await signedClose(followUp.workflowId, signerOf('carol'))] })
        .catch((error: WorkflowUpdateFailedError) => error);
      expect((byCarol as WorkflowUpdateFailedError).cause?.message).toMatch(/not permitted/);
      await followUp.executeUpdate('close', {
        args: [await signedClose(followUp.workflowId, signerOf('alice'))],
      });
      const closed = await followUp.result();
      expect(closed).toMatchObject({
        status: 'closed',
        closedBy: { operator: 'alice', reason: 'test over' },
      });
      return done;
    });
    expect(result.status).toBe('succeeded');
    expect(result.timeline.find((e) => e.stepId === 'fence' && e.status === 'skipped')).toBeDefined();
    expect(result.followUps?.[0]).toMatchObject({ database: 'db', status: 'started' });
    expect(estate.promotions).toBe(1);
  });
});

describe('interrupting and timing out', () => {
  test('abort interrupts a long wait at once and rolls back what changed before it', async () => {
    const estate = newEstate();
    const rb = runbook();
    const steps = [...rb.steps];
    steps.splice(
      2,
      0,
      defineRunbook({ ...rb, steps: [{ id: 'settle', kind: 'wait', duration: '1h' }] }).steps[0]!,
    );
    const result = await withWorker(estate, async (taskQueue) => {
      const handle = await start(taskQueue, { ...rb, steps });
      await waitFor(async () =>
        (await handle.query<FailoverProgress>('progress')).currentSteps.includes('settle') ? true : undefined,
      );
      await handle.executeUpdate('abort', {
        args: [await signed(handle, signerOf('alice'), { action: 'abort', reason: 'stop' })],
      });
      return failedResult(handle.result(), 'FailoverAborted');
    });
    expect(result.timeline.find((e) => e.stepId === 'settle')).toMatchObject({
      status: 'interrupted',
      summary: 'interrupted by the abort',
    });
    expect(estate.flags.get('degraded')).toBe(false);
    expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual(['flags-on:undone']);
  });

  test('abort while the DNS step waits for its read ahead (Route 53 slow to answer) interrupts it at once', async () => {
    const estate = newEstate();
    const fake = estate.activities();
    let answer = (): void => undefined;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    let reads = 0;
    let readAnsweredBeforeTheRunEnded = false;
    const result = await withWorker(
      estate,
      async (taskQueue) => {
        const handle = await start(taskQueue);
        await waitFor(async () =>
          (await handle.query<FailoverProgress>('progress')).currentSteps.includes('dns') ? true : undefined,
        );
        await handle.executeUpdate('abort', {
          args: [await signed(handle, signerOf('alice'), { action: 'abort', reason: 'stop' })],
        });
        const ended = await failedResult(handle.result(), 'FailoverAborted');
        answer();
        return ended;
      },
      {
        // The read ahead (alive, heartbeating) answers when the test lets it, or after 40 s: the abort must not
        // wait for it.
        readDnsRecords: async (input) => {
          if (++reads === 1) {
            const alive = setInterval(() => Context.current().heartbeat(), 1_000);
            readAnsweredBeforeTheRunEnded = await Promise.race([
              answered.then(() => false),
              new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 40_000)),
            ]);
            clearInterval(alive);
          }
          return fake.readDnsRecords(input);
        },
      },
    );
    expect(readAnsweredBeforeTheRunEnded).toBe(false);
    expect(result.timeline.find((e) => e.stepId === 'dns')).toMatchObject({ status: 'interrupted' });
    expect(estate.dns.get('db.z.test.')).toBe('10.0.0.2');
    expect(estate.dnsChanges).toBe(0);
  });

  test('abort during a long promotion wait stops it; the promotion may have happened, so the fence stays', async () => {
    const estate = newEstate();
    estate.promotionWaitMs = 3_600_000;
    const result = await withWorker(estate, async (taskQueue) => {
      const handle = await start(taskQueue);
      await waitFor(async () =>
        (await handle.query<FailoverProgress>('progress')).currentSteps.includes('promote') &&
        estate.promotions > 0
          ? true
          : undefined,
      );
      await handle.executeUpdate('abort', {
        args: [await signed(handle, signerOf('alice'), { action: 'abort', reason: 'stop' })],
      });
      return failedResult(handle.result(), 'FailoverAborted');
    });
    expect(result.timeline.find((e) => e.stepId === 'promote')?.status).toBe('interrupted');
    expect(estate.roles.get('primary')).toBe('fenced');
    expect(result.rollback?.find((r) => r.stepId === 'fence')).toMatchObject({
      status: 'kept',
      detail: expect.stringMatching(/may have been promoted/),
    });
    expect(result.rollback?.find((r) => r.stepId === 'promote')?.detail).toMatch(/^the step interrupted/);
  });

  test('an approval without a timeout starts no timer; one with a timeout ends the run as the runbook says', async () => {
    const estate = newEstate();
    const rb = runbook();
    const steps = [...rb.steps];
    steps.splice(
      2,
      0,
      defineRunbook({
        ...rb,
        steps: [{ id: 'go-ahead', kind: 'approval', timeout: '2s', onTimeout: 'rollback' }],
      }).steps[0]!,
    );
    const timedOut = await withWorker(estate, async (taskQueue) =>
      failedResult((await start(taskQueue, { ...rb, steps })).result()),
    );
    expect(timedOut.timeline.find((e) => e.stepId === 'go-ahead')?.error).toMatchObject({
      type: 'ApprovalTimeout',
      message: expect.stringMatching(/within 2s; the run stops and rolls back/),
    });
    expect(timedOut.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual(['flags-on:undone']);
    expect(estate.flags.get('degraded')).toBe(false);

    const untimed = newEstate();
    const gateOnly = {
      ...rb,
      steps: [
        rb.steps[0]!,
        defineRunbook({ ...rb, steps: [{ id: 'go-ahead', kind: 'approval' }] }).steps[0]!,
      ],
    };
    await withWorker(untimed, async (taskQueue) => {
      const handle = await start(taskQueue, gateOnly);
      await waitFor(async () =>
        (await handle.query<FailoverProgress>('progress')).awaiting.length > 0 ? true : undefined,
      );
      const history = await handle.fetchHistory();
      expect(history.events?.some((event) => event.timerStartedEventAttributes)).toBe(false);
      await handle.executeUpdate('abort', {
        args: [
          await signed(handle, signerOf('alice'), {
            action: 'abort',
            reason: 'done',
            detail: { rollback: 'false' },
          }),
        ],
      });
      await handle.result().catch(() => undefined);
    });
  });
});

describe('safety rules the runbook cannot turn off', () => {
  test('pre-flight runs before the first change even without a preflight step', async () => {
    const estate = newEstate();
    estate.replicaLagSeconds = 120;
    const rb = runbook();
    const result = await withWorker(estate, async (taskQueue) =>
      failedResult((await start(taskQueue, { ...rb, steps: rb.steps.slice(1) })).result()),
    );
    expect(result.timeline.map((e) => `${e.stepId}:${e.status}`)).toEqual(['automatic-preflight:failed']);
    expect(result.timeline[0]?.error?.type).toBe('PreflightFailed');
    expect(estate.flags.get('degraded')).toBe(false);
    expect(estate.roles.get('primary')).toBe('primary');

    // Its plan shows the same checks, so it is not ready either.
    const withoutPreflight = { ...rb, steps: rb.steps.slice(1) };
    const plan = await withWorker(estate, (taskQueue) =>
      planSigned(taskQueue, withoutPreflight, 'what would change'),
    );
    expect(plan.steps[0]?.stepId).toBe('automatic-preflight');
    expect(plan.ready).toBe(false);
  });

  test('a literal DNS value that is a member address beside a promotion never runs: the worker refuses it', async () => {
    const estate = newEstate();
    const rb = runbook();
    const pointDns = {
      id: 'dns',
      kind: 'dns.switch' as const,
      zone: { name: 'z.test.' },
      records: [{ name: 'db.z.test.', type: 'A' as const, ttl: 60, value: '10.0.0.3' }],
    };
    const steps = rb.steps.flatMap((step): unknown[] => {
      if (step.kind === 'dns.switch') return [];
      if (step.kind !== 'database.promote') return [step];
      return [{ id: 'promote-and-point', kind: 'parallel' as const, steps: [step, pointDns] }];
    });
    const raw = { ...rb, id: 'literal-dns-db', steps };
    const failure = await withWorker(estate, async (taskQueue) => {
      // Written into the worker's catalog as a careless merge would: the worker validates what it loads.
      writeFileSync(join(catalog, `${raw.id}.json`), JSON.stringify(raw, null, 2));
      const workflowId = `test-failover-${randomUUID()}`;
      const handle = await client.workflow.start('failoverWorkflow', {
        taskQueue,
        workflowId,
        args: [
          {
            runbook: { id: raw.id, sha256: runbookSha256(raw) },
            start: signerOf('alice').sign({
              action: 'failover',
              runId: workflowId,
              runbookId: raw.id,
              runbookHash: runbookSha256(raw),
              reason: 'test',
            }),
          },
        ],
      });
      return handle.result().then(
        () => undefined,
        (error: WorkflowFailedError) => error.cause as ApplicationFailure,
      );
    });
    expect(failure?.type).toBe('RunbookMismatch');
    expect(failure?.message).toMatch(
      /broken in the worker's reviewed catalog: .*10\.0\.0\.3 is the address of database "db"/,
    );
    expect(estate.dns.get('db.z.test.')).toBe('10.0.0.2');
    expect(estate.promotions).toBe(0);
  });

  test("a step retried after its effect was made records it as this run's change and can still undo it", async () => {
    const estate = newEstate();
    // The first attempt turns the flag on, then fails before reporting (as a worker that died would).
    estate.failAfterEffect('setFlags', 1);
    const rb = withSteps([{ after: 'prepare', step: gate('hold') }]);
    const result = await withWorker(estate, async (taskQueue) => {
      const handle = await start(taskQueue, rb);
      await waitForGate(handle, 'hold');
      expect(estate.flags.get('degraded')).toBe(true);
      await handle.executeUpdate('abort', {
        args: [await signed(handle, signerOf('alice'), { action: 'abort', reason: 'test' })],
      });
      return failedResult(handle.result(), 'FailoverAborted');
    });
    const flags = result.timeline.find((e) => e.stepId === 'flags-on');
    expect(flags).toMatchObject({ changed: true, attempts: 2 });
    expect(flags?.summary).toMatch(/this run changed the flags: an earlier attempt of this step did it/);
    expect(flags?.before).toEqual({
      project: 'default',
      environment: 'development',
      flags: [{ name: 'degraded', enabled: false }],
    });
    expect(estate.flags.get('degraded')).toBe(false);
    expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual(['flags-on:undone']);
  });
});
