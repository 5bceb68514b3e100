import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import ehrDb from '../../runbooks/examples/ehr-db';
import { startFaultProxy, type FaultProxy } from '../../sandbox/fault-proxy';
import { resetStack } from '../../sandbox/stack';
import { strictAwsControl } from '../../sandbox/strict-aws-client';
import type { StackInfo } from '../../sandbox/stack-info';
import type { FailoverProgress, FailoverResult } from '../../workflows/run-types';
import { asOperator, catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { recordValue } from './estate-readers';

/**
 * Failovers through a fault-injecting proxy in front of moto: the worker's `aws.endpoint` is the proxy, which
 * answers a share of AWS calls with throttling, 5xx or a reset connection. The runs must still succeed with
 * exactly one effect per mutating call at the server boundary; a permanent error must fail fast and pause.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let proxy: FaultProxy;

beforeAll(async () => {
  stack = await resetStack();
  proxy = await startFaultProxy({
    target: stack.moto.endpoint,
    faultRate: 0,
    faults: ['throttle', '5xx', 'timeout'],
    seed: 20261127,
  });
  const config = JSON.parse(readFileSync(stack.configFile, 'utf8')) as { aws: { endpoint?: string } };
  config.aws.endpoint = proxy.url;
  const file = join(mkdtempSync(join(tmpdir(), 'drctl-faults-')), 'drctl.config.json');
  writeFileSync(file, JSON.stringify(config));
  env = { ...drctlEnv(stack, `faults-${randomUUID()}`), DRCTL_CONFIG: file };
  worker = await startWorkerProcess(env);
});

beforeEach(async () => {
  stack = await resetStack();
  proxy.setFaultRate(0);
  proxy.setPermanent(undefined);
  proxy.setForced([]);
  proxy.resetStats();
});

afterAll(async () => {
  await stopProcess(worker);
  await proxy?.close();
  await resetStack();
});

function describeRun(result: FailoverProgress): string {
  return result.timeline
    .map((entry) => {
      const failedChecks = (entry.checks ?? []).filter((check) => !check.ok).map((check) => check.message);
      const why = entry.error ? ` ${entry.error.type}: ${entry.error.message}` : '';
      return `${entry.stepId}:${entry.status}:${entry.attempts}${why}${failedChecks.length ? ` [${failedChecks.join('; ')}]` : ''}`;
    })
    .join(', ');
}

test('ehr-db fails over with 20 % of AWS calls faulted, and switches DNS exactly once', async () => {
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
  // Besides 20 % random faults, the change itself is refused once: it must be retried, and land once.
  proxy.setForced([
    { match: (req) => req.operation === 'ChangeResourceRecordSets', kind: 'timeout', times: 1 },
  ]);
  proxy.setFaultRate(0.2);

  const run = await drctl(
    ['failover', 'ehr-db', '--reason', 'x', '--yes', '--follow', '--output', 'json'],
    env,
  );
  proxy.setFaultRate(0);

  const stats = proxy.stats();
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const result = JSON.parse(run.stdout) as FailoverResult;
  expect(`${result.status} (${describeRun(result)})`).toMatch(/^succeeded /);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
  // Faults happened, yet only one change reached moto: retried calls never doubled the effect.
  expect(stats.faulted).toBeGreaterThan(0);
  expect(stats.operations.ChangeResourceRecordSets).toMatchObject({ forwarded: 1, succeeded: 1 });
  expect(stats.operations.ChangeResourceRecordSets?.faulted).toBeGreaterThanOrEqual(1);
  expect(stats.effects).toEqual({ ChangeResourceRecordSets: 1 });
});

test('patient-portal-rds fails over with 20 % of AWS calls faulted: one promotion, one fence (security groups swapped, one reboot), no stop', async () => {
  proxy.setForced([
    { match: (req) => req.operation === 'PromoteReadReplica', kind: 'throttle', times: 1 },
    { match: (req) => req.operation === 'ModifyDBInstance', kind: '5xx', times: 1 },
  ]);
  proxy.setFaultRate(0.2);

  const run = await drctl(
    ['failover', 'patient-portal-rds', '--reason', 'x', '--yes', '--follow', '--output', 'json'],
    env,
  );
  proxy.setFaultRate(0);

  const stats = proxy.stats();
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const result = JSON.parse(run.stdout) as FailoverResult;
  expect(`${result.status} (${describeRun(result)})`).toMatch(/^succeeded /);
  expect(stats.faulted).toBeGreaterThan(0);
  expect(stats.effects).toMatchObject({ PromoteReadReplica: 1, ModifyDBInstance: 1, RebootDBInstance: 1 });
  expect(stats.effects.StopDBInstance).toBeUndefined();
  expect(stats.operations.PromoteReadReplica?.faulted).toBeGreaterThanOrEqual(1);
  expect(stats.operations.ModifyDBInstance?.faulted).toBeGreaterThanOrEqual(1);
});

test('patient-portal-rds fails over when the answers to its promotion, reboot and DNS change are lost after AWS made them: one promotion, one reboot, the DNS change waited for, and the DNS undo the run recorded still the value from before', async () => {
  // The SDK sends each again and AWS refuses it as done (no longer a replica; the swap's DELETE no longer
  // matches): reported as a refusal, the promotion failed the run and the switch lost its undo.
  const portalRecord = 'portal-db.sandbox.drctl.internal.';
  const before = await recordValue(stack, portalRecord);
  // The reboot lasts long enough that the SDK's second RebootDBInstance meets it: refused, as RDS refuses a reboot
  // of an instance rebooting (InvalidDBInstanceState). The fence's retry (1 s later) finds the instance rebooting
  // with only the fence group: that reboot ends the sessions, it sends none.
  const layer = strictAwsControl(stack.moto.controlUrl);
  await layer.update({ rdsRebootMs: 6_000 });
  await layer.resetStats();
  proxy.setForced(
    ['PromoteReadReplica', 'RebootDBInstance', 'ChangeResourceRecordSets'].map((operation) => ({
      match: (req: { operation: string }) => req.operation === operation,
      kind: 'answer-lost' as const,
      times: 1,
    })),
  );

  const run = await drctl(
    ['failover', 'patient-portal-rds', '--reason', 'x', '--yes', '--follow', '--output', 'json'],
    env,
  );

  const stats = proxy.stats();
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const result = JSON.parse(run.stdout) as FailoverResult;
  expect(`${result.status} (${describeRun(result)})`).toMatch(/^succeeded /);
  for (const operation of ['PromoteReadReplica', 'RebootDBInstance', 'ChangeResourceRecordSets'])
    expect(stats.operations[operation]?.faultsByKind['answer-lost']).toBe(1);
  // One promotion, one reboot. Two changes: the swap whose answer was lost, and the retry's UPSERT of the same
  // values, sent to wait for the lost change's INSYNC (Route 53 takes it only once that one is done).
  expect(stats.effects).toMatchObject({
    PromoteReadReplica: 1,
    RebootDBInstance: 1,
    ChangeResourceRecordSets: 2,
  });
  expect((await layer.stats()).operations.RebootDBInstance?.refused).toEqual({ InvalidDBInstanceState: 1 });
  expect(await recordValue(stack, portalRecord)).not.toBe(before);
  // The undo the run recorded is the record as it was before the failover: what an abort would put back.
  const switched = result.timeline.find((entry) => entry.stepId === 'switch-dns');
  expect(switched?.before).toMatchObject({ records: [{ name: portalRecord, values: [before] }] });
});

test('AccessDenied on ChangeResourceRecordSets fails fast, pauses the run with what to do, and abort ends it', async () => {
  proxy.setPermanent({
    match: (req) => req.operation === 'ChangeResourceRecordSets',
    error: 'AccessDenied',
  });
  const steps = ehrDb.steps.map((step) =>
    step.id === 'switch-dns' ? { ...step, onFailure: 'pause' as const } : step,
  );
  const file = join(catalogDir(env), 'ehr-db-denied.json');
  writeFileSync(file, JSON.stringify({ ...ehrDb, id: 'ehr-db-denied', steps }));

  const started = await drctl(['failover', file, '--reason', 'x', '--yes', '--output', 'json'], env);
  expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: '' });
  const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };

  let status: FailoverProgress;
  for (;;) {
    status = JSON.parse(
      (await drctl(['status', workflowId, '--output', 'json'], env)).stdout,
    ) as FailoverProgress;
    if (status.status !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(`${status.status} (${describeRun(status)})`).toMatch(/^paused /);
  const failed = status.timeline.find((entry) => entry.stepId === 'switch-dns');
  expect(failed).toMatchObject({ status: 'paused', attempts: 1, error: { type: 'AccessDenied' } });
  expect(failed?.error?.message).toMatch(/ChangeResourceRecordSets/);
  expect(failed?.error?.message).toMatch(/credentials|permission/i);
  // Refused once, not retried: the SDK does not retry a 403 and the activity treats it as permanent.
  expect(proxy.stats().operations.ChangeResourceRecordSets).toMatchObject({ faulted: 1, succeeded: 0 });

  const text = await drctl(['status', workflowId], env);
  expect(text.stdout).toMatch(/switch-dns/);
  expect(text.stdout).toMatch(/AccessDenied/);
  expect(text.stdout).toMatch(/credentials|permission/i);
  expect(text.stdout).toContain(`drctl retry ${workflowId}`);

  const decided = await drctl(['decide', workflowId, 'switch-dns', 'abort', '--reason', 'test'], env);
  expect({ code: decided.code, stderr: decided.stderr }).toEqual({ code: 0, stderr: '' });
  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  const result = JSON.parse(followed.stdout) as FailoverProgress;
  // An operator's abort after the promotion: nothing moves traffic back to the old primary or re-opens it, and
  // the flags stay as the run left them (the runbook does not say rollbackAfterPromotion: restore).
  expect(result.status).toBe('aborted');
  expect(result.rollback?.map((entry) => `${entry.stepId}:${entry.status}`)).toEqual([
    'switch-dns:kept',
    'promote-replica:not undone',
    'fence-primary:kept',
    'degraded-mode-on:kept',
  ]);
  expect(followed.code).toBe(1);
  expect(JSON.stringify(result.timeline.find((entry) => entry.stepId === 'switch-dns'))).toMatch(
    /AccessDenied/,
  );
  expect(result.timeline.some((entry) => entry.stepId === 'probe-writes')).toBe(false);
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.2');
  expect(proxy.stats().effects.ChangeResourceRecordSets).toBeUndefined();
});

test('after the permission is fixed, drctl retry runs the paused step again and the run completes, the change made once', async () => {
  proxy.setPermanent({ match: (req) => req.operation === 'ChangeResourceRecordSets', error: 'AccessDenied' });
  const steps = ehrDb.steps.map((step) =>
    step.id === 'switch-dns' ? { ...step, onFailure: 'pause' as const } : step,
  );
  const file = join(catalogDir(env), 'ehr-db-denied-then-fixed.json');
  writeFileSync(file, JSON.stringify({ ...ehrDb, id: 'ehr-db-denied-then-fixed', steps }));
  const started = await drctl(['failover', file, '--reason', 'x', '--yes', '--output', 'json'], env);
  const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
  for (;;) {
    const status = JSON.parse(
      (await drctl(['status', workflowId, '--output', 'json'], env)).stdout,
    ) as FailoverProgress;
    if (status.status === 'paused') break;
    expect(status.status).toBe('running');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  proxy.setPermanent(undefined);
  const retried = await drctl(['retry', workflowId, '--reason', 'IAM policy fixed'], asOperator(env, 'bob'));
  expect({ code: retried.code, stderr: retried.stderr }).toEqual({ code: 0, stderr: '' });
  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  expect(followed.code).toBe(0);
  const result = JSON.parse(followed.stdout) as FailoverResult;
  expect(
    result.timeline.filter((entry) => entry.stepId === 'switch-dns').map((entry) => entry.status),
  ).toEqual(['failed', 'succeeded']);
  expect(result.operatorActions.at(-1)).toMatchObject({
    action: 'retry',
    operator: 'bob',
    reason: 'IAM policy fixed',
  });
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');
  expect(proxy.stats().effects.ChangeResourceRecordSets).toBe(1);
});
