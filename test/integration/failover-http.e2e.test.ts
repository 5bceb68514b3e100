import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { failoverStart, referenceTo } from '../../cli/failover-runs';
import { openHttpRuns, startOverHttp, type HttpRuns } from '../../cli/http-runs';
import { loadSigner } from '../../cli/operator-signer';
import ehrDb from '../../runbooks/examples/ehr-db';
import { operatorPaths } from '../../sandbox/operator-seed';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import { loadConfig } from '../../worker/config';
import type { FailoverResult, PlanResult } from '../../workflows/run-types';
import { drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { recordValue, sql } from './estate-readers';
import { expectSecondStartRefused, startGatedFailover } from './gated-failover';
import { transportEnvs } from './temporal-transports';

/**
 * `drctl plan` and `drctl failover` talk to Temporal over its HTTP API when `temporal.httpAddress` is set (no gRPC
 * client to load). Shown on the real stack with gRPC's address pointing at a closed port, so nothing can go over
 * gRPC: plan, start, live follow, a refused second start and a queue nobody serves behave as over gRPC, and the
 * effects are real. An HTTP address that does not answer sends the command over gRPC; a start whose answer is lost
 * is sent again and returns the same run.
 */
const RECORD = 'ehr-db.sandbox.drctl.internal.';
const LEAF_STEPS = [
  'preflight',
  'degraded-mode-on',
  'verify-backups',
  'fence-primary',
  'promote-replica',
  'switch-dns',
  'probe-writes',
];
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let envs: Awaited<ReturnType<typeof transportEnvs>>;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `failover-http-${randomUUID()}`);
  envs = await transportEnvs(stack, env);
  worker = await startWorkerProcess(env);
});

afterAll(async () => {
  await stopProcess(worker);
  await resetStack();
});

const stepsOf = (result: FailoverResult) => result.timeline.map((entry) => `${entry.stepId}:${entry.status}`);

async function replicaRecovering(): Promise<boolean | undefined> {
  const [row] = await sql<{ recovering: boolean }>(
    stack.postgres.replicaUrl,
    'select pg_is_in_recovery() as recovering',
  );
  return row?.recovering;
}

/** The modules a drctl process loaded, written as it exits (a preload), to show what it did without. */
function recordingModules(base: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; modules: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-modules-'));
  const recorder = join(dir, 'record-modules.js');
  const out = join(dir, 'modules.txt');
  writeFileSync(
    recorder,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, Object.keys(require.cache).join('\\n')));`,
  );
  return {
    env: { ...base, NODE_OPTIONS: `--require ${recorder}` },
    modules: () => readFileSync(out, 'utf8').split('\n'),
  };
}

test('GIVEN only the HTTP API answers WHEN an operator plans and fails ehr-db over THEN both run, live, with real effects, as over gRPC', async () => {
  const recorded = recordingModules(envs.httpOnly);
  const plan = await drctl(['plan', 'ehr-db', '--output', 'json'], recorded.env);
  expect(plan.stderr).toBe('');
  expect(plan.code).toBe(0);
  // No gRPC client was loaded: that is the time the HTTP API saves.
  const grpcLibraries = ['@temporalio/client', '@temporalio/proto', '@grpc/grpc-js'];
  expect(
    grpcLibraries.filter((library) =>
      recorded.modules().some((path) => path.includes(`/node_modules/${library}/`)),
    ),
  ).toEqual([]);
  const planned = JSON.parse(plan.stdout) as PlanResult;
  expect(planned.ready).toBe(true);
  const overGrpc = JSON.parse(
    (await drctl(['plan', 'ehr-db', '--output', 'json'], envs.grpcOnly)).stdout,
  ) as PlanResult;
  expect(planned.steps.map((step) => step.stepId)).toEqual(overGrpc.steps.map((step) => step.stepId));

  const live = await drctl(
    ['failover', 'ehr-db', '--reason', 'over HTTP', '--yes', '--follow'],
    envs.httpOnly,
  );
  expect(live.code).toBe(0);
  expect(live.stderr).toMatch(/^started failover-ehr-db \(run [0-9a-f-]+\)\n/);
  for (const step of LEAF_STEPS) expect(live.stderr).toMatch(new RegExp(`✔ (\\S+/)?${step} `));
  expect(live.stdout).toMatch(/^failover-ehr-db: succeeded in /);
  expect(await recordValue(stack, RECORD)).toBe('127.0.0.3');
  expect(await replicaRecovering()).toBe(false);

  stack = await resetStack();
  const overHttp = await drctl(
    ['failover', 'ehr-db', '--reason', 'over HTTP', '--yes', '--follow', '--output', 'json'],
    envs.httpOnly,
  );
  expect(overHttp.code).toBe(0);
  stack = await resetStack();
  const grpcRun = await drctl(
    ['failover', 'ehr-db', '--reason', 'over gRPC', '--yes', '--follow', '--output', 'json'],
    envs.grpcOnly,
  );
  expect(grpcRun.code).toBe(0);
  const [http, grpc] = [overHttp, grpcRun].map((run) => JSON.parse(run.stdout) as FailoverResult);
  expect(stepsOf(http!)).toEqual(LEAF_STEPS.map((step) => `${step}:succeeded`));
  expect(stepsOf(grpc!)).toEqual(stepsOf(http!));
  expect(await recordValue(stack, RECORD)).toBe('127.0.0.3');
});

test('GIVEN ehr-db planned once WHEN it is planned again THEN the CLI recalls its validation (no zod, no step kind loaded) and the worker accepts its sha256', async () => {
  stack = await resetStack();
  const cacheHome = mkdtempSync(join(tmpdir(), 'drctl-memo-'));
  const plans: PlanResult[] = [];
  const loadedLibraries: string[][] = [];
  for (let i = 0; i < 2; i++) {
    const recorded = recordingModules({ ...envs.httpOnly, XDG_CACHE_HOME: cacheHome });
    const plan = await drctl(['plan', 'ehr-db', '--output', 'json'], recorded.env);
    expect({ code: plan.code, stderr: plan.stderr }).toEqual({ code: 0, stderr: '' });
    plans.push(JSON.parse(plan.stdout) as PlanResult);
    loadedLibraries.push(
      ['/node_modules/zod/', '/dist/kinds/'].filter((part) =>
        recorded.modules().some((path) => path.includes(part)),
      ),
    );
  }

  expect(loadedLibraries).toEqual([['/node_modules/zod/', '/dist/kinds/'], []]);
  // Ready means the worker found the sha256 the CLI sent equal to its own reviewed copy's.
  expect(plans.map((plan) => plan.ready)).toEqual([true, true]);
  expect(plans[1]?.steps.map((step) => step.stepId)).toEqual(plans[0]?.steps.map((step) => step.stepId));
});

test('GIVEN only the HTTP API answers WHEN a second start comes while a run is open THEN it is refused (exit 4) and changes nothing', async () => {
  stack = await resetStack();
  const gated = await startGatedFailover(envs.httpOnly, 'first over HTTP', envs.httpOnly);
  await expectSecondStartRefused(env, gated, envs.httpOnly);
  expect(await recordValue(stack, RECORD)).toBe('127.0.0.2');
});

test('GIVEN only the HTTP API answers WHEN no worker polls the task queue THEN failover says so (exit 3) and starts nothing', async () => {
  const nobody = { ...envs.httpOnly, DRCTL_TASK_QUEUE: `nobody-${randomUUID()}` };
  const run = await drctl(['failover', 'ehr-db', '--reason', 'nobody serves', '--yes'], nobody);
  expect(run.code).toBe(3);
  expect(run.stderr).toContain(`no drctl worker is polling task queue "${nobody.DRCTL_TASK_QUEUE}"`);
});

test('GIVEN an HTTP address that does not answer WHEN an operator plans THEN the plan goes over gRPC', async () => {
  stack = await resetStack();
  const plan = await drctl(['plan', 'ehr-db', '--output', 'json'], envs.deadHttp);
  expect(plan.code).toBe(0);
  expect((JSON.parse(plan.stdout) as PlanResult).ready).toBe(true);
});

test('GIVEN a start whose answer is lost WHEN it is sent again THEN the server returns the run it started, not a second one', async () => {
  const config = loadConfig({ file: stack.configFile });
  const taskQueue = `nobody-${randomUUID()}`;
  const opened = await openHttpRuns(config, taskQueue, { timeoutMs: 2_000 });
  if (opened === undefined) throw new Error('the sandbox config sets temporal.httpAddress');
  const started: string[] = [];
  const losesFirstAnswer: HttpRuns = {
    ...opened.runs,
    http: {
      get: opened.runs.http.get,
      post: async (path, body, options) => {
        const answer = (await opened.runs.http.post(path, body, options)) as { runId: string };
        started.push(answer.runId);
        if (started.length === 1) throw new Error('socket hang up');
        return answer;
      },
    },
  };
  const signer = loadSigner(operatorPaths.keyFile('alice'));
  const start = {
    ...failoverStart(
      taskQueue,
      { runbook: ehrDb, reference: referenceTo(ehrDb) },
      { reason: 'lost answer', signer },
    ),
    workflowId: `lost-answer-${randomUUID()}`,
    // Not a run of ehr-db for `drctl runs` in other tests: nobody serves its queue and it is terminated below.
    typedSearchAttributes: [],
  };
  const runId = await startOverHttp(losesFirstAnswer, start);
  opened.runs.close();

  expect(started).toHaveLength(2);
  expect(started[1]).toBe(started[0]);
  expect(runId).toBe(started[0]);
  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    const client = new Client({ connection, namespace: stack.temporal.namespace });
    const handle = client.workflow.getHandle(start.workflowId);
    expect((await handle.describe()).runId).toBe(runId);
    await handle.terminate('test done');
  } finally {
    await connection.close();
  }
});
