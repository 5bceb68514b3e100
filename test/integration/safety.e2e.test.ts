import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { createUnleashClientReader } from '../../activities/flags/unleash-client-reader';
import { startFailover } from '../../cli/failover-runs';
import { defineRunbook } from '../../runbooks/define-runbook';
import ehrDb from '../../runbooks/examples/ehr-db';
import { runbookSha256 } from '../../auth/sha256';
import type { LeafStep, ParallelStep, Runbook, Step } from '../../runbooks/schema';
import { rebuildPrimaryAsReplica, resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { FailoverProgress, FailoverResult } from '../../workflows/run-types';
import { catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { addToCatalog, signerOf } from './operators';
import { recordValue, sql } from './estate-readers';
import { startHoldingProxy, type HoldingProxy } from './holding-proxy';
import { sandboxDataConverter } from './sandbox-data-converter';

/**
 * The interpreter's safety rules on the real stack, through the real CLI and a real worker process: the state
 * recorded before each effect survives a worker killed between the effect and its record; an abort interrupts
 * a running step; approvals wait until answered; one run per runbook under its lock; DNS only at where a
 * promotion's write landed; pre-flight before the first change; failback restores recorded flag values.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let connection: Connection;
let client: Client;
const dir = mkdtempSync(join(tmpdir(), 'drctl-safety-'));
const LONG = 600_000;

const EHR = 'ehr-db.sandbox.drctl.internal.';
const PORTAL = 'portal-db.sandbox.drctl.internal.';
const FLAGS = ['ehr-degraded-mode', 'ehr-read-only-banner'];

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `safety-${randomUUID()}`);
  worker = await startWorkerProcess(env);
  connection = await Connection.connect({ address: stack.temporal.address });
  client = new Client({ connection, namespace: stack.temporal.namespace, ...sandboxDataConverter(stack) });
});

afterAll(async () => {
  await stopProcess(worker);
  await connection?.close();
  await resetStack();
});

/**
 * A runbook file in the worker's reviewed catalog (as a reviewer would merge it): ehr-db's targets with the
 * given steps (or ehr-db's own steps with some changed).
 */
function runbookFile(
  id: string,
  steps: unknown[],
  targets: unknown = ehrDb.targets,
  folder = catalogDir(env),
): string {
  const file = join(folder, `${id}.json`);
  writeFileSync(file, JSON.stringify({ ...ehrDb, id, targets, steps }));
  return file;
}

const step = (id: string): Step => ehrDb.steps.find((s) => s.id === id) as Step;
/** ehr-db's flags step (degraded mode and the banner on), out of its parallel group. */
const flagsStep = (): LeafStep => (step('prepare') as ParallelStep).steps[0] as LeafStep;

async function start(file: string, extra: NodeJS.ProcessEnv = {}): Promise<string> {
  const started = await drctl(['failover', file, '--reason', 'safety e2e', '--yes', '--output', 'json'], {
    ...env,
    ...extra,
  });
  expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: '' });
  return (JSON.parse(started.stdout) as { workflowId: string }).workflowId;
}

async function progress(workflowId: string, e: NodeJS.ProcessEnv = env): Promise<FailoverProgress> {
  return JSON.parse((await drctl(['status', workflowId, '--output', 'json'], e)).stdout) as FailoverProgress;
}

async function waitUntil<T>(
  read: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 240_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function ended(workflowId: string, e: NodeJS.ProcessEnv = env): Promise<FailoverResult> {
  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], e);
  return JSON.parse(followed.stdout) as FailoverResult;
}

async function flagsSeen(): Promise<Record<string, boolean | null>> {
  const reader = createUnleashClientReader({
    url: stack.unleash.url,
    clientToken: stack.unleash.clientToken,
  });
  return reader.read(FLAGS);
}

async function setFlag(name: string, on: boolean): Promise<void> {
  const response = await fetch(
    `${stack.unleash.url}/api/admin/projects/default/features/${name}/environments/development/${on ? 'on' : 'off'}`,
    { method: 'POST', headers: { Authorization: stack.unleash.adminToken } },
  );
  expect(response.ok).toBe(true);
}

async function inRecovery(url: string): Promise<boolean> {
  const [row] = await sql<{ recovering: boolean }>(url, 'select pg_is_in_recovery() as recovering');
  return row?.recovering as boolean;
}

describe('the state before each effect is recorded before acting (8.2)', () => {
  let aws: HoldingProxy;
  let unleash: HoldingProxy;
  let crashEnv: NodeJS.ProcessEnv;
  let crashWorker: ChildProcess | undefined;

  beforeAll(async () => {
    aws = await startHoldingProxy(stack.moto.endpoint);
    unleash = await startHoldingProxy(stack.unleash.url);
    const config = JSON.parse(readFileSync(stack.configFile, 'utf8')) as {
      aws: { endpoint: string };
      unleash: { url: string };
    };
    config.aws.endpoint = aws.url;
    config.unleash.url = unleash.url;
    const file = join(dir, 'drctl.crash.config.json');
    writeFileSync(file, JSON.stringify(config));
    crashEnv = { ...drctlEnv(stack, `safety-crash-${randomUUID()}`), DRCTL_CONFIG: file };
  });

  afterAll(async () => {
    await stopProcess(crashWorker);
    await aws?.close();
    await unleash?.close();
  });

  test(
    "a worker killed after the effect but before its record: the retry knows the change was this run's, and abort undoes it",
    async () => {
      stack = await resetStack();
      const portalBefore = await recordValue(stack, PORTAL);
      crashWorker = await startWorkerProcess(crashEnv);
      const flagsHeld = unleash.holdNext(
        ({ method, url }) =>
          method === 'POST' && url.includes('/features/ehr-read-only-banner/environments/development/on'),
      );
      const dnsHeld = aws.holdNext(
        ({ method, url }) => method === 'POST' && /\/hostedzone\/[^/]+\/rrset/.test(url),
      );
      const workflowId = await start(
        runbookFile(
          'ehr-db-crash-undo',
          [
            flagsStep(),
            {
              id: 'maintenance-dns',
              kind: 'dns.switch',
              zone: { name: 'sandbox.drctl.internal.' },
              records: [
                { name: PORTAL, type: 'CNAME', ttl: 30, value: 'maintenance.sandbox.drctl.internal.' },
              ],
            },
            { id: 'hold', kind: 'approval' },
          ],
          ehrDb.targets,
          catalogDir(crashEnv),
        ),
        crashEnv,
      );

      // The flags are on at Unleash, the worker dies before the activity reports it.
      await flagsHeld;
      await stopProcess(crashWorker, 'SIGKILL');
      crashWorker = await startWorkerProcess(crashEnv);
      // The record is changed at Route 53, the worker dies before the activity reports it.
      await dnsHeld;
      await stopProcess(crashWorker, 'SIGKILL');
      crashWorker = await startWorkerProcess(crashEnv);

      const waiting = await waitUntil(async () => {
        const shown = await progress(workflowId, crashEnv);
        return shown.awaiting.some((a) => a.stepId === 'hold') ? shown : undefined;
      }, 'the run waits at hold');
      expect(await recordValue(stack, PORTAL)).toBe('maintenance.sandbox.drctl.internal.');
      expect(await flagsSeen()).toEqual({ 'ehr-degraded-mode': true, 'ehr-read-only-banner': true });
      for (const id of ['degraded-mode-on', 'maintenance-dns']) {
        const entry = waiting.timeline.find((e) => e.stepId === id);
        expect(entry).toMatchObject({ status: 'succeeded', changed: true, attempts: 2 });
        // Never "already done, nothing changed" for this run's own change: the retry says an earlier attempt made
        // the change (flags), or resumed the step from its heartbeat and reports the switch itself (DNS).
        expect(entry?.summary).toMatch(
          /this run changed .*: an earlier attempt of this step did it|^Switched 1 of 1/,
        );
      }

      expect((await drctl(['abort', workflowId, '--reason', 'crash test over'], crashEnv)).code).toBe(0);
      const result = await ended(workflowId, crashEnv);
      expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual([
        'maintenance-dns:undone',
        'degraded-mode-on:undone',
      ]);
      expect(await recordValue(stack, PORTAL)).toBe(portalBefore);
      expect(await flagsSeen()).toEqual({ 'ehr-degraded-mode': false, 'ehr-read-only-banner': false });
      await stopProcess(crashWorker);
    },
    LONG,
  );
});

test(
  'abort interrupts a long wait at once and undoes what changed before it (8.10)',
  async () => {
    stack = await resetStack();
    const workflowId = await start(
      runbookFile('ehr-db-long-wait', [
        step('preflight'),
        flagsStep(),
        { id: 'settle', kind: 'wait', duration: '1h' },
      ]),
    );
    await waitUntil(
      async () => ((await progress(workflowId)).currentSteps.includes('settle') ? true : undefined),
      'the wait runs',
    );
    expect((await drctl(['abort', workflowId, '--reason', 'stop waiting'], env)).code).toBe(0);
    // Without the interruption the run would sit in its one-hour wait; it ends well before.
    const result = await waitUntil(
      async () => {
        const shown = await progress(workflowId);
        return shown.status === 'aborted' ? (shown as FailoverResult) : undefined;
      },
      'the run ends aborted',
      120_000,
    );
    expect(result.timeline.find((e) => e.stepId === 'settle')).toMatchObject({ status: 'interrupted' });
    expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual(['degraded-mode-on:undone']);
    expect(await flagsSeen()).toEqual({ 'ehr-degraded-mode': false, 'ehr-read-only-banner': false });
  },
  LONG,
);

describe('approvals wait until answered unless the runbook sets a timeout (8.11)', () => {
  test("a gate without a timeout starts no timer in the run's history", async () => {
    stack = await resetStack();
    const workflowId = await start(
      runbookFile('ehr-db-gate', [step('preflight'), { id: 'go-ahead', kind: 'approval' }]),
    );
    await waitUntil(
      async () => ((await progress(workflowId)).awaiting.length > 0 ? true : undefined),
      'the run waits at the gate',
    );
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    expect(history.events?.filter((event) => event.timerStartedEventAttributes)).toEqual([]);
    expect((await drctl(['abort', workflowId, '--reason', 'done', '--no-rollback'], env)).code).toBe(0);
    await ended(workflowId);
  });

  test(
    'a gate whose timeout passes ends the run as the runbook says: stop and roll back',
    async () => {
      stack = await resetStack();
      const workflowId = await start(
        runbookFile('ehr-db-gate-timeout', [
          step('preflight'),
          flagsStep(),
          { id: 'go-ahead', kind: 'approval', timeout: '3s', onTimeout: 'rollback' },
          step('fence-primary'),
        ]),
      );
      const result = await ended(workflowId);
      expect(result.status).toBe('failed');
      expect(result.timeline.find((e) => e.stepId === 'go-ahead')?.error).toMatchObject({
        type: 'ApprovalTimeout',
      });
      expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual(['degraded-mode-on:undone']);
      expect(result.timeline.some((e) => e.stepId === 'fence-primary')).toBe(false);
      expect(await flagsSeen()).toEqual({ 'ehr-degraded-mode': false, 'ehr-read-only-banner': false });
    },
    LONG,
  );
});

describe('one run per runbook, under a lock Temporal enforces (8.12)', () => {
  test(
    "a drill's failover holds the runbook's lock: a failover started meanwhile is refused",
    async () => {
      stack = await resetStack();
      const file = runbookFile('ehr-db-locked', [
        step('preflight'),
        { id: 'hold', kind: 'approval' },
        ...ehrDb.steps.slice(1),
      ]);
      const drill = await drctl(['drill', 'run', file, '--reason', 'lock e2e', '--output', 'json'], env);
      expect(drill.code).toBe(0);
      const { drillId } = JSON.parse(drill.stdout) as { drillId: string };
      const held = await waitUntil(async () => {
        const shown = await drctl(['status', 'failover-ehr-db-locked', '--output', 'json'], env);
        if (shown.code !== 0) return undefined;
        const run = JSON.parse(shown.stdout) as FailoverProgress;
        return run.awaiting.some((a) => a.stepId === 'hold') ? run : undefined;
      }, "the drill's failover waits at hold");
      expect(held.reason).toContain(drillId);
      try {
        await lockRefusesSecondRun(file, held.runId);
      } finally {
        // Ends the held run even when an assertion failed: a run left open would hold the lock for later runs.
        await drctl(['abort', 'failover-ehr-db-locked', '--reason', 'lock e2e over'], env);
        await ended('failover-ehr-db-locked');
        await client.workflow
          .getHandle(drillId)
          .result()
          .catch(() => undefined);
      }
    },
    LONG,
  );

  async function lockRefusesSecondRun(file: string, heldRunId: string | undefined): Promise<void> {
    const second = await drctl(['failover', file, '--reason', 'second', '--yes', '--output', 'json'], env);
    expect(second.code).toBe(4);
    expect(JSON.parse(second.stdout).error).toMatchObject({
      code: 'AlreadyRunning',
      message: expect.stringContaining('failover-ehr-db-locked'),
    });
    const runs = JSON.parse(
      (await drctl(['runs', '--runbook', 'ehr-db-locked', '--kind', 'failover', '--output', 'json'], env))
        .stdout,
    ) as Array<{ workflowId: string; runId: string; status: string }>;
    // Earlier runs under the lock (from earlier test runs on this Temporal server) have ended; one runs.
    expect(runs.filter((run) => run.status === 'RUNNING')).toEqual([
      expect.objectContaining({
        workflowId: 'failover-ehr-db-locked',
        runId: heldRunId,
        status: 'RUNNING',
      }),
    ]);
  }

  test(
    "a failback takes its failover's lock; runs under one lock differ by run id and status picks one",
    async () => {
      stack = await resetStack();
      const runbook = defineRunbook({
        ...ehrDb,
        id: 'ehr-db-lock-back',
        steps: [step('preflight'), { id: 'hold', kind: 'approval' }],
      } as Parameters<typeof defineRunbook>[0]) as Runbook;
      const taskQueue = env.DRCTL_TASK_QUEUE as string;
      const signed = (reason: string) => ({ reason, signer: signerOf('alice'), now: new Date() });
      const target = addToCatalog(catalogDir(env), runbook);
      const first = await startFailover(client, taskQueue, target, signed('first'));
      expect(first.workflowId).toBe('failover-ehr-db-lock-back');
      await expect(
        startFailover(
          client,
          taskQueue,
          addToCatalog(catalogDir(env), runbook, 'failback'),
          signed('back while the failover runs'),
        ),
      ).rejects.toMatchObject({ code: 'AlreadyRunning' });
      expect((await drctl(['abort', first.workflowId, '--reason', 'next', '--no-rollback'], env)).code).toBe(
        0,
      );
      await ended(first.workflowId);

      const second = await startFailover(client, taskQueue, target, signed('second'));
      expect(second.workflowId).toBe(first.workflowId);
      expect(second.runId).not.toBe(first.runId);
      const latest = await progress(first.workflowId);
      expect(latest).toMatchObject({ runId: second.runId, reason: 'second' });
      const earlier = JSON.parse(
        (await drctl(['status', first.workflowId, '--run-id', first.runId, '--output', 'json'], env)).stdout,
      ) as FailoverResult;
      expect(earlier).toMatchObject({ runId: first.runId, reason: 'first', status: 'aborted' });
      expect((await drctl(['abort', second.workflowId, '--reason', 'done', '--no-rollback'], env)).code).toBe(
        0,
      );
      await ended(second.workflowId);
    },
    LONG,
  );
});

describe('DNS points only where a promotion confirmed writes land (8.13)', () => {
  test(
    "the endpoint written is where the promotion's write test landed, not the runbook's text",
    async () => {
      stack = await resetStack();
      const targets = {
        ehr: {
          ...ehrDb.targets.databases.ehr,
          replica: { connection: 'ehr-replica', endpoint: '127.0.0.9' },
        },
      };
      const result = await ended(
        await start(runbookFile('ehr-db-wrong-endpoint', [...ehrDb.steps], { databases: targets })),
      );
      expect(result.timeline.filter((e) => e.error).map((e) => `${e.stepId}: ${e.error?.message}`)).toEqual(
        [],
      );
      expect(result.timeline.find((e) => e.stepId === 'promote-replica')?.facts).toMatchObject({
        writableEndpoint: '127.0.0.3',
        writeLandedAt: '127.0.0.3',
        runbookEndpoint: '127.0.0.9',
      });
      expect(await recordValue(stack, EHR)).toBe('127.0.0.3');
    },
    LONG,
  );

  test(
    'a literal value that is a member address is refused beside its promotion: by the client, and by the worker',
    async () => {
      stack = await resetStack();
      const literal = {
        id: 'point-dns',
        kind: 'dns.switch',
        zone: { name: 'sandbox.drctl.internal.' },
        records: [{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.3' }],
      };
      const steps = [
        step('preflight'),
        step('fence-primary'),
        { id: 'promote-and-point', kind: 'parallel', steps: [step('promote-replica'), literal] },
      ];
      const refused = await drctl(
        [
          'failover',
          runbookFile('ehr-db-literal', steps, ehrDb.targets, dir),
          '--reason',
          'x',
          '--yes',
          '--output',
          'json',
        ],
        env,
      );
      expect(refused.code).toBe(2);
      expect(refused.stdout).toMatch(/steps\[2\]\.steps\[1\]\.records\[0\]\.value/);

      // Merged into the worker's catalog past the client's validation: the worker loads, validates and refuses it.
      const raw = { ...ehrDb, id: 'ehr-db-literal-merged', steps };
      writeFileSync(join(catalogDir(env), `${raw.id}.json`), JSON.stringify(raw));
      const workflowId = `bypass-${randomUUID()}`;
      const handle = await client.workflow.start('failoverWorkflow', {
        taskQueue: env.DRCTL_TASK_QUEUE as string,
        workflowId,
        args: [
          {
            runbook: { id: raw.id, sha256: runbookSha256(raw) },
            start: signerOf('alice').sign({
              action: 'failover',
              runId: workflowId,
              runbookId: raw.id,
              runbookHash: runbookSha256(raw),
              reason: 'bypass',
            }),
          },
        ],
      });
      const failure = await handle.result().then(
        () => undefined,
        (error: { cause?: { type?: string; message?: string } }) => error.cause,
      );
      expect(failure?.type).toBe('RunbookMismatch');
      expect(failure?.message).toMatch(
        /broken in the worker's reviewed catalog: .*127\.0\.0\.3 is the address/,
      );
      expect(await recordValue(stack, EHR)).toBe('127.0.0.2');
    },
    LONG,
  );
});

test(
  'a runbook without a preflight step still gets every check before its first change (8.14)',
  async () => {
    stack = await resetStack();
    const badProbe = {
      ...step('probe-writes'),
      probe: { type: 'sql', connection: 'no-such-connection', write: true },
    };
    const steps = [...ehrDb.steps.slice(1, -1), badProbe];
    const result = await ended(await start(runbookFile('ehr-db-no-preflight', steps)));
    expect(result.status).toBe('failed');
    expect(result.timeline.map((e) => `${e.stepId}:${e.status}`)).toEqual(['automatic-preflight:failed']);
    expect(result.timeline[0]?.error?.message).toMatch(/no-such-connection/);
    expect(await flagsSeen()).toEqual({ 'ehr-degraded-mode': false, 'ehr-read-only-banner': false });
    expect(await inRecovery(stack.postgres.replicaUrl)).toBe(true);
    expect(await recordValue(stack, EHR)).toBe('127.0.0.2');
  },
  LONG,
);

test(
  'failback sets each flag back to its value before the failover, not the opposite of the step (8.16)',
  async () => {
    stack = await resetStack();
    // The read-only banner was already on before the incident.
    await setFlag('ehr-read-only-banner', true);
    const failover = await drctl(
      ['failover', 'ehr-db', '--reason', 'before failback', '--yes', '--follow', '--output', 'json'],
      env,
    );
    expect(failover.code).toBe(0);
    expect(await flagsSeen()).toEqual({ 'ehr-degraded-mode': true, 'ehr-read-only-banner': true });
    await rebuildPrimaryAsReplica();

    const back = await drctl(
      ['failback', 'ehr-db', '--reason', 'region healthy', '--yes', '--follow', '--output', 'json'],
      env,
    );
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect(await flagsSeen()).toEqual({ 'ehr-degraded-mode': false, 'ehr-read-only-banner': true });
    expect(await recordValue(stack, EHR)).toBe('127.0.0.2');
  },
  LONG,
);
