import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createUnleashClientReader } from '../../activities/flags/unleash-client-reader';
import ehrDb from '../../runbooks/examples/ehr-db';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { FailoverResult, PlanResult } from '../../workflows/run-types';
import { catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { expectSecondStartRefused, startGatedFailover } from './gated-failover';
import { recordValue, sql, walTimeline } from './estate-readers';

/**
 * `drctl failover ehr-db` on the real local stack, through the real CLI and a real worker process, asserting
 * the effects on the servers themselves: the replica is a writable primary, the old primary refuses writes,
 * the Route 53 record points at the new primary, the flags are on for a real Unleash client.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `e2e-${randomUUID()}`);
  worker = await startWorkerProcess(env);
});

afterAll(async () => {
  await stopProcess(worker);
  await resetStack();
});

test('drctl failover ehr-db fails over the real stack', async () => {
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');

  const run = await drctl(
    ['failover', 'ehr-db', '--reason', 'e2e INC-0001', '--yes', '--follow', '--output', 'json'],
    env,
  );
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const result = JSON.parse(run.stdout) as FailoverResult;
  expect(result.status).toBe('succeeded');
  expect(result.timeline.map((entry) => `${entry.stepId}:${entry.status}`)).toEqual([
    'preflight:succeeded',
    'degraded-mode-on:succeeded',
    'verify-backups:succeeded',
    'fence-primary:succeeded',
    'promote-replica:succeeded',
    'switch-dns:succeeded',
    'probe-writes:succeeded',
  ]);
  // Pre-flight is reads of every target: its provider time is the slowest read's, and every check carries its own.
  const preflight = result.timeline.find((entry) => entry.stepId === 'preflight');
  expect(preflight?.providerMs).toBeGreaterThan(0);
  expect(preflight?.checks?.every((check) => (check.providerMs ?? 0) > 0)).toBe(true);

  const [replica] = await sql<{ recovering: boolean }>(
    stack.postgres.replicaUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(replica?.recovering).toBe(false);
  await sql(stack.postgres.replicaUrl, "insert into drctl_probe(run_id) values ('e2e-after-failover')");
  const [primary] = await sql<{ readOnly: string }>(
    stack.postgres.primaryUrl,
    'show default_transaction_read_only',
  );
  expect(Object.values(primary!)[0]).toBe('on');
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');

  const reader = createUnleashClientReader({
    url: stack.unleash.url,
    clientToken: stack.unleash.clientToken,
  });
  expect(await reader.read(['ehr-degraded-mode', 'ehr-read-only-banner'])).toEqual({
    'ehr-degraded-mode': true,
    'ehr-read-only-banner': true,
  });
  const probeRows = await sql<{ n: string }>(
    stack.postgres.replicaUrl,
    `select count(*) as n from drctl_probe where run_id like '${result.workflowId}/%'`,
  );
  expect(Number(probeRows[0]?.n)).toBe(1);
});

test('a worker killed mid-failover is replaced and the run completes without repeating an effect', async () => {
  stack = await resetStack();
  const timelineBefore = await walTimeline(stack.postgres.primaryUrl);
  // The ehr-db runbook with a pause after the promotion, so the kill lands while the run is half done.
  const steps = [...ehrDb.steps];
  steps.splice(steps.findIndex((step) => step.id === 'promote-replica') + 1, 0, {
    id: 'hold',
    kind: 'wait',
    // Long enough that a status poll through the CLI sees it running even on a loaded machine.
    duration: '20s',
    timeout: '5m',
    retry: { maximumAttempts: 1, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1s' },
    onFailure: 'abort',
  });
  const file = join(catalogDir(env), 'ehr-db-hold.json');
  writeFileSync(file, JSON.stringify({ ...ehrDb, id: 'ehr-db-hold', steps }));

  const started = await drctl(
    ['failover', file, '--reason', 'e2e worker crash', '--yes', '--output', 'json'],
    env,
  );
  expect(started.code).toBe(0);
  const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };

  for (;;) {
    const status = JSON.parse(
      (await drctl(['status', workflowId, '--output', 'json'], env)).stdout,
    ) as FailoverResult;
    if (status.timeline.some((entry) => entry.stepId === 'hold' && entry.status === 'running')) break;
    expect(status.status).toBe('running');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stopProcess(worker, 'SIGKILL');
  worker = await startWorkerProcess(env);

  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  expect(followed.code).toBe(0);
  const result = JSON.parse(followed.stdout) as FailoverResult;
  expect(result.status).toBe('succeeded');
  // Each step ran exactly once: the new worker replayed the history instead of redoing the finished steps.
  const ids = result.timeline.map((entry) => entry.stepId);
  expect(new Set(ids).size).toBe(ids.length);
  expect(result.timeline.find((entry) => entry.stepId === 'promote-replica')).toMatchObject({
    changed: true,
    attempts: 1,
  });
  expect(await walTimeline(stack.postgres.replicaUrl)).toBe(timelineBefore + 1);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
  const probeRows = await sql<{ n: string }>(
    stack.postgres.replicaUrl,
    `select count(*) as n from drctl_probe where run_id like '${workflowId}/%'`,
  );
  expect(Number(probeRows[0]?.n)).toBe(1);
});

test('bad credentials on the worker show up in the plan as failed checks that say what to fix', async () => {
  const config = JSON.parse(readFileSync(stack.configFile, 'utf8')) as {
    unleash: { adminToken: string };
    postgres: { connections: Record<string, string> };
  };
  config.unleash.adminToken = '*:*.not-the-token';
  config.postgres.connections['ehr-replica'] = stack.postgres.replicaUrl.replace(
    /:[^:@/]+@/,
    ':wrong-password@',
  );
  const file = join(mkdtempSync(join(tmpdir(), 'drctl-badcreds-')), 'drctl.config.json');
  writeFileSync(file, JSON.stringify(config));
  const badEnv = { ...drctlEnv(stack, `badcreds-${randomUUID()}`), DRCTL_CONFIG: file };
  const badWorker = await startWorkerProcess(badEnv);
  try {
    const plan = await drctl(['plan', 'ehr-db', '--output', 'json'], badEnv);
    expect(plan.code).toBe(1);
    const result = JSON.parse(plan.stdout) as PlanResult;
    expect(result.ready).toBe(false);
    const failed = result.steps.flatMap((step) => step.checks).filter((check) => !check.ok);
    expect(failed.map((check) => check.message).join('\n')).toMatch(/UNLEASH_ADMIN_TOKEN/);
    expect(failed.map((check) => check.message).join('\n')).toMatch(/password|DRCTL_PG_EHR_REPLICA_URL/i);
    expect(plan.stderr).not.toMatch(/\n\s+at /);
  } finally {
    await stopProcess(badWorker);
  }
});

test('a second start while a failover of the same runbook runs is refused, not doubled', async () => {
  stack = await resetStack();
  const gated = await startGatedFailover(env, 'e2e first');
  await expectSecondStartRefused(env, gated);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
});
