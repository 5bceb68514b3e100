import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import type { FailoverResult } from '../../workflows/run-types';
import { asOperator, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { startGatedFailover } from './gated-failover';
import { recordValue } from './estate-readers';
import { transportEnvs, withTemporalConfig } from './temporal-transports';

/**
 * `drctl status` of a failover reads it over Temporal's HTTP API when `temporal.httpAddress` is set. Shown on the
 * real stack: with the gRPC address pointing at a closed port, status still answers (so it read over HTTP), and
 * its output — text and JSON, for a run waiting at a gate, one that succeeded and one that failed — is exactly
 * what the gRPC path prints for the same run.
 */
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let grpcOnly: NodeJS.ProcessEnv;
let httpOnly: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `status-http-${randomUUID()}`);
  ({ grpcOnly, httpOnly } = await transportEnvs(stack, env));
  worker = await startWorkerProcess(env);
});

afterAll(async () => {
  await stopProcess(worker);
  await resetStack();
});

/** Status of `workflowId` read both ways, text and JSON: each must answer, and say the same. */
async function expectSameBothWays(workflowId: string): Promise<FailoverResult> {
  let json: FailoverResult | undefined;
  for (const output of ['text', 'json']) {
    const overHttp = await drctl(['status', workflowId, '--output', output], httpOnly);
    const overGrpc = await drctl(['status', workflowId, '--output', output], grpcOnly);
    expect(overHttp.stderr).toBe('');
    expect({ code: overHttp.code, stdout: overHttp.stdout }).toEqual({
      code: overGrpc.code,
      stdout: overGrpc.stdout,
    });
    if (output === 'json') json = JSON.parse(overHttp.stdout) as FailoverResult;
  }
  return json!;
}

test('GIVEN an HTTP address WHEN a failover waits at a gate, succeeds, or fails THEN status reads it over HTTP and says what gRPC says', async () => {
  const { workflowId, file } = await startGatedFailover(env, 'status over HTTP', grpcOnly);

  const waiting = await expectSameBothWays(workflowId);
  expect(waiting).toMatchObject({ status: 'paused', awaiting: [{ stepId: 'go-ahead' }] });

  const approved = await drctl(
    ['approve', workflowId, '--step', 'go-ahead', '--reason', 'go'],
    asOperator(env, 'bob'),
  );
  expect(approved.code).toBe(0);
  const ended = await drctl(['status', workflowId, '--follow', '--output', 'json'], grpcOnly);
  expect((JSON.parse(ended.stdout) as FailoverResult).status).toBe('succeeded');
  expect(await recordValue(stack, 'ehr-db.sandbox.drctl.internal.')).toBe('127.0.0.3');

  const succeeded = await expectSameBothWays(workflowId);
  expect(succeeded.status).toBe('succeeded');
  expect(succeeded.timeline.find((entry) => entry.stepId === 'promote-replica')).toMatchObject({
    mutates: true,
  });

  // The replica is the primary now: a second failover fails its pre-flight, and its failure carries the timeline.
  const again = await drctl(['failover', file, '--reason', 'fails pre-flight', '--yes', '--follow'], env);
  expect(again.code).toBe(1);
  const failed = await expectSameBothWays(workflowId);
  expect(failed.status).toBe('failed');
  expect(failed.timeline.map((entry) => `${entry.stepId}:${entry.status}`)).toEqual(['preflight:failed']);
});

test('GIVEN neither address answers WHEN status is asked THEN it says Temporal is unreachable (exit 3)', async () => {
  const down = withTemporalConfig(stack, env, (temporal) => {
    temporal.address = '127.0.0.1:1';
    temporal.httpAddress = '127.0.0.1:1';
  });
  const status = await drctl(['status', 'failover-ehr-db-gated'], down);
  expect(status.code).toBe(3);
  expect(status.stderr).toContain('cannot reach Temporal at 127.0.0.1:1');
});
