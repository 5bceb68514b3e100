import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createUnleashClientReader } from '../../activities/flags/unleash-client-reader';
import ehrDb from '../../runbooks/examples/ehr-db';
import type { Step } from '../../runbooks/schema';
import { killPostgresPrimary, rebuildPrimaryAsReplica, resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { FailoverProgress, FailoverResult } from '../../workflows/run-types';
import { asOperator, catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { recordValue, sql } from './estate-readers';

/**
 * The operator's commands on the real stack, through the real CLI: a two-person approval gate, abort with
 * rollback, an unreachable primary that needs an approval to go on unfenced, and failback.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `operator-${randomUUID()}`);
  worker = await startWorkerProcess(env);
});

afterAll(async () => {
  await stopProcess(worker);
  await resetStack();
});

const as = (operator: 'alice' | 'bob' | 'carol' | 'dave') => asOperator(env, operator);

/** ehr-db with extra steps inserted after the named ones, reviewed into the worker's catalog as a JSON file. */
function variant(
  id: string,
  inserts: Array<{ after: string; step: Partial<Step> & { id: string; kind: Step['kind'] } }>,
): string {
  const steps: unknown[] = [...ehrDb.steps];
  for (const { after, step } of inserts) {
    steps.splice(steps.findIndex((s) => (s as Step).id === after) + 1, 0, step);
  }
  const file = join(catalogDir(env), `${id}.json`);
  writeFileSync(file, JSON.stringify({ ...ehrDb, id, steps }));
  return file;
}

async function startRun(file: string, operator: 'alice' | 'bob'): Promise<string> {
  const started = await drctl(
    ['failover', file, '--reason', 'operator e2e', '--yes', '--output', 'json'],
    as(operator),
  );
  expect(started.code).toBe(0);
  return (JSON.parse(started.stdout) as { workflowId: string }).workflowId;
}

async function waitUntilAwaiting(workflowId: string, stepId: string): Promise<FailoverProgress> {
  for (;;) {
    const status = JSON.parse(
      (await drctl(['status', workflowId, '--output', 'json'], env)).stdout,
    ) as FailoverProgress;
    if (status.awaiting?.some((a) => a.stepId === stepId)) return status;
    expect(status.status).toMatch(/running|paused/);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function finalResult(workflowId: string): Promise<{ code: number; result: FailoverResult }> {
  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  return { code: followed.code, result: JSON.parse(followed.stdout) as FailoverResult };
}

test('a two-person gate refuses its initiator and accepts a second operator, on record', async () => {
  const workflowId = await startRun(
    variant('ehr-db-two-person', [
      { after: 'preflight', step: { id: 'production-approval', kind: 'approval', twoPerson: true } },
    ]),
    'alice',
  );
  await waitUntilAwaiting(workflowId, 'production-approval');
  const text = await drctl(['status', workflowId], env);
  expect(text.stdout).toContain(`drctl approve ${workflowId} --step production-approval`);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');

  const self = await drctl(['approve', workflowId, '--reason', 'mine'], as('alice'));
  expect(self.code).toBe(4);
  expect(self.stderr).toContain('two-person approval: alice started this run');
  const other = await drctl(['approve', workflowId, '--reason', 'INC-4411 confirmed'], as('bob'));
  expect(other.code).toBe(0);

  const { code, result } = await finalResult(workflowId);
  expect(code).toBe(0);
  expect(result.operatorActions.map((a) => `${a.action}:${a.operator}`)).toEqual([
    'start:alice',
    'approve:bob',
  ]);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
});

test('drctl abort after the DNS switch puts DNS and the flags back and reports what it could not undo', async () => {
  stack = await resetStack();
  const workflowId = await startRun(
    variant('ehr-db-abort', [{ after: 'switch-dns', step: { id: 'hold', kind: 'approval' } }]),
    'alice',
  );
  await waitUntilAwaiting(workflowId, 'hold');
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');

  const aborted = await drctl(['abort', workflowId, '--reason', 'wrong region'], as('alice'));
  expect(aborted.code).toBe(0);
  const { code, result } = await finalResult(workflowId);
  expect(code).toBe(1);
  expect(result.status).toBe('aborted');
  expect(result.rollback?.map((r) => `${r.stepId}:${r.status}`)).toEqual([
    'switch-dns:undone',
    'promote-replica:not undone',
    'fence-primary:not undone',
    'degraded-mode-on:undone',
  ]);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
  const reader = createUnleashClientReader({
    url: stack.unleash.url,
    clientToken: stack.unleash.clientToken,
  });
  expect(await reader.read(['ehr-degraded-mode', 'ehr-read-only-banner'])).toEqual({
    'ehr-degraded-mode': false,
    'ehr-read-only-banner': false,
  });
});

test('with the old primary down the run asks for an approval to go on unfenced, then completes', async () => {
  stack = await resetStack();
  await killPostgresPrimary();
  const workflowId = await startRun(variant('ehr-db-unfenced', []), 'alice');
  const waiting = await waitUntilAwaiting(workflowId, 'fence-primary');
  expect(waiting.awaiting[0]?.prompt).toMatch(/unreachable and could not be fenced/);
  const [replica] = await sql<{ recovering: boolean }>(
    stack.postgres.replicaUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(replica?.recovering).toBe(true);

  expect(
    (await drctl(['approve', workflowId, '--reason', 'us-east-1 host confirmed down'], as('alice'))).code,
  ).toBe(0);
  const { code, result } = await finalResult(workflowId);
  expect(code).toBe(0);
  expect(result.timeline.find((e) => e.stepId === 'fence-primary')?.summary).toMatch(
    /proceeding unfenced, approved by alice/,
  );
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
});

test('drctl failback returns DNS, the primary role and the flags to the original topology', async () => {
  stack = await resetStack();
  const failover = await drctl(
    ['failover', 'ehr-db', '--reason', 'before failback', '--yes', '--follow', '--output', 'json'],
    env,
  );
  expect(failover.code).toBe(0);
  await rebuildPrimaryAsReplica();

  const back = await drctl(
    ['failback', 'ehr-db', '--reason', 'region healthy again', '--yes', '--follow', '--output', 'json'],
    env,
  );
  expect(back.stderr).toBe('');
  expect(back.code).toBe(0);
  expect((JSON.parse(back.stdout) as FailoverResult).runbookId).toBe('ehr-db-failback');
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
  const [original] = await sql<{ recovering: boolean }>(
    stack.postgres.primaryUrl,
    'select pg_is_in_recovery() as recovering',
  );
  expect(original?.recovering).toBe(false);
  const reader = createUnleashClientReader({
    url: stack.unleash.url,
    clientToken: stack.unleash.clientToken,
  });
  expect(await reader.read(['ehr-degraded-mode'])).toEqual({ 'ehr-degraded-mode': false });
});
